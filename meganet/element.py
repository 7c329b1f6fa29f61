"""The element protocol shared by every kernel, layer, block and network.

An element maps features ``Y`` (examples along the first axis, shape
``(N, *sizeFeatIn())``) and weights ``theta`` (one flat 1-D array of length
``nTheta()``) to output features ``Z = f(theta, Y)`` of shape ``(N, *sizeFeatOut())``
and provides hand-written derivative products::

    Z, tmp = el.forwardProp(theta, Y)          # tmp: intermediates for the derivatives
    dZ  = el.Jthetamv(dtheta, theta, Y, tmp)   # J_theta dtheta
    dZ  = el.JYmv(dY, theta, Y, tmp)           # J_Y dY
    dZ  = el.Jmv(dtheta, dY, theta, Y, tmp)    # J_theta dtheta + J_Y dY
    dth = el.JthetaTmv(W, theta, Y, tmp)       # J_theta^T W (summed over examples)
    dY  = el.JYTmv(W, theta, Y, tmp)           # J_Y^T W
    dth, dY = el.JTmv(W, theta, Y, tmp)        # both in one sweep (backprop)

``tmp`` may always be ``None``: the element then recomputes what it needs.
``JthetaTmv(..., reduceDim=False)`` returns per-example gradients of shape
``(N, nTheta)`` whose sum over the first axis is the reduced gradient.

Defaults, as in Meganet.m's abstractMeganetElement: ``Jthetamv``/``JYmv`` call ``Jmv``
with the other direction omitted, ``Jmv`` sums ``Jthetamv`` and ``JYmv``; ``JthetaTmv``
/``JYTmv`` take one output of ``JTmv`` and ``JTmv`` calls both transposes. A subclass
must therefore implement ``Jmv`` or both of ``Jthetamv``/``JYmv``, and ``JTmv`` or both
of ``JthetaTmv``/``JYTmv``.

Validation happens once, at the boundary: every protocol method a subclass defines is
wrapped so that, when called from user code (not from another protocol call), its array
arguments are checked on entry (array type for the backend, dtype for the precision,
shape against ``nTheta``/``sizeFeatIn``/``sizeFeatOut``, finite ``theta`` in
``forwardProp``); a mismatch raises ``TypeError``/``ValueError`` naming what was
expected and what was given. Calls from an element into its children (and between an
element's own protocol methods) are not validated again. :func:`meganet.setValidation`
and the context manager :func:`meganet.validation` turn the checks off.

``forwardProp(theta, Y, doDerivative=True, storeInterm=None)``: ``storeInterm`` asks the
element to keep (True) or not keep (False) its intermediates in ``tmp``; ``None`` leaves
the element's default. Elements without such a choice ignore it (a subclass need not
declare the keyword: the wrapper drops it for a ``forwardProp`` that does not take it).
"""
import functools
import inspect
import warnings

import numpy

from .backend import BackendMixin, asArray, checkPrecision, checkUseGPU, getArrayModule, isDeviceArray
from .columnMajor import matlabVector
from .validation import (checkBackendArray, checkFeatures, enterProtocolCall, exitProtocolCall,
                         fmtShape)

__all__ = ["AbstractMeganetElement"]

# argument name -> what it must look like
_THETA_ARGS = ("theta", "dtheta")
_IN_ARGS = ("Y", "dY")
_OUT_ARGS = ("W", "Z", "dZ")
_PROTOCOL = ("forwardProp", "Jthetamv", "JYmv", "Jmv", "JthetaTmv", "JYTmv", "JTmv",
             "Amv", "ATmv", "inverse")


def _validated(fn, methodName):
    """``fn`` wrapped so that it validates its array arguments when called from user code."""
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters if p != "self"]
    names = [p for p in params if p in _THETA_ARGS + _IN_ARGS + _OUT_ARGS]
    positions = {p: i for i, p in enumerate(params)}
    nullable = methodName == "Jmv"  # Jmv accepts None for dtheta or dY
    dropStoreInterm = methodName == "forwardProp" and "storeInterm" not in sig.parameters and not any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if dropStoreInterm:
            kwargs.pop("storeInterm", None)
        boundary = enterProtocolCall()
        try:
            if boundary and names:
                vals = {}
                for p in names:
                    i = positions[p]
                    if i < len(args):
                        vals[p] = args[i]
                    elif p in kwargs:
                        vals[p] = kwargs[p]
                self._validateArgs(methodName, vals, nullable)
            return fn(self, *args, **kwargs)
        finally:
            exitProtocolCall()

    wrapper.__wrapped_protocol__ = True
    return wrapper


