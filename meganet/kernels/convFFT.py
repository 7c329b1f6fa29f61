"""``ConvFFT``: 2-D convolution with periodic boundary conditions, computed with FFTs."""
import numpy

from .convKernel import ConvKernel

__all__ = ["ConvFFT"]


class ConvFFT(ConvKernel):
    """Coupled 2-D convolution with periodic boundary conditions (Meganet.m's ``convFFT``).

    Same orientation (cross-correlation) and weight layout as :class:`Conv2D`, so both
    agree on every pixel whose stencil does not reach across the image boundary.
    Forward map, for ``Y`` of shape ``(N, H, W, cin)`` and stencils ``K = reshape(Q theta,
    (k1, k2, cin, cout))`` with centre ``(c1, c2) = ((k1 - 1) / 2, (k2 - 1) / 2)``::

        Z[n, h, w, o] = sum_{i, j, c} K[i, j, c, o] * Y[n, (h + i - c1) mod H, (w + j - c2) mod W, c]

    Output shape ``(N, H, W, cout)``. In Fourier space (2-D DFT over the image axes,
    ``^``), with the multiplier ``M[xi, c, o] = sum_{i, j} K[i, j, c, o] S[xi, (i, j)]``
    and ``S[xi, (i, j)] = exp(2 pi 1j (xi1 (i - c1) / H + xi2 (j - c2) / W))``::

        Zhat[n, xi, :] = Yhat[n, xi, :] @ M[xi]                          (forward)
        ATmv:          dYhat[n, xi, :] = What[n, xi, :] @ conj(M[xi])^T    (correlation with the
                                                                          reversed stencil)
        JthetaTmv(W):  G[(i, j), c, o] = (1 / (H W)) Re sum_xi S[xi, (i, j)]
                                          sum_n Yhat[n, xi, c] conj(What[n, xi, o])
                                       = sum_{n, h, w} Y[n, h + i - c1, w + j - c2, c] W[n, h, w, o]
                       then Q^T vec(G); per example without the sum over n (reduceDim=False)
        Jthetamv(dtheta) = Amv(dtheta, Y)

    Real FFTs over the half spectrum are used (the sum over ``xi`` in JthetaTmv counts
    each half-spectrum frequency with its multiplicity 1 or 2). ``S`` (shape
    ``(H (W // 2 + 1), k1 k2)``) is precomputed at construction, so the kernel's
    spectrum costs two small real matrix products per call; the channel coupling is one
    complex matrix product per frequency.

    Parameters
    ----------
    nImg : (H, W)
        Image size (a third entry must equal ``sK[2]``).
    sK : (k1, k2, cin, cout)
        Odd ``k1 <= H``, ``k2 <= W``.
    stride : int
        Must be 1 (Meganet.m's convFFT ignores the stride in its products).
    Q : None, 2-D array ``(prod(sK), nTheta)`` or LinearOperator
    useGPU, precision :
        Backend (``xp.fft`` of NumPy or of the device module).
    """

    def __init__(self, nImg, sK, stride=1, Q=None, useGPU=False, precision="double"):
        super().__init__(nImg, sK, stride=stride, Q=Q, useGPU=useGPU, precision=precision)
        H, W = self.nImg
        if self.sK[0] > H or self.sK[1] > W:
            raise ValueError(f"ConvFFT: the stencil must fit into the periodic image: need "
                             f"k1 <= H and k2 <= W; got sK={self.sK}, nImg={self.nImg}")
        self._setSpectra()

    def _setSpectra(self):
        """(Re)compute the precomputed spectra on the host and move them to the backend."""
        H, W = self.nImg
        S, w = self._eigenvalues()
        self._Sre = self.asArray(S.real)
        self._Sim = self.asArray(S.imag)
        self._Swre = self.asArray((w[:, None] * S).real / (H * W))
        self._Swim = self.asArray((w[:, None] * S).imag / (H * W))

    def _propagateBackend(self):
        super()._propagateBackend()
        self._setSpectra()   # exact again after a switch from single to double precision

    def _eigenvalues(self):
        """``S`` (half spectrum x stencil entries) and the multiplicities ``w`` of the frequencies."""
        H, W = self.nImg
        k1, k2 = self.sK[:2]
        Wr = W // 2 + 1
        xi1 = numpy.arange(H)[:, None, None, None]
        xi2 = numpy.arange(Wr)[None, :, None, None]
        d1 = (numpy.arange(k1) - (k1 - 1) // 2)[None, None, :, None]
        d2 = (numpy.arange(k2) - (k2 - 1) // 2)[None, None, None, :]
        S = numpy.exp(2j * numpy.pi * (xi1 * d1 / H + xi2 * d2 / W)).reshape(H * Wr, k1 * k2)
        w = numpy.full(Wr, 2.0)
        w[0] = 1.0
        if W % 2 == 0:
            w[-1] = 1.0
        return S, numpy.tile(w, H)

    def nImgOut(self):
        return (self.nImg[0], self.nImg[1], self.sK[3])

    # ------------------------------------------------------------------ helpers
    def _multiplier(self, K):
        """``M`` of shape ``(H (W // 2 + 1), cin, cout)``, complex."""
        k1, k2, cin, cout = self.sK
        Kf = K.reshape(k1 * k2, cin * cout)
        M = (self._Sre @ Kf) + 1j * (self._Sim @ Kf)
        return M.reshape(-1, cin, cout)

    def _fft(self, Y):
        """Half spectrum ``(n_xi, N, C)`` of images ``(N, H, W, C)``."""
        N, C = Y.shape[0], Y.shape[-1]
        return self.xp.fft.rfft2(Y, axes=(1, 2)).reshape(N, -1, C).transpose(1, 0, 2)

    def _ifft(self, Zh):
        """Images ``(N, H, W, C)`` from the half spectrum ``(n_xi, N, C)``."""
        H, W = self.nImg
        N, C = Zh.shape[1], Zh.shape[2]
        Zh = Zh.transpose(1, 0, 2).reshape(N, H, W // 2 + 1, C)
        return self.xp.fft.irfft2(Zh, s=(H, W), axes=(1, 2)).astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ primitives
    def applyStencils(self, K, Y):
        return self._ifft(self._fft(Y) @ self._multiplier(K))

    def applyStencilsT(self, K, Z):
        return self._ifft(self._fft(Z) @ self.xp.conj(self._multiplier(K)).transpose(0, 2, 1))

    def stencilGradient(self, W, Y, reduceDim=True):
        k1, k2, cin, cout = self.sK
        Yh = self._fft(Y)                      # (n_xi, N, cin)
        Wh = self.xp.conj(self._fft(W))        # (n_xi, N, cout)
        if reduceDim:
            P = (Yh.transpose(0, 2, 1) @ Wh).reshape(-1, cin * cout)   # (n_xi, cin cout)
            G = self._Swre.T @ P.real - self._Swim.T @ P.imag         # (k1 k2, cin cout)
            return G.reshape(-1)
        N = Y.shape[0]
        Sw = self._Swre + 1j * self._Swim                              # (n_xi, k1 k2)
        # T[n, (i, j), c, xi] = Sw[xi, (i, j)] Yhat[n, xi, c]
        T = Sw.T[None, :, None, :] * Yh.transpose(1, 2, 0)[:, None, :, :]
        G = (T.reshape(N, k1 * k2 * cin, -1) @ Wh.transpose(1, 0, 2)).real
        return G.reshape(N, -1)
