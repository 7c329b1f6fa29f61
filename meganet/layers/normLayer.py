"""``NormLayer``: mean/variance normalization over chosen axes (Meganet.m's ``normLayer``)."""
from ..validation import checkFlags
from ._normalize import MeanVarNormalization, pixelAxes

__all__ = ["NormLayer"]


class NormLayer(MeanVarNormalization):
    """Normalize features to mean 0 and variance 1 over the flagged axes; no weights.

    Features ``Y`` have the shape ``(N, *nData)``: examples first, channels last, and
    the axes in between are pixels. ``doNorm = (pixels, channels, examples)`` selects
    the axes ``A`` to normalize over (any non-empty combination)::

        F    = Y - mean_A(Y)
        den  = sqrt(mean_A(F**2) + eps)
        Z    = F / den                                   shape (N, *nData)

    Derivatives (``nTheta() == 0``; the Jacobian is symmetric)::

        J_Y V = J_Y^T V = (V - mean_A(V) - Z * mean_A(Z * V)) / den

    Meganet.m: ``normLayer([nPix nC nEx], 'doNorm', d)`` -> ``NormLayer((H, W, C), doNorm=d)``
    (or ``NormLayer((nPix, C), doNorm=d)``). ``nData`` is the shape of ONE example; the
    number of examples is free. MATLAB vector features ``[n 1 nEx]`` normalized over
    the features (``doNorm=[1 0 0]``) become ``NormLayer((n,), doNorm=(0, 1, 0))`` (the
    ``n`` entries of a vector are its channels) or, equivalently,
    ``NormLayer((n, 1), doNorm=(1, 0, 0))``. The same axes are used in the forward map
    and in all derivative products for every data layout. Meganet.m's drivers pass
    ``'isWeight', 1``, which Meganet.m's normLayer ignores: ``isWeight=...`` is accepted
    with a warning and ignored (any other unknown keyword is a ``TypeError``); for a
    trainable scale and shift use :class:`InstNormLayer` (pixels), :class:`BatchNormLayer`
    (examples) or :class:`BatchNormLayer2` (pixels and examples).

    Three entries are always the shape of one example, ``(H, W, C)``, as for every
    element. Meganet.m's normLayer documents its three entries as ``[nPix nC nEx]``:
    port that form as ``NormLayer((nPix, nC))`` (``NormLayer((nPix, nC, nEx))`` would be
    an image layer with ``nEx`` channels and rejects the ``(N, nPix, nC)`` features at the
    first call).

    Axes of size 1 (e.g. ``doNorm=(0, 1, 0)`` with one channel, or normalization over
    the examples of a batch of one) give ``F = 0`` and hence ``Z = 0`` and ``J = 0``,
    without division by zero (``den = sqrt(eps)``).

    Parameters
    ----------
    nData : tuple of int
        Shape of one example: ``(H, W, C)``, ``(nPix, C)`` or ``(n,)``.
        Meganet.m's ``(H, W, C, nEx)`` is accepted and its ``nEx`` ignored (as there).
    doNorm : 3 flags (0/1 or bool), default ``(0, 1, 0)``
        Normalize over the (pixels, channels, examples). At least one flagged group of
        axes must exist in ``nData`` (vectors have no pixel axes).
    eps : float, default 1e-3
        Added to the variance.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, doNorm=(0, 1, 0), eps=1e-3, useGPU=False, precision="double"):
        super().__init__(nData, isWeight=False, eps=eps, useGPU=useGPU, precision=precision)
        self.doNorm = checkFlags("NormLayer", "doNorm", doNorm)
        if not self._axes(len(self.nData) + 1):
            raise ValueError(
                f"NormLayer: doNorm={tuple(int(d) for d in self.doNorm)} selects no axis of data "
                f"with nData={self.nData} (vector features have no pixel axes; their entries "
                "are channels: use doNorm=(0, 1, 0))")

    def _axes(self, ndimY):
        axes = []
        if self.doNorm[2]:
            axes.append(0)
        if self.doNorm[0]:
            axes.extend(pixelAxes(ndimY))
        if self.doNorm[1]:
            axes.append(ndimY - 1)
        return tuple(axes)

    ignoredMatlabOptions = {"isWeight": "normLayer has no weights; InstNormLayer, BatchNormLayer "
                                        "and BatchNormLayer2 have a trainable scale and shift"}
