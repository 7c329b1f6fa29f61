"""Composition of elements, shared by :class:`NN` and :class:`Meganet`."""
import numpy

from ..element import AbstractMeganetElement
from ..backend import resolveBackend
from ..validation import checkElement
from .timeSteppingBlock import LayerStep

__all__ = []

STORE_INPUTS = ("needed", "all")


def readsInput(el, product):
    """Whether ``el``'s derivative ``product`` (``'JTmv'`` or ``'Jmv'``), given the ``tmp``
    of ``el.forwardProp``, reads the values of the input ``Y`` (not only its shape).

    Elements answer through a method ``readsInput(product)`` (:class:`.Connector`, the
    chains); a reversible time-stepping block (``reversible = True``) recomputes its
    states backwards from ``tmp`` in ``JTmv`` but runs forwards from ``Y`` in ``Jmv``;
    every other element is assumed to read its input.
    """
    own = getattr(el, "readsInput", None)
    if own is not None:
        return bool(own(product))
    if getattr(el, "reversible", False):
        return product != "JTmv"
    return True


def forwardKeepingState(el, theta, Y, **kwargs):
    """``el.forwardProp(theta, Y, **kwargs)`` for a recomputation: the element's state
    (e.g. running statistics of a normalization layer) is restored afterwards."""
    state = el.getState()
    out = el.forwardProp(theta, Y, **kwargs)
    if state:
        el.setState(state)
    return out


