"""``TimeSteppingBlock``: the machinery shared by the blocks that integrate in time.

A time-stepping block maps its input ``Y`` to a state ``X_0``, applies ``nt`` steps
``X_{j+1} = step_j(Theta_j, X_j)`` and returns an output read off ``X_nt``. The base class
owns everything but the recurrence: construction (child checks, backend, ``nt``, ``h``,
the time basis ``A``), the per-time-point weights ``Theta_j``, the loops of
``forwardProp``/``Jmv``/``JTmv`` (including ``doDerivative`` and ``reduceDim``), the
accumulation of the weight gradient, recomputation when ``tmp`` is ``None``,
prolongation in time and the mapping of the per-step weights through the children's
``restrictConvStencils``/``prolongateConvStencils``.

A subclass writes the recurrence as four methods (see :class:`TimeSteppingBlock`):
``_step`` (one step forward, returning a step record of what its derivatives need),
``_stepJmv`` (the linearized step), ``_stepJTmv`` (the adjoint step) and, for a
reversible block (``reversible = True``), ``_inverseStep`` (the step solved for the
older state). ``ResNN``, ``ResNNrk4``, ``LeapFrogNN``, ``HamiltonianNN`` and
``DoubleHamiltonianNN`` are built this way; ``docs/extending.md`` shows a new block.
"""
from typing import Any, NamedTuple

from ..element import AbstractMeganetElement
from ..backend import resolveBackend
from ..validation import checkElement, checkFeatures, checkFloat, checkInt, getValidation
from ._timeBasis import TimeBasisMixin

__all__ = ["TimeSteppingBlock", "LayerSteppingBlock", "LayerStep"]


class LayerStep(NamedTuple):
    """Record of one evaluation of a child element: its input and the child's ``tmp``.

    One per step of :class:`ResNN`/:class:`LeapFrogNN`, four per step of
    :class:`ResNNrk4` (the stages), one per element of :class:`NN`/:class:`Meganet`.

    Attributes
    ----------
    Y : array (N, *child.sizeFeatIn())
        The features the child was evaluated at.
    tmp : object or None
        The child's ``tmp`` of that evaluation (None if it keeps no intermediates).
    """

    Y: Any
    tmp: Any


class StepGradient:
    """Accumulator of the per-time-point weight gradients ``G`` of one ``JTmv`` call.

    ``G`` has shape ``(nTimes, m)`` (``reduceDim``) or ``(N, nTimes, m)`` (per example);
    ``add(j, g, scale, start)`` adds ``scale * g`` (``(k,)`` or ``(N, k)``) to entries ``start:start+k`` of
    time point ``j``. If the weight gradient is not wanted (``want=False``) ``add`` does
    nothing and :meth:`JTmv` asks the children for the input gradient only.
    """

    def __init__(self, block, N, want, reduceDim):
        self.want = bool(want)
        self.reduceDim = bool(reduceDim)
        self.G = None
        if self.want:
            shape = (block._nTimes(), block._nThetaStep())
            self.G = block.xp.zeros(shape if self.reduceDim else (N,) + shape, dtype=block.dtype)

    def add(self, j, g, scale=1.0, start=0):
        """``G_j[start:start+k] += scale * g`` (nothing if the gradient is not wanted)."""
        if not self.want:
            return
        stop = start + g.shape[-1]
        if self.reduceDim:
            self.G[j, start:stop] += scale * g
        else:
            self.G[:, j, start:stop] += scale * g

    def JTmv(self, element, W, theta, Y, tmp, needY):
        """``element.JTmv`` asking for the weight gradient only if it is wanted."""
        return element.JTmv(W, theta, Y, tmp, doDerivative=(self.want, bool(needY)),
                            reduceDim=self.reduceDim)