def _ignoringOptions(init, owner, ignored):
    """``init`` accepting the options of ``ignored`` (name -> why Meganet.m ignores it) with a
    warning that names them, instead of a ``TypeError``."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        given = [k for k in ignored if k in kwargs]
        if given and type(self).__init__ is wrapper:   # once, for the class that declares them
            warnings.warn(f"{owner}: Meganet.m's option(s) {', '.join(repr(k) for k in given)} "
                          f"are ignored (as Meganet.m ignores them: "
                          f"{'; '.join(ignored[k] for k in given)})", UserWarning, stacklevel=2)
        for k in given:
            del kwargs[k]
        init(self, *args, **kwargs)

    return wrapper


class AbstractMeganetElement(BackendMixin):
    """Base class of all meganet elements (Meganet.m's ``abstractMeganetElement``).

    Parameters
    ----------
    useGPU : bool
        Compute on the device array module (CuPy) instead of NumPy.
    precision : {'single', 'double'}
        Floating point precision of weights and features.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _PROTOCOL:
            fn = cls.__dict__.get(name)
            if fn is not None and callable(fn) and not getattr(fn, "__wrapped_protocol__", False):
                setattr(cls, name, _validated(fn, name))
        ignored = cls.__dict__.get("ignoredMatlabOptions")
        if ignored:
            cls.__init__ = _ignoringOptions(cls.__init__, cls.__name__, ignored)

    #: Options Meganet.m's constructor parses but never uses (its drivers pass some of them):
    #: name -> why it has no effect. A subclass listing them accepts them with a warning.
    ignoredMatlabOptions = {}

    def __init__(self, useGPU=False, precision="double"):
        self._useGPU = checkUseGPU(useGPU)
        self._precision = checkPrecision(precision)
        self._xp = getArrayModule(self._useGPU)

    # ------------------------------------------------------------------ backend
    @property
    def xp(self):
        """The array module (numpy or the device module)."""
        return self._xp

    def _onBackendChange(self):
        self._xp = getArrayModule(self._useGPU)
        self._propagateBackend()

    def _propagateBackend(self):
        """Push useGPU/precision to children and move the element's own arrays."""
        self._pushBackend()
        for key, val in list(vars(self).items()):
            if isinstance(val, numpy.ndarray) or isDeviceArray(val):
                object.__setattr__(self, key, self._moveArray(val))

    def _moveArray(self, a):
        if a.dtype.kind == "f":
            return asArray(a, useGPU=self._useGPU, precision=self._precision)
        if self._useGPU:
            return self._xp.asarray(a)
        return numpy.asarray(a.get() if isDeviceArray(a) else a)

    def asArray(self, x):
        """``x`` as an array of this element's backend and precision (explicit transfer)."""
        return asArray(x, useGPU=self._useGPU, precision=self._precision)

    # ------------------------------------------------------------------ sizes
    def nTheta(self):
        """Number of weights, i.e. ``theta.size``."""
        raise NotImplementedError(f"{type(self).__name__} must provide nTheta()")

    def sizeFeatIn(self):
        """Shape of one input example (a tuple, e.g. ``(H, W, C)`` or ``(n,)``)."""
        raise NotImplementedError(f"{type(self).__name__} must provide sizeFeatIn()")

    def sizeFeatOut(self):
        """Shape of one output example."""
        raise NotImplementedError(f"{type(self).__name__} must provide sizeFeatOut()")

    def numelFeatIn(self):
        """Number of input features per example."""
        return int(numpy.prod(self.sizeFeatIn()))

    def numelFeatOut(self):
        """Number of output features per example."""
        return int(numpy.prod(self.sizeFeatOut()))

    def initTheta(self, rng=None):
        """Initial weights (flat 1-D array); ``rng`` is a seed or ``numpy.random.Generator``."""
        raise NotImplementedError(f"{type(self).__name__} must provide initTheta()")

    def split(self, theta):
        """Views of ``theta`` for the element's parts, in Meganet.m's order (no copies).

        One meaning throughout: the parts are what the weights are made of, one view per
        part, in the order of ``theta``. Layers: one 1-D view per role (kernels, biases,
        normalization layers). ``NN``/``Meganet``: one view per element. Blocks stepping
        one layer (``ResNN``, ``ResNNrk4``, ``LeapFrogNN``): one 1-D view per time
        coefficient (the layer's weights at that time point for the identity basis).
        Blocks with several roles per step (``HamiltonianNN``: kernel and bias;
        ``DoubleHamiltonianNN``: layer1 and layer2): one view per role, 2-D with one row
        per time coefficient (Meganet.m's ``split`` of these blocks).
        """
        return (theta,)

    # ------------------------------------------------------------------ forward
    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """Return ``(Z, tmp)`` with ``Z = f(theta, Y)``.

        ``doDerivative=False`` may return ``tmp = None``; ``storeInterm`` asks to keep
        (True) or drop (False) the intermediates in ``tmp`` (None: the element's default).
        """
        raise NotImplementedError(f"{type(self).__name__} must provide forwardProp()")

    # ------------------------------------------------------------------ J products
    def Jthetamv(self, dtheta, theta, Y, tmp=None):
        """``J_theta(theta, Y) dtheta``, shape ``(N, *sizeFeatOut())``."""
        self._requireOverride("Jmv", ("Jthetamv", "JYmv"))
        return self.Jmv(dtheta, None, theta, Y, tmp)

    def JYmv(self, dY, theta, Y, tmp=None):
        """``J_Y(theta, Y) dY``, shape ``(N, *sizeFeatOut())``."""
        self._requireOverride("Jmv", ("Jthetamv", "JYmv"))
        return self.Jmv(None, dY, theta, Y, tmp)

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        """``J_theta dtheta + J_Y dY``; either direction may be ``None``."""
        self._requireOverride(("Jthetamv", "JYmv"), "Jmv")
        dZ = None
        if dtheta is not None:
            dZ = self.Jthetamv(dtheta, theta, Y, tmp)
        if dY is not None:
            dZY = self.JYmv(dY, theta, Y, tmp)
            dZ = dZY if dZ is None else dZ + dZY
        if dZ is None:
            dZ = self._xp.zeros((Y.shape[0],) + tuple(self.sizeFeatOut()), dtype=self.dtype)
        return dZ

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        """``J_theta^T W``: shape ``(nTheta,)``, or ``(N, nTheta)`` if not ``reduceDim``."""
        self._requireOverride("JTmv", ("JthetaTmv", "JYTmv"))
        return self.JTmv(W, theta, Y, tmp, doDerivative=(True, False), reduceDim=reduceDim)[0]

    def JYTmv(self, W, theta, Y, tmp=None):
        """``J_Y^T W``, shape ``(N, *sizeFeatIn())``."""
        self._requireOverride("JTmv", ("JthetaTmv", "JYTmv"))
        return self.JTmv(W, theta, Y, tmp, doDerivative=(False, True))[1]

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        """``(J_theta^T W, J_Y^T W)``; an entry is ``None`` if its flag is False."""
        self._requireOverride(("JthetaTmv", "JYTmv"), "JTmv")
        dth = self.JthetaTmv(W, theta, Y, tmp, reduceDim=reduceDim) if doDerivative[0] else None
        dY = self.JYTmv(W, theta, Y, tmp) if doDerivative[1] else None
        return dth, dY

    def _requireOverride(self, needed, fallback):
        """Avoid infinite recursion between the default implementations."""
        cls = type(self)
        needed = (needed,) if isinstance(needed, str) else needed
        if all(getattr(cls, n) is getattr(AbstractMeganetElement, n) for n in needed):
            names = set(needed) | ({fallback} if isinstance(fallback, str) else set(fallback))
            pair = ("Jmv", "Jthetamv", "JYmv") if "Jmv" in names else ("JTmv", "JthetaTmv", "JYTmv")
            raise NotImplementedError(
                f"{cls.__name__} must implement {pair[0]}, or both {pair[1]} and {pair[2]}")

    # ------------------------------------------------------------------ operators
    def getJthetaOp(self, theta, Y, tmp=None):
        """``J_theta`` at ``(theta, Y)`` as a :class:`~meganet.linops.LinearOperator`."""
        from .linops.linearOperator import LinearOperator
        m = (Y.shape[0],) + tuple(self.sizeFeatOut())
        return LinearOperator(m, (self.nTheta(),),
                              lambda v: self.Jthetamv(v, theta, Y, tmp),
                              lambda w: self.JthetaTmv(w, theta, Y, tmp),
                              useGPU=self.useGPU, precision=self.precision)

    def getJYOp(self, theta, Y, tmp=None):
        """``J_Y`` at ``(theta, Y)`` as a LinearOperator on arrays shaped like ``Y``."""
        from .linops.linearOperator import LinearOperator
        m = (Y.shape[0],) + tuple(self.sizeFeatOut())
        return LinearOperator(m, tuple(Y.shape),
                              lambda v: self.JYmv(v, theta, Y, tmp),
                              lambda w: self.JYTmv(w, theta, Y, tmp),
                              useGPU=self.useGPU, precision=self.precision)

    def getJOp(self, theta, Y, tmp=None):
        """``[J_theta, J_Y]`` on the flat vector ``[dtheta; dY.ravel()]``."""
        from .linops.linearOperator import LinearOperator
        nth = self.nTheta()
        m = (Y.shape[0],) + tuple(self.sizeFeatOut())

        def Amv(x):
            return self.Jmv(x[:nth], x[nth:].reshape(Y.shape), theta, Y, tmp)

        def ATmv(w):
            dth, dY = self.JTmv(w, theta, Y, tmp)
            return self._xp.concatenate([dth, dY.ravel()])

        return LinearOperator(m, (nth + Y.size,), Amv, ATmv,
                              useGPU=self.useGPU, precision=self.precision)

    def linearizeTheta(self, theta, Y):
        """Return ``(Z, J_theta)`` (forward propagation and its theta-Jacobian operator)."""
        Z, tmp = self.forwardProp(theta, Y)
        return Z, self.getJthetaOp(theta, Y, tmp)

    def linearizeY(self, theta, Y):
        """Return ``(Z, J_Y)``."""
        Z, tmp = self.forwardProp(theta, Y)
        return Z, self.getJYOp(theta, Y, tmp)

    # ------------------------------------------------------------------ multilevel hooks
    def prolongateWeights(self, theta):
        """Weights for a finer time discretisation; identity for elements without time."""
        return theta

    def restrictConvStencils(self, theta):
        """Weights for a coarser image resolution; identity if the element has no stencils."""
        return theta

    def prolongateConvStencils(self, theta):
        """Weights for a finer image resolution; identity if the element has no stencils."""
        return theta

    # ------------------------------------------------------------------ state outside theta
    #: names of the array attributes that hold state outside theta (e.g. running statistics)
    stateAttributes = ()

    def getState(self):
        """State of the element and its children that is not in ``theta``.

        Elements with such state (e.g. the running statistics of
        :class:`~meganet.layers.BatchNormLayer2`) name its array attributes in
        ``stateAttributes``; composites (layers, blocks, networks) collect the state of
        the elements among their attributes (also inside lists and tuples), keyed by the
        path to them.

        Returns
        -------
        dict
            ``path -> array`` (copies on the element's backend), e.g.
            ``{'blocks[0].layer.normLayer1.runningMean': array of shape (C,)}``; empty
            for elements without state.
        """
        return {path: self._xp.array(getattr(el, name), copy=True)
                for path, el, name in _stateEntries(self)}

    def setState(self, state):
        """Restore what :meth:`getState` returned (on this element's backend and precision).

        Raises ``ValueError`` naming the entries that are missing, unknown or of another
        shape.
        """
        if not isinstance(state, dict):
            raise TypeError(f"{type(self).__name__}.setState: state must be a dict as returned "
                            f"by getState(); got {type(state).__name__}")
        entries = {path: (el, name) for path, el, name in _stateEntries(self)}
        missing = sorted(set(entries) - set(state))
        unknown = sorted(set(state) - set(entries))
        if missing or unknown:
            raise ValueError(f"{type(self).__name__}.setState: the state does not fit this "
                             f"element: missing {missing}, unknown {unknown}")
        for path, (el, name) in entries.items():
            old = getattr(el, name)
            if tuple(state[path].shape) != tuple(old.shape):
                raise ValueError(f"{type(self).__name__}.setState: {path} must have shape "
                                 f"{fmtShape(old.shape)}; got {fmtShape(state[path].shape)}")
        for path, (el, name) in entries.items():
            setattr(el, name, el._moveArray(state[path]))

    # ------------------------------------------------------------------ validation
    def _validateArgs(self, methodName, vals, nullable=False):
        cls = type(self).__name__
        where = f"{cls}.{methodName}"
        N = None
        for name in ("Y", "dY", "W", "Z", "dZ"):
            v = vals.get(name)
            if v is not None and hasattr(v, "shape") and len(v.shape) > 0:
                N = v.shape[0]
                break
        for name, v in vals.items():
            if v is None and (nullable and name in ("dtheta", "dY")):
                continue
            if name in _THETA_ARGS:
                checkBackendArray(where, name, v, self)
                nth = self.nTheta()
                if v.ndim != 1 or v.shape[0] != nth:
                    raise ValueError(
                        f"{where}: {name} must be a flat 1-D array of length nTheta={nth}; "
                        f"got shape {fmtShape(v.shape)}")
                if name == "theta" and methodName == "forwardProp" and v.size:
                    if not bool(self._xp.isfinite(v).all()):
                        raise ValueError(f"{where}: theta contains non-finite values (NaN or Inf)")
            elif name in _IN_ARGS:
                checkFeatures(where, name, v, self, self.sizeFeatIn(), N, "sizeFeatIn")
            else:
                checkFeatures(where, name, v, self, self.sizeFeatOut(), N, "sizeFeatOut")

    def __repr__(self):
        return (f"{type(self).__name__}(sizeFeatIn={tuple(self.sizeFeatIn())}, "
                f"sizeFeatOut={tuple(self.sizeFeatOut())}, nTheta={self.nTheta()}, "
                f"useGPU={self._useGPU}, precision={self._precision!r})")

    # ------------------------------------------------------------------ Meganet.m layout
    def nThetaMatlab(self):
        """Number of weights of the same element in Meganet.m (``numel(theta)`` there).

        Equals :meth:`nTheta` except where Meganet.m parameterises a part differently
        (``getDenseAntiSym``: ``n (n - 1)`` weights there, ``n^2`` here).
        """
        parts = self._matlabParts()
        if parts is None:
            return self.nTheta()
        return sum(n if el is None else el.nThetaMatlab() for el, n in parts)

    def thetaFromMatlab(self, theta_m):
        """Weights in this element's order from Meganet.m's ``theta(:)`` of the same element.

        Parameters
        ----------
        theta_m : array, shape (nThetaMatlab(),), (nThetaMatlab(), 1) or (1, nThetaMatlab())
            The column vector Meganet.m holds for the element built with the same arguments.

        Returns
        -------
        array, shape (nTheta(),)
            On the element's backend, in its precision.

        Raises
        ------
        ValueError
            ``theta_m`` is not a vector of length ``nThetaMatlab()``.

        See docs/porting.md ("Converting weights and features") for the rules: kernels are
        reordered from column-major, composites convert part by part, vectors of scalars
        (biases, normalization weights) are kept.
        """
        th = matlabVector(f"{type(self).__name__}.thetaFromMatlab", "theta_m", theta_m,
                          self.nThetaMatlab())
        return self._thetaFromMatlab(self.asArray(th))

    def thetaToMatlab(self, theta):
        """Meganet.m's ``theta(:)`` for the same element; the inverse of :meth:`thetaFromMatlab`.

        Parameters
        ----------
        theta : array, shape (nTheta(),) (or an (n, 1) / (1, n) vector)

        Returns
        -------
        array, shape (nThetaMatlab(),)
            On the element's backend, in its precision (``meganet.toHost`` copies it to NumPy).
        """
        th = matlabVector(f"{type(self).__name__}.thetaToMatlab", "theta", theta, self.nTheta())
        return self._thetaToMatlab(self.asArray(th))

    def _matlabParts(self):
        """Consecutive parts of ``theta`` for the layout conversion, or None (same layout).

        A list of ``(child, n)``: ``child`` an element converting its ``n`` weights (``n`` its
        ``nTheta()``), or None for ``n`` weights whose order is the same in Meganet.m (biases,
        per-channel scales).
        """
        return None

    def _convertParts(self, th, toMatlab):
        parts = self._matlabParts()
        if parts is None:
            return th.copy()
        out, pos = [], 0
        for el, n in parts:
            m = n if el is None else (n if toMatlab else el.nThetaMatlab())
            seg = th[pos:pos + m]
            pos += m
            if el is not None:
                seg = el._thetaToMatlab(seg) if toMatlab else el._thetaFromMatlab(seg)
            out.append(seg)
        if not out:
            return th.copy()
        return self.xp.concatenate(out)

    def _thetaFromMatlab(self, th):
        """Conversion of a validated flat ``th`` (Meganet.m's order) to ours."""
        return self._convertParts(th, False)

    def _thetaToMatlab(self, th):
        """Conversion of a validated flat ``th`` (our order) to Meganet.m's."""
        return self._convertParts(th, True)


def _stateEntries(root):
    """``(path, element, attribute)`` of every state array in the tree under ``root``."""
    out, seen = [], set()

    def visit(el, prefix):
        if id(el) in seen:
            return
        seen.add(id(el))
        for name in type(el).stateAttributes:
            out.append((f"{prefix}{name}", el, name))
        for key, val in vars(el).items():
            if isinstance(val, AbstractMeganetElement):
                visit(val, f"{prefix}{key}.")
            elif isinstance(val, (list, tuple)):
                for i, v in enumerate(val):
                    if isinstance(v, AbstractMeganetElement):
                        visit(v, f"{prefix}{key}[{i}].")
    visit(root, "")
    return out
