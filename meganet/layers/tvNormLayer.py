"""``TVNormLayer``: pixel-wise normalization of the channel vector (Meganet.m's ``tvNormLayer``)."""
from ._normalize import ChannelNormalization

__all__ = ["TVNormLayer"]


class TVNormLayer(ChannelNormalization):
    """Divide every pixel's channel vector by its (smoothed) length; optional scale and shift.

    For features ``Y`` of shape ``(N, *nData)`` (examples first, channels last), per
    example and pixel (sums over the channel axis ``c``)::

        den  = sqrt(sum_c Y**2 + eps)                     shape (N, ..., 1)
        Zhat = Y / den
        Z    = Zhat * s + b      (isWeight; s, b of shape (C,) on the channel axis)
        Z    = Zhat              (otherwise)

    ``theta = [s; b]`` (``nTheta = 2 C`` or 0), initialised to ones and zeros. The
    features are divided by the length (Meganet.m's class header writes a product).

    Derivatives (``W``, ``V`` shaped like ``Y``)::

        J_nrm V          = (V - Zhat * sum_c(Zhat * V)) / den            (= J_nrm^T V)
        J_Y V            = s * J_nrm V
        J_Y^T W          = J_nrm (s * W)
        J_theta [ds; db] = Zhat * ds + db
        J_theta^T W      = [sum(W * Zhat); sum(W)]       (sums over all axes but the channels)
        per example n    = [sum_pixels(W[n] * Zhat[n]); sum_pixels(W[n])]   (reduceDim=False)

    (``d den = sum_c(Y dY) / den``, hence ``dZhat = dY/den - Y sum_c(Y dY)/den**3``;
    ``V -> Zhat sum_c(Zhat V)`` is symmetric.) Examples and pixels do not interact.

    Meganet.m: ``tvNormLayer([nx ny nc nEx], 'isWeight', w)`` ->
    ``TVNormLayer((nx, ny, nc), isWeight=w)``; ``nData`` is the shape of ONE example
    (``(H, W, C)``, ``(nPix, C)`` or ``(n,)``, whose ``n`` entries are channels).

    Parameters
    ----------
    nData : tuple of int
        Shape of one example.
        Meganet.m's ``(H, W, C, nEx)`` is accepted and its ``nEx`` ignored (as there).
    isWeight : bool or 0/1, default False
        Trainable per-channel scale and shift.
    eps : float, default 1e-4
        Added to the squared length.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, isWeight=False, eps=1e-4, useGPU=False, precision="double"):
        super().__init__(nData, isWeight=isWeight, eps=eps, useGPU=useGPU, precision=precision)

    def _normalize(self, Y):
        den = self.xp.sqrt(self.xp.sum(Y * Y, axis=-1, keepdims=True) + self.eps)
        return Y / den, den

    def _normJmv(self, V, Zhat, den):
        out = self.xp.multiply(Zhat, self.xp.sum(Zhat * V, axis=-1, keepdims=True))
        self.xp.subtract(V, out, out=out)
        out /= den
        return out
