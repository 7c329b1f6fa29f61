"""Base class of the kernel-based layers (private): SingleLayer, DoubleLayer, DoubleSymLayer."""
from ..element import AbstractMeganetElement
from ._layerUtils import splitTheta

__all__ = []


class KernelLayer(AbstractMeganetElement):
    """What the kernel-based layers share.

    Subclasses provide ``_sizes()`` (the sizes of the weight parts in Meganet.m's order,
    the kernels' first), ``_forward(theta, Y, doDerivative) -> (Z, intermediates)``,
    ``Jmv``, ``JTmv``, ``_kernels()`` (the kernels whose weights come first, in order) and
    ``self.storeInterm``.
    """

    def nTheta(self):
        return sum(self._sizes())

    def split(self, theta):
        return splitTheta(theta, self._sizes())

    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """``(Z, tmp)``; ``tmp`` holds the intermediates if ``storeInterm`` (default: the
        layer's option) and ``doDerivative``, else None."""
        Z, tmp = self._forward(theta, Y, doDerivative)
        keep = self.storeInterm if storeInterm is None else bool(storeInterm)
        return Z, (tmp if (doDerivative and keep) else None)

    def _temps(self, theta, Y, tmp):
        """The intermediates: ``tmp`` if given, else recomputed."""
        return self._forward(theta, Y, True)[1] if tmp is None else tmp

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
