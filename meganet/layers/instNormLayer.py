"""``InstNormLayer``: instance normalization (Meganet.m's ``instNormLayer``)."""
from ._normalize import MeanVarNormalization, pixelAxes

__all__ = ["InstNormLayer"]


class InstNormLayer(MeanVarNormalization):
    """Instance normalization per example and channel, with an optional per-channel scale and shift.

    For features ``Y`` of shape ``(N, *nData)`` (examples first, channels last), the
    statistics are taken over the pixel axes ``P = 1, ..., ndim-2`` separately for
    every example and channel::

        F    = Y - mean_P(Y)
        den  = sqrt(mean_P(F**2) + eps)                   shape (N, 1, ..., 1, C)
        Zhat = F / den
        Z    = Zhat * s + b      (isWeight; s, b of shape (C,) on the channel axis)
        Z    = Zhat              (otherwise)

    ``theta = [s; b]`` (``nTheta = 2 C`` or 0), initialised to ones and zeros.

    Derivatives (``W``, ``V`` shaped like ``Y``; sums over all axes but the channels)::

        J_nrm V          = (V - mean_P(V) - Zhat * mean_P(Zhat * V)) / den   (= J_nrm^T V)
        J_Y V            = s * J_nrm V
        J_Y^T W          = J_nrm (s * W)
        J_theta [ds; db] = Zhat * ds + db
        J_theta^T W      = [sum(W * Zhat); sum(W)]
        per example n    = [sum_P(W[n] * Zhat[n]); sum_P(W[n])]          (reduceDim=False)

    Examples do not interact, so the output of one example does not depend on the
    others. A single pixel (``nData = (1, C)``) is degenerate: ``Zhat = 0`` and
    ``J_Y = 0`` (no division by zero).

    Meganet.m: ``instNormLayer([nx ny nc nEx], 'isWeight', w)`` ->
    ``InstNormLayer((nx, ny, nc), isWeight=w)`` (or ``(nPix, C)``); ``nData`` is the
    shape of ONE example and needs at least one pixel axis.

    Parameters
    ----------
    nData : tuple of int
        Shape of one example, ``(H, W, C)`` or ``(nPix, C)``.
        Meganet.m's ``(H, W, C, nEx)`` is accepted and its ``nEx`` ignored (as there).
    isWeight : bool or 0/1, default False
        Trainable per-channel scale and shift.
    eps : float, default 1e-4
        Added to the variance.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, isWeight=False, eps=1e-4, useGPU=False, precision="double"):
        super().__init__(nData, isWeight=isWeight, eps=eps, useGPU=useGPU, precision=precision,
                         minDims=2)

    def _axes(self, ndimY):
        return pixelAxes(ndimY)