class TimeSteppingBlock(TimeBasisMixin, AbstractMeganetElement):
    """Base class of the blocks that apply ``nt`` steps of a time integrator.

    Parameters
    ----------
    children : dict
        The sub-elements by attribute name (``{"layer": layer}``); they are stored as
        attributes, checked to be elements (unless ``checkElements`` is False) and
        determine the backend unless ``useGPU``/``precision`` are given.
    nt : int >= 1, optional
        Number of steps (stored as ``self.nt``; a subclass may define ``nt`` itself).
    h : float > 0, optional
        Step size (stored as ``self.h``).
    A : array of shape (nCoeff, nTimes), optional
        Time basis of the weights (see :mod:`meganet.integrators._timeBasis`).
    useGPU, precision : optional
        Default: the children's; given values are pushed to the children.
    checkElements : bool, default True

    Notes
    -----
    A subclass provides the sizes (``sizeFeatIn``, ``sizeFeatOut``, ``_nThetaStep``,
    ``_nTimes``, ``initTheta``, ``split``) and the recurrence. With ``Th`` the
    per-time-point weights (rows ``Th[j]``, see ``_stepWeights``) and ``X`` the state
    (an array or a tuple of arrays, whatever the block needs):

    ``_step(j, Th, X, doDerivative, storeInterm) -> (X_next, rec[, scratch])``
        One step forward; ``rec`` is what the derivative steps need (a small NamedTuple).
        ``storeInterm`` is handed to the children's ``forwardProp``. An optional third
        item (e.g. the step's increment) is held until the next step is done and then
        dropped (never stored; see the comment on the loops).
    ``_stepJmv(j, Th, dTh, rec, dX) -> dX_next``
        The linearized step; ``dTh`` is None when there is no weight direction and
        ``dX`` may hold None entries for zero directions.
    ``_stepJTmv(j, Th, rec, P, grad, needP) -> P_j``
        The adjoint step: from the gradient ``P`` with respect to ``X_{j+1}`` to the one
        with respect to ``X_j`` (only needed if ``needP``), adding the weight gradient of
        time point(s) used by step ``j`` with ``grad.add`` (a :class:`StepGradient`).
    ``_inverseStep(j, Th, X_next, storeInterm) -> (X, rec[, scratch])``  (reversible blocks)
        The step solved for the older state, with the record of step ``j``.

    and, when the state is not just the features, ``_initState(Y)``/``_output(X)``,
    ``_initTangent(dY, Y)``/``_tangentOutput(dX)``, ``_initAdjoint(W)``/``_adjointOutput(P)``,
    and for reversible blocks ``_finalTmp(X, Z)``/``_stateFromTmp(tmp)``.

    ``tmp`` of ``forwardProp``: the step records ``(rec_0, ..., rec_{nt-1})`` if the
    block stores its states (``storeStates``), ``None`` if not; for a reversible block
    ``_finalTmp`` of the last state, from which ``JTmv`` recomputes the states backwards
    with ``_inverseStep`` (memory independent of ``nt``).
    """

    #: True for blocks whose steps can be inverted; JTmv then recomputes the states backwards.
    reversible = False
    #: Non-reversible blocks keep their step records in ``tmp`` if this is True.
    storeStates = True

    def __init__(self, children, nt=None, h=None, A=None, useGPU=None, precision=None,
                 checkElements=True):
        owner = type(self).__name__
        if checkElements:
            for name, child in children.items():
                checkElement(owner, name, child)
        useGPU, precision = resolveBackend(useGPU, precision, list(children.values()), owner)
        AbstractMeganetElement.__init__(self, useGPU=useGPU, precision=precision)
        for name, child in children.items():
            setattr(self, name, child)
        if nt is not None:
            self.nt = checkInt(owner, "nt", nt, low=1)
        if h is not None:
            self.h = checkFloat(owner, "h", h, low=0, lowOpen=True)
        self._propagateBackend()
        self._setTimeBasis(A, owner)

    def _nTimes(self):
        return self.nt

    # ------------------------------------------------------------------ state hooks
    def _initState(self, Y):
        return Y

    def _output(self, X):
        return X

    def _initTangent(self, dY, Y):
        return dY

    def _tangentOutput(self, dX):
        return dX

    def _initAdjoint(self, W):
        return W

    def _adjointOutput(self, P):
        return P

    def _finalTmp(self, X, Z):
        return X

    def _stateFromTmp(self, tmp):
        return tmp

    # ------------------------------------------------------------------ recurrence
    def _step(self, j, Th, X, doDerivative=True, storeInterm=None):
        raise NotImplementedError(f"{type(self).__name__} must provide _step")

    def _stepJmv(self, j, Th, dTh, rec, dX):
        raise NotImplementedError(f"{type(self).__name__} must provide _stepJmv")

    def _stepJTmv(self, j, Th, rec, P, grad, needP):
        raise NotImplementedError(f"{type(self).__name__} must provide _stepJTmv")

    def _inverseStep(self, j, Th, Xnext, storeInterm=None):
        raise NotImplementedError(f"{type(self).__name__} is not reversible")

    # ------------------------------------------------------------------ loops
    # Every loop keeps the state (and adjoint) a step started from and the step's scratch
    # arrays (the optional third item ``_step``/``_inverseStep`` return, e.g. the increment)
    # allocated until the next step has been computed (``held``); the step records are not
    # held, so the memory of the reversible blocks stays that of one step. Releasing these
    # arrays one step earlier lets the C allocator shrink its heap after every step and
    # grow it again in the next, which costs page faults (2 to 3 times as many per
    # forward + JTmv on 16 x 16 x 8 features, measured with getrusage).
    def _forward(self, Th, Y, doDerivative=True, keep=False, storeInterm=None):
        """Run all steps; return the last state and the step records (if ``keep``)."""
        X = self._initState(Y)
        recs = [] if keep else None
        held = None
        for j in range(self.nt):
            out = self._step(j, Th, X, doDerivative, storeInterm)
            held = (X, out[2:])
            if keep:
                recs.append(out[1])
            X, out = out[0], None
        del held
        return X, (tuple(recs) if keep else None)

    def _backward(self, Th, X, stop=0):
        """Run the inverse steps ``j = nt-1 .. stop``; return ``X_stop``."""
        for j in range(self.nt - 1, stop - 1, -1):
            X = self._inverseStep(j, Th, X)[0]
        return X

    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """Return ``(Z, tmp)``: the output after ``nt`` steps and the intermediates.

        ``storeInterm`` is handed to the children's ``forwardProp`` (kept in the step
        records of a block that stores its states).
        """
        Th = self._stepWeights(theta)
        keep = bool(doDerivative) and self.storeStates and not self.reversible
        X, recs = self._forward(Th, Y, doDerivative, keep, storeInterm)
        Z = self._output(X)
        if not doDerivative:
            return Z, None
        if self.reversible:
            return Z, self._finalTmp(X, Z)
        return Z, recs

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        if dtheta is None and dY is None:
            return self.xp.zeros_like(Y)
        Th = self._stepWeights(theta)
        dTh = self._stepWeights(dtheta) if dtheta is not None else None
        stored = tmp is not None and not self.reversible
        X = None if stored else self._initState(Y)
        dX = self._initTangent(dY, Y)
        held = None
        for j in range(self.nt):
            if stored:
                out = (None, tmp[j])
            else:
                out = self._step(j, Th, X, True, True)
            dXn = self._stepJmv(j, Th, dTh, out[1], dX)
            held = (X, dX, out[2:])
            X, dX, out = out[0], dXn, None
        del held
        return self._tangentOutput(dX)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        Th = self._stepWeights(theta)
        grad = StepGradient(self, W.shape[0], wantTh, reduceDim)
        P = self._initAdjoint(W)
        held = None
        if self.reversible:
            X = self._stateFromTmp(tmp) if tmp is not None else self._forward(Th, Y)[0]
            for j in range(self.nt - 1, -1, -1):
                out = self._inverseStep(j, Th, X, True)
                Pn = self._stepJTmv(j, Th, out[1], P, grad, wantY or j > 0)
                held = out[2:]
                X, P, out = out[0], Pn, None
        else:
            recs = tmp if tmp is not None else self._forward(Th, Y, keep=True)[1]
            for j in range(self.nt - 1, -1, -1):
                Pn = self._stepJTmv(j, Th, recs[j], P, grad, wantY or j > 0)
                held = P
                P = Pn
        del held
        dth = self._coeffGrad(grad.G, reduceDim) if wantTh else None
        return dth, (self._adjointOutput(P) if wantY else None)

    def _checkInverseArgs(self, states):
        """Validate the final states given to ``inverse`` (``theta`` is checked by the
        protocol wrapper, as for ``forwardProp``)."""
        if not getValidation():
            return
        where = f"{type(self).__name__}.inverse"
        N = None
        for name, X in states.items():
            N = checkFeatures(where, name, X, self, self.sizeFeatOut(), N)

    # ------------------------------------------------------------------ multilevel
    def _stepParts(self):
        """The children acting on the per-step weights: ``(child, start, stop)`` triples."""
        return ()

    def _mapSteps(self, theta, method):
        xp = self.xp
        C = theta.reshape(self.nCoeff(), self._nThetaStep())
        out = []
        for k in range(C.shape[0]):
            pos = 0
            for child, start, stop in self._stepParts():
                if start > pos:
                    out.append(C[k, pos:start])
                out.append(getattr(child, method)(xp.ascontiguousarray(C[k, start:stop])))
                pos = stop
            if pos < C.shape[1]:
                out.append(C[k, pos:])
        return xp.concatenate(out)

    def restrictConvStencils(self, theta):
        """Every time coefficient's weights through the children's ``restrictConvStencils``."""
        return self._mapSteps(theta, "restrictConvStencils")

    def prolongateConvStencils(self, theta):
        """Every time coefficient's weights through the children's ``prolongateConvStencils``."""
        return self._mapSteps(theta, "prolongateConvStencils")

    def prolongateWeights(self, theta):
        """Double ``nt``, halve ``h`` and interpolate the weights linearly in time.

        MUTATES the block (``nt -> 2 nt``, ``h -> h / 2``) and returns the new weights:
        the old per-step weights sit at ``t_j = j h`` (``j < nt``), the new ones at
        ``t_i = i h / 2`` (``i < 2 nt``), interpolated by :func:`meganet.utils.inter1D`
        (constant beyond the last old time point). Only for the identity time basis.
        (Meganet.m returns a new block and the new weights.)
        """
        return self._prolongateUniform(theta)

    # ------------------------------------------------------------------ Meganet.m layout
    def _matlabParts(self):
        """Per time coefficient (contiguous chunks in both layouts) the children's parts."""
        parts, m = [], self._nThetaStep()
        for _ in range(self.nCoeff()):
            pos = 0
            for child, start, stop in self._stepParts():
                if start > pos:
                    parts.append((None, start - pos))
                parts.append((child, stop - start))
                pos = stop
            if pos < m:
                parts.append((None, m - pos))
        return parts