class ChainBase(AbstractMeganetElement):
    """``Z = f_{n-1}(theta_{n-1}, ... f_1(theta_1, f_0(theta_0, Y)))``.

    ``theta = [theta_0; theta_1; ...]``. ``tmp`` = per element a :class:`.LayerStep`
    ``(Y, tmp)``: the element's input ``Y_i`` (``Y_0`` is the caller's ``Y``), or None
    where it is not kept (see ``storeInputs``), and the element's ``tmp``. Derivatives
    compose the elements' ones::

        Jmv:   dY_{i+1} = J_i [dtheta_i; dY_i]
        JTmv:  P_n = W;  for i = n-1 .. 0:  (g_i, P_i) = J_i^T P_{i+1};  dY = P_0,
               dtheta = [g_0; g_1; ...]

    Memory options (the results are the same with all of them):

    * ``storeInputs='needed'`` keeps the input of an element only if its ``JTmv`` reads
      it (see :func:`readsInput`; not for a :class:`.Connector`, a fixed linear map, nor
      for a reversible block, which recomputes its states from its output) or if the
      previous element's ``tmp`` holds that array anyway (the output of a reversible
      block); ``'all'`` keeps every input (Meganet.m). ``JTmv`` costs the same in both modes; ``Jmv`` with a
      ``tmp`` of the ``'needed'`` mode recomputes the inputs it lacks by running the
      elements before them forwards (from the nearest kept input).
    * ``keepTmp=False``: ``JTmv`` empties the list ``tmp`` record by record as the
      backward sweep consumes it, so that every element's input and intermediates are
      freed as soon as they have been used (as an autograd graph is freed by its
      backward pass); a later product given that ``tmp`` runs the forward pass again.
      ``keepTmp=True`` leaves ``tmp`` intact for repeated products (Meganet.m).

    ``storeInputs='all'`` with ``keepTmp=True`` trades memory for the speed of repeated
    products with one ``tmp`` (e.g. Jacobian operators in Gauss-Newton solvers). The
    elements' own options (``storeInterm`` of the layers, given to ``forwardProp``)
    trade memory for the recomputations inside ``JTmv``.

    With ``tmp=None`` ``Jmv`` runs the elements forwards along with the directions
    (nothing stored) and ``JTmv`` recomputes the forward pass first. Recomputed forward
    passes leave the elements' state (running statistics) unchanged.
    """

    _kind = "element"

    def _initChain(self, elements, useGPU, precision, attr, storeInputs, keepTmp):
        name = type(self).__name__
        if isinstance(elements, AbstractMeganetElement) or not hasattr(elements, "__len__"):
            raise TypeError(f"{name}: {attr} must be a list of elements; got {type(elements).__name__}")
        elements = list(elements)
        if not elements:
            raise ValueError(f"{name}: {attr} must contain at least one {self._kind}; got an empty list")
        for k, el in enumerate(elements):
            checkElement(name, f"{attr}[{k}]", el)
        for k in range(1, len(elements)):
            out, inn = tuple(elements[k - 1].sizeFeatOut()), tuple(elements[k].sizeFeatIn())
            if out != inn:
                raise ValueError(f"{name}: {attr}[{k}].sizeFeatIn() must equal {attr}[{k - 1}]"
                                 f".sizeFeatOut() = {out}; got {inn}")
        if not (isinstance(storeInputs, str) and storeInputs in STORE_INPUTS):
            raise ValueError(f"{name}: storeInputs must be one of {STORE_INPUTS}; got {storeInputs!r}")
        if not isinstance(keepTmp, (bool, numpy.bool_)):
            raise TypeError(f"{name}: keepTmp must be True or False; got {keepTmp!r}")
        useGPU, precision = resolveBackend(useGPU, precision, elements, name)
        AbstractMeganetElement.__init__(self, useGPU=useGPU, precision=precision)
        setattr(self, attr, elements)
        self._attr = attr
        self.storeInputs = storeInputs
        self.keepTmp = bool(keepTmp)
        self._propagateBackend()

    def _elements(self):
        return getattr(self, self._attr)

    def readsInput(self, product):
        """Whether ``product`` (``'JTmv'``/``'Jmv'``) with this chain's ``tmp`` reads ``Y``
        (see :func:`readsInput`): ``JTmv`` if the first element's does, ``Jmv`` if any
        element's does (a missing input is recomputed from ``Y``)."""
        els = self._elements()
        if product == "JTmv":
            return readsInput(els[0], product)
        return any(readsInput(el, product) for el in els)

    # ------------------------------------------------------------------ sizes
    def nTheta(self):
        return sum(el.nTheta() for el in self._elements())

    def sizeFeatIn(self):
        return tuple(self._elements()[0].sizeFeatIn())

    def sizeFeatOut(self):
        return tuple(self._elements()[-1].sizeFeatOut())

    def split(self, theta):
        """Views of ``theta``, one per element, in order."""
        out, start = [], 0
        for el in self._elements():
            n = el.nTheta()
            out.append(theta[start:start + n])
            start += n
        return tuple(out)

    def initTheta(self, rng=None):
        """The elements' initial weights, concatenated (one random generator for all)."""
        g = numpy.random.default_rng(rng)
        parts = [el.initTheta(rng=g) for el in self._elements()]
        parts = [self.xp.zeros(0, dtype=self.dtype) if p is None else p.reshape(-1) for p in parts]
        return self.xp.concatenate(parts)

    # ------------------------------------------------------------------ forward
    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """Return ``(Z, tmp)``; ``tmp`` = a list with per element a :class:`.LayerStep`
        ``(input or None, element tmp)``, or None if not ``doDerivative``.

        ``storeInterm`` is handed to every element's ``forwardProp`` (True: the layers keep
        their intermediates, memory for speed; None: each element's default).
        """
        keepAll = self.storeInputs == "all"
        tmp = [] if doDerivative else None
        held = False          # Y is held by the previous element's tmp (keeping it is free)
        for el, th in zip(self._elements(), self.split(theta)):
            Z, t = el.forwardProp(th, Y, doDerivative=doDerivative, storeInterm=storeInterm)
            if doDerivative:
                keep = keepAll or held or readsInput(el, "JTmv")
                tmp.append(LayerStep(Y if keep else None, t))
                held = t is Z or (isinstance(t, tuple) and any(x is Z for x in t))
            Y = Z
        return Y, tmp

    def _recomputedTmp(self, theta, Y, tmp):
        """``tmp`` if it is complete, else (None, or released by an earlier ``JTmv``) the
        ``tmp`` of a new forward pass that leaves the elements' state unchanged."""
        if tmp is not None and all(step is not None for step in tmp):
            return tmp
        return forwardKeepingState(self, theta, Y)[1]

    def _inputs(self, tmp, ths, Y):
        """Generator of the elements' inputs for ``Jmv`` with ``tmp``: the kept ones, and the
        missing ones an element reads, recomputed forwards from the nearest known input;
        None for a missing input nobody reads."""
        els = self._elements()
        known = (0, Y)                       # (index, input of that element)
        for i, el in enumerate(els):
            Yi = Y if i == 0 else tmp[i].Y
            if Yi is not None:
                known = (i, Yi)
            elif readsInput(el, "Jmv"):
                k, Yi = known
                for j in range(k, i):
                    Yi = forwardKeepingState(els[j], ths[j], Yi, storeInterm=False)[0]
                known = (i, Yi)
            yield Yi

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        els = self._elements()
        ths = self.split(theta)
        dths = self.split(dtheta) if dtheta is not None else [None] * len(els)
        if dtheta is None and dY is None:
            return self.xp.zeros((Y.shape[0],) + self.sizeFeatOut(), dtype=self.dtype)
        N = Y.shape[0] if Y is not None else dY.shape[0]
        tmp = self._recomputedTmp(theta, Y, tmp) if tmp is not None else None
        inputs = self._inputs(tmp, ths, Y) if tmp is not None else None
        for i, el in enumerate(els):
            if tmp is not None:
                Yi, t = next(inputs), tmp[i].tmp
            else:
                Yi = Y
                Y, t = forwardKeepingState(el, ths[i], Yi)
            dthi = dths[i] if (dths[i] is not None and dths[i].size) else None
            if dthi is None and dY is None:
                continue
            dY = el.Jmv(dthi, dY, ths[i], Yi, t)
        if dY is None:  # no element had weights in the direction
            return self.xp.zeros((N,) + self.sizeFeatOut(), dtype=self.dtype)
        return dY

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        els = self._elements()
        ths = self.split(theta)
        tmp = self._recomputedTmp(theta, Y, tmp)
        release = not self.keepTmp and isinstance(tmp, list)
        xp, N = self.xp, W.shape[0]
        grads = [None] * len(els)
        for i in range(len(els) - 1, -1, -1):
            el, step = els[i], tmp[i]
            if release:               # the sweep is the record's last user: drop it with it
                tmp[i] = None
            needY = wantY or i > 0
            hasTh = wantTh and el.nTheta() > 0
            if hasTh or needY:
                g, W = el.JTmv(W, ths[i], Y if i == 0 else step.Y, step.tmp,
                               doDerivative=(hasTh, needY), reduceDim=reduceDim)
            else:
                g = None
            step = None
            if wantTh:
                if g is None:
                    g = xp.zeros((el.nTheta(),) if reduceDim else (N, el.nTheta()), dtype=self.dtype)
                grads[i] = g
        dth = xp.concatenate(grads, axis=0 if reduceDim else 1) if wantTh else None
        return dth, (W if wantY else None)

    # ------------------------------------------------------------------ multilevel
    def _map(self, theta, name):
        parts = [getattr(el, name)(th) for el, th in zip(self._elements(), self.split(theta))]
        return self.xp.concatenate([p.reshape(-1) for p in parts])

    def prolongateWeights(self, theta):
        """Every element's ``prolongateWeights`` (time-stepping blocks are MUTATED: ``nt``
        doubled, ``h`` halved); returns the concatenated new weights."""
        return self._map(theta, "prolongateWeights")

    def restrictConvStencils(self, theta):
        """Every element's ``restrictConvStencils`` (coarser images), concatenated."""
        return self._map(theta, "restrictConvStencils")

    def prolongateConvStencils(self, theta):
        """Every element's ``prolongateConvStencils`` (finer images), concatenated."""
        return self._map(theta, "prolongateConvStencils")

    def _matlabParts(self):
        return [(el, el.nTheta()) for el in self._elements()]
