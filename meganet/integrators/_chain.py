"""Composition of elements, shared by :class:`NN` and :class:`Meganet`."""
import numpy

from ..element import AbstractMeganetElement
from ..backend import resolveBackend
from ..validation import checkElement
from .timeSteppingBlock import LayerStep

__all__ = []


class ChainBase(AbstractMeganetElement):
    """``Z = f_{n-1}(theta_{n-1}, ... f_1(theta_1, f_0(theta_0, Y)))``.

    ``theta = [theta_0; theta_1; ...]``. ``tmp`` = per element a :class:`.LayerStep`
    ``(Y, tmp)``: the element's input ``Y_i`` and its ``tmp``
    (``Y_0`` is the caller's ``Y``). Derivatives compose the elements' ones::

        Jmv:   dY_{i+1} = J_i [dtheta_i; dY_i]
        JTmv:  P_n = W;  for i = n-1 .. 0:  (g_i, P_i) = J_i^T P_{i+1};  dY = P_0,
               dtheta = [g_0; g_1; ...]

    With ``tmp=None`` ``Jmv`` runs the elements forwards along with the directions
    (nothing stored) and ``JTmv`` recomputes the forward pass first.
    """

    _kind = "element"

    def _initChain(self, elements, useGPU, precision, attr):
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
        useGPU, precision = resolveBackend(useGPU, precision, elements, name)
        AbstractMeganetElement.__init__(self, useGPU=useGPU, precision=precision)
        setattr(self, attr, elements)
        self._attr = attr
        self._propagateBackend()

    def _elements(self):
        return getattr(self, self._attr)

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
    def forwardProp(self, theta, Y, doDerivative=True):
        """Return ``(Z, tmp)``; ``tmp`` = per element ``(input, element tmp)`` or None."""
        tmp = [] if doDerivative else None
        for el, th in zip(self._elements(), self.split(theta)):
            Z, t = el.forwardProp(th, Y, doDerivative=doDerivative)
            if doDerivative:
                tmp.append(LayerStep(Y, t))
            Y = Z
        return Y, (tuple(tmp) if doDerivative else None)

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        els = self._elements()
        ths = self.split(theta)
        dths = self.split(dtheta) if dtheta is not None else [None] * len(els)
        if dtheta is None and dY is None:
            return self.xp.zeros((Y.shape[0],) + self.sizeFeatOut(), dtype=self.dtype)
        for i, el in enumerate(els):
            if tmp is not None:
                Yi, t = tmp[i]
            else:
                Yi = Y
                Y, t = el.forwardProp(ths[i], Yi)
            dthi = dths[i] if (dths[i] is not None and dths[i].size) else None
            if dthi is None and dY is None:
                continue
            dY = el.Jmv(dthi, dY, ths[i], Yi, t)
        if dY is None:  # no element had weights in the direction
            return self.xp.zeros((Y.shape[0],) + self.sizeFeatOut(), dtype=self.dtype)
        return dY

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        els = self._elements()
        ths = self.split(theta)
        if tmp is None:
            tmp = self.forwardProp(theta, Y)[1]
        xp, N = self.xp, W.shape[0]
        grads = [None] * len(els)
        for i in range(len(els) - 1, -1, -1):
            el = els[i]
            Yi, t = tmp[i]
            needY = wantY or i > 0
            hasTh = wantTh and el.nTheta() > 0
            if hasTh or needY:
                g, W = el.JTmv(W, ths[i], Yi, t, doDerivative=(hasTh, needY), reduceDim=reduceDim)
            else:
                g = None
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
