"""Base class of the kernel-based layers (private): SingleLayer, DoubleLayer, DoubleSymLayer."""
from ..element import AbstractMeganetElement
from ..linops.bias import nBias
from ._layerUtils import splitTheta

__all__ = []


class KernelLayer(AbstractMeganetElement):
    """What the kernel-based layers share.

    Subclasses provide ``_kernels()``, ``_biases()`` and ``_normLayers()`` (in the order
    of their weights; theta = [kernels; biases; normalization layers] as Meganet.m),
    ``_forward(theta, Y, doDerivative) -> (Z, intermediates)``, ``Jmv``, ``JTmv`` and
    ``self.storeInterm``.
    """

    _biasInit = 0.0   # initial value of the bias weights

    def _sizes(self):
        """Sizes of the weight parts: kernels, biases, normalization layers (Meganet.m's order)."""
        return (tuple(K.nTheta() for K in self._kernels())
                + tuple(nBias(B) for B in self._biases())
                + tuple(nl.nTheta() if nl is not None else 0 for nl in self._normLayers()))

    def nTheta(self):
        return sum(self._sizes())

    def initTheta(self, rng=None):
        """The kernels' inits, biases at ``_biasInit``, the normalization layers' inits."""
        xp = self.xp
        nb = sum(nBias(B) for B in self._biases())
        parts = [K.initTheta(rng=rng) for K in self._kernels()]
        parts.append(xp.full(nb, self._biasInit, dtype=self.dtype))
        parts += [nl.initTheta(rng=rng) for nl in self._normLayers() if nl is not None]
        return xp.concatenate(parts)

    def split(self, theta):
        return splitTheta(theta, self._sizes())

    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """``(Z, tmp)``; ``tmp`` holds the intermediates if ``storeInterm`` (default: the
        layer's option) and ``doDerivative``, else None."""
        Z, tmp = self._forward(theta, Y, doDerivative)
        keep = self.storeInterm if storeInterm is None else bool(storeInterm)
        return Z, (tmp if (doDerivative and keep) else None)

    def _temps(self, theta, Y, tmp, **kwargs):
        """The intermediates: ``tmp`` if given, else recomputed by ``_forward(theta, Y, True,
        **kwargs)`` (leaving the layer's state, e.g. a normalization layer's running
        statistics, as it was)."""
        if tmp is not None:
            return tmp
        state = self.getState()
        tmp = self._forward(theta, Y, True, **kwargs)[1]
        if state:
            self.setState(state)
        return tmp

    def _mapKernels(self, theta, method):
        parts, start = [], 0
        for K in self._kernels():
            n = K.nTheta()
            parts.append(getattr(K, method)(theta[start:start + n]))
            start += n
        parts.append(theta[start:])
        return self.xp.concatenate(parts)

    def restrictConvStencils(self, theta):
        """Restrict the kernels' stencils (see the kernels' method); other weights unchanged."""
        return self._mapKernels(theta, "restrictConvStencils")

    def prolongateConvStencils(self, theta):
        """Prolongate the kernels' stencils; other weights unchanged."""
        return self._mapKernels(theta, "prolongateConvStencils")

    def _matlabParts(self):
        """Kernels and normalization layers convert their weights; biases keep their order."""
        nb = sum(nBias(B) for B in self._biases())
        return ([(K, K.nTheta()) for K in self._kernels()] + [(None, nb)]
                + [(nl, nl.nTheta()) for nl in self._normLayers() if nl is not None])