class LayerSteppingBlock(TimeSteppingBlock):
    """A :class:`TimeSteppingBlock` that steps one layer ``F(Theta_j, .)`` (``self.layer``).

    The features keep the layer's shape (``layer.sizeFeatIn() == layer.sizeFeatOut()``)
    and the weights are ``nCoeff`` chunks of the layer's weights. Base of ResNN, ResNNrk4
    and LeapFrogNN.

    Parameters
    ----------
    layer : element with ``sizeFeatIn() == sizeFeatOut()``
    nt, h, A, useGPU, precision
        As :class:`TimeSteppingBlock`.
    """

    def __init__(self, layer, nt=None, h=None, A=None, useGPU=None, precision=None):
        owner = type(self).__name__
        checkElement(owner, "layer", layer)
        fi, fo = tuple(layer.sizeFeatIn()), tuple(layer.sizeFeatOut())
        if fi != fo:
            raise ValueError(f"{owner}: layer.sizeFeatIn() must equal layer.sizeFeatOut() "
                             f"(the step adds the layer's output to its input); got {fi} and {fo}")
        super().__init__({"layer": layer}, nt, h, A, useGPU=useGPU, precision=precision)

    def _nThetaStep(self):
        return self.layer.nTheta()

    def sizeFeatIn(self):
        return tuple(self.layer.sizeFeatIn())

    def sizeFeatOut(self):
        return tuple(self.layer.sizeFeatOut())

    def split(self, theta):
        """The ``nCoeff`` coefficient chunks (per-time-point weights if ``A`` is None), as views."""
        m = self._nThetaStep()
        return tuple(theta[k * m:(k + 1) * m] for k in range(self.nCoeff()))

    def initTheta(self, rng=None):
        """The layer's initial weights at every time point (coefficients solved through ``A``)."""
        return self._initCoeffs(self.layer.initTheta(rng=rng))

    def _stepParts(self):
        return ((self.layer, 0, self._nThetaStep()),)

    def _layerStep(self, th, Y, doDerivative=True, storeInterm=None):
        """Evaluate the layer: ``(F(th, Y), LayerStep(Y, layer tmp))``."""
        F, tmpL = self.layer.forwardProp(th, Y, doDerivative=doDerivative, storeInterm=storeInterm)
        return F, LayerStep(Y, tmpL)
