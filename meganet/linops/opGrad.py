"""``opGrad``: forward-difference image gradient, channel by channel."""
from ..backend import getArrayModuleOf
from ._dct import dctMatrix, eigLap1D
from ..validation import checkFloat, checkShape
from ._tensorOperator import TensorOperator, applyShaped, safeReciprocal, solveOperator

__all__ = ["opGrad"]


class opGrad(TensorOperator):
    """Discrete gradient of images with ``nC`` channels (Meganet.m's ``opGrad``).

    Domain: images of shape ``(H, W, nC)`` (channels last). With ``X`` one image::

        G1 = beta * (X[1:, :, :] - X[:-1, :, :]) / h[0]     shape (H-1, W, nC)
        G2 = beta * (X[:, 1:, :] - X[:, :-1, :]) / h[1]     shape (H, W-1, nC)
        G X = concatenate(G1.ravel(), G2.ravel())           shape (m1 + m2,)

    with ``m1 = (H-1) W nC`` and ``m2 = H (W-1) nC`` (C order). The adjoint, for
    ``z = [z1, z2]`` viewed as ``Z1`` (H-1, W, nC) and ``Z2`` (H, W-1, nC) and padded with
    zero rows/columns at both ends::

        G^T z = beta * ((Z1[k-1, :] - Z1[k, :]) / h[0] + (Z2[:, l-1] - Z2[:, l]) / h[1]).

    Batched: yes, ``(N, H, W, nC) -> (N, m1 + m2)``.

    ``PCmv(x, alpha=1, gamma=0)``: minimum-norm solution of ``(alpha G^T G + gamma I) y = x``.
    ``G^T G = beta^2 (D1^T D1 / h0^2 (+) D2^T D2 / h1^2)`` per channel is diagonalised by the
    2-D orthonormal DCT-II, with eigenvalues ``beta^2 (lam1_i / h0^2 + lam2_j / h1^2)``
    (see :mod:`meganet.linops._dct`); entries with a zero denominator are set to zero.

    Parameters
    ----------
    nImg : (int, int)
        Image size ``(H, W)``.
    nC : int
        Number of channels.
    h : float or (float, float)
        Pixel size (one value for both directions, or ``(h0, h1)``).
    useGPU, precision :
        Backend settings (the operator acts on the backend of its input).

    Attributes
    ----------
    beta : float
        Scaling (default 1), settable as in Meganet.m.
    """

    def __init__(self, nImg, nC, h=1.0, useGPU=False, precision="double"):
        nImg = checkShape("opGrad", "nImg (H, W)", nImg, 2, 2)
        (nC,) = checkShape("opGrad", "nC", nC, 1, 1)
        if isinstance(h, (list, tuple)) or getattr(h, "ndim", 0) == 1:
            hs = tuple(h)
            if len(hs) != 2:
                raise ValueError(f"opGrad: h must be a number or two numbers (h0, h1); got {h!r}")
        else:
            hs = (h, h)
        self.h = tuple(checkFloat("opGrad", "h", v, low=0, lowOpen=True, expected="a positive number") for v in hs)
        self.nImg = nImg
        self.nChannels = nC
        self.beta = 1.0
        H, W = nImg
        self._m1 = (H - 1) * W * nC
        self._m2 = H * (W - 1) * nC
        super().__init__((self._m1 + self._m2,), (H, W, nC), useGPU=useGPU, precision=precision)
        self._setConst("Q1", dctMatrix(H))
        self._setConst("Q2", dctMatrix(W))
        self._setConst("lam1", eigLap1D(H, 1.0))
        self._setConst("lam2", eigLap1D(W, 1.0))

    def _forward(self, X):
        B = X.shape[0]
        xp = getArrayModuleOf(X)
        G1 = (X[:, 1:] - X[:, :-1]) * (self.beta / self.h[0])
        G2 = (X[:, :, 1:] - X[:, :, :-1]) * (self.beta / self.h[1])
        return xp.concatenate([G1.reshape(B, self._m1), G2.reshape(B, self._m2)], axis=1)

    def _adjoint(self, Z):
        B = Z.shape[0]
        H, W = self.nImg
        nC = self.nChannels
        xp = getArrayModuleOf(Z)
        Z1 = Z[:, :self._m1].reshape(B, H - 1, W, nC)
        Z2 = Z[:, self._m1:].reshape(B, H, W - 1, nC)
        pad1 = xp.zeros((B, 1, W, nC), dtype=Z.dtype)
        pad2 = xp.zeros((B, H, 1, nC), dtype=Z.dtype)
        Z1 = xp.concatenate([pad1, Z1, pad1], axis=1)
        Z2 = xp.concatenate([pad2, Z2, pad2], axis=2)
        return ((Z1[:, :-1] - Z1[:, 1:]) * (self.beta / self.h[0])
                + (Z2[:, :, :-1] - Z2[:, :, 1:]) * (self.beta / self.h[1]))

    def PCmv(self, x, alpha=1.0, gamma=0.0):
        """Minimum-norm solution of ``(alpha G^T G + gamma I) y = x``."""
        alpha, gamma = float(alpha), float(gamma)

        def solve(X):
            xp = getArrayModuleOf(X)
            Q1, Q2 = self._const("Q1", X), self._const("Q2", X)
            lam = (self._const("lam1", X)[:, None] / self.h[0] ** 2
                   + self._const("lam2", X)[None, :] / self.h[1] ** 2)
            s = safeReciprocal((alpha * self.beta ** 2) * lam + gamma)
            Xhat = xp.einsum("ih,bhwc,jw->bijc", Q1, X, Q2) * s[None, :, :, None]
            return xp.einsum("ih,bijc,jw->bhwc", Q1, Xhat, Q2)
        return applyShaped("opGrad.PCmv", x, self.n, self.n, solve, self.batched)

    def getPCop(self):
        """``pinv(G^T G)`` as an operator (``PCmv`` with ``alpha=1, gamma=0``)."""
        return solveOperator(self, self.PCmv)
