"""``opTimeDer``: forward-difference time derivative of per-time-step weights."""
from ..backend import getArrayModuleOf
from ._dct import dctMatrix, eigLap1D
from ..validation import checkFloat, checkShape
from ._tensorOperator import TensorOperator, applyShaped, safeReciprocal, solveOperator

__all__ = ["opTimeDer"]


class opTimeDer(TensorOperator):
    """Time derivative of the weights of a block with ``nt`` time steps (Meganet.m's ``opTimeDer``).

    The weights ``theta`` (``ntheta`` entries) hold ``nt`` contiguous per-step chunks of
    ``p = ntheta / nt`` entries, step 0 first; i.e. ``Theta = theta.reshape(nt, p)``
    (C order). The operator returns the scaled forward differences in time::

        (L theta)[k, :] = beta * (Theta[k+1, :] - Theta[k, :]) / h,   k = 0..nt-2,

    flattened in C order, shape ``((nt-1) * p,)``. As a matrix ``L = beta/h * kron(D, I_p)``
    with ``D`` the ``(nt-1) x nt`` forward difference. The adjoint, for ``Z`` viewed as
    ``(nt-1, p)`` and padded with zero rows ``Z[-1] = Z[nt-1] = 0``::

        (L^T z)[k, :] = beta * (Z[k-1, :] - Z[k, :]) / h,   k = 0..nt-1.

    Batched: yes, ``(N, ntheta) -> (N, (nt-1) p)``.

    ``PCmv(x, alpha=1, gamma=0)`` returns the minimum-norm solution of
    ``(alpha L^T L + gamma I) y = x`` (the pseudo-inverse of ``alpha L^T L`` when
    ``gamma = 0``): ``L^T L = (beta/h)^2 kron(D^T D, I_p)`` is diagonalised by the
    orthonormal DCT-II ``Q`` in time, ``D^T D = Q^T diag(lam) Q`` with
    ``lam_k = 4 sin^2(pi k / (2 nt))``, so ``y = Q^T diag(s) Q x`` (along the time axis) with
    ``s = 1 / (alpha beta^2 lam / h^2 + gamma)`` and ``s = 0`` where that denominator is 0.

    Parameters
    ----------
    ntheta : int
        Number of weights (a multiple of ``nt``).
    nt : int
        Number of time steps.
    h : float
        Time step size.
    useGPU, precision :
        Backend settings (the operator acts on the backend of its input).

    Attributes
    ----------
    beta : float
        Scaling (default 1), settable as in Meganet.m.
    """

    def __init__(self, ntheta, nt, h=1.0, useGPU=False, precision="double"):
        (ntheta,) = checkShape("opTimeDer", "ntheta", ntheta, 1, 1)
        (nt,) = checkShape("opTimeDer", "nt", nt, 1, 1)
        if ntheta % nt != 0:
            raise ValueError(f"opTimeDer: ntheta must be a multiple of nt (nt chunks of equal "
                             f"size); got ntheta={ntheta}, nt={nt}")
        self.ntheta = ntheta
        self.nt = nt
        self.nThetaPerStep = ntheta // nt
        self.h = checkFloat("opTimeDer", "h", h, low=0, lowOpen=True, expected="a positive number")
        self.beta = 1.0
        super().__init__(((nt - 1) * self.nThetaPerStep,), (ntheta,), useGPU=useGPU,
                         precision=precision)
        self._setConst("Q", dctMatrix(nt))
        self._setConst("lam", eigLap1D(nt, 1.0))

    def _forward(self, X):
        T = X.reshape(X.shape[0], self.nt, self.nThetaPerStep)
        D = (T[:, 1:] - T[:, :-1]) * (self.beta / self.h)
        return D.reshape(X.shape[0], -1)

    def _adjoint(self, Z):
        xp = getArrayModuleOf(Z)
        B, p = Z.shape[0], self.nThetaPerStep
        pad = xp.zeros((B, 1, p), dtype=Z.dtype)
        Zp = xp.concatenate([pad, Z.reshape(B, self.nt - 1, p), pad], axis=1)
        Y = (Zp[:, :-1] - Zp[:, 1:]) * (self.beta / self.h)
        return Y.reshape(B, self.ntheta)

    def PCmv(self, x, alpha=1.0, gamma=0.0):
        """Minimum-norm solution of ``(alpha L^T L + gamma I) y = x``."""
        alpha, gamma = float(alpha), float(gamma)

        def solve(X):
            B = X.shape[0]
            Q = self._const("Q", X)
            s = safeReciprocal((alpha * self.beta ** 2 / self.h ** 2) * self._const("lam", X) + gamma)
            T = X.reshape(B, self.nt, self.nThetaPerStep)
            xp = getArrayModuleOf(X)
            That = xp.einsum("kt,btp->bkp", Q, T) * s[None, :, None]
            return xp.einsum("kt,bkp->btp", Q, That).reshape(B, self.ntheta)
        return applyShaped("opTimeDer.PCmv", x, self.n, self.n, solve, self.batched)

    def getPCop(self):
        """``pinv(L^T L)`` as an operator (``PCmv`` with ``alpha=1, gamma=0``)."""
        return solveOperator(self, self.PCmv)

