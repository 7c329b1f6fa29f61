"""``BatchNormLayer``: normalization over the examples of a batch (Meganet.m's ``batchNormLayer``)."""
from ._normalize import MeanVarNormalization

__all__ = ["BatchNormLayer"]


class BatchNormLayer(MeanVarNormalization):
    """Batch normalization per pixel and channel, with an optional per-channel scale and shift.

    For features ``Y`` of shape ``(N, *nData)`` (examples first, channels last), the
    statistics are taken over the examples (axis 0) separately for every pixel and
    channel::

        F    = Y - mean_0(Y)
        den  = sqrt(mean_0(F**2) + eps)                   shape (1, *nData)
        Zhat = F / den
        Z    = Zhat * s + b      (isWeight; s, b of shape (C,) on the channel axis)
        Z    = Zhat              (otherwise)

    ``theta = [s; b]`` (``nTheta = 2 C`` or 0), initialised to ones and zeros.

    Derivatives (``W``, ``V`` shaped like ``Y``; sums over all axes but the channels)::

        J_nrm V          = (V - mean_0(V) - Zhat * mean_0(Zhat * V)) / den   (= J_nrm^T V)
        J_Y V            = s * J_nrm V
        J_Y^T W          = J_nrm (s * W)
        J_theta [ds; db] = Zhat * ds + db
        J_theta^T W      = [sum(W * Zhat); sum(W)]
        per example n    = [sum_pixels(W[n] * Zhat[n]); sum_pixels(W[n])]   (reduceDim=False)

    Evaluation: the layer has no running statistics and ALWAYS normalizes with the
    statistics of the batch it is given (as Meganet.m's ``batchNormLayer``), also with
    ``doDerivative=False``; the output for an example therefore depends on the other
    examples of the batch. Use :class:`BatchNormLayer2` for running statistics.

    A batch of one example (``N = 1``) is degenerate: ``F = 0``, so ``Zhat = 0``, the
    output is ``b`` (or 0), and ``J_Y = 0``; no division by zero occurs
    (``den = sqrt(eps)``).

    Meganet.m: ``batchNormLayer([nx ny nc nEx], 'isWeight', w)`` ->
    ``BatchNormLayer((nx, ny, nc), isWeight=w)``; ``nData`` is the shape of ONE example
    (``(H, W, C)``, ``(nPix, C)`` or ``(n,)``, whose ``n`` entries are channels).

    Parameters
    ----------
    nData : tuple of int
        Shape of one example.
        Meganet.m's ``(H, W, C, nEx)`` is accepted and its ``nEx`` ignored (as there).
    isWeight : bool or 0/1, default False
        Trainable per-channel scale and shift.
    eps : float, default 1e-4
        Added to the variance.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, isWeight=False, eps=1e-4, useGPU=False, precision="double"):
        super().__init__(nData, isWeight=isWeight, eps=eps, useGPU=useGPU, precision=precision)

    def _axes(self, ndimY):
        return (0,)
