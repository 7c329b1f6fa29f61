"""``opPool``: average pooling with stride equal to the pooling size."""
from ..backend import getArrayModuleOf
from ..validation import checkShape
from ._tensorOperator import TensorOperator

__all__ = ["opPool"]


class opPool(TensorOperator):
    """Average pooling of ``pool x pool`` patches with stride ``pool`` (Meganet.m's ``opPool``).

    Domain: images ``(H, W, C)``; range ``(H/p, W/p, C)`` with ``p = pool``::

        (P X)[i, j, c] = 1/p^2 * sum_{a, b < p} X[p i + a, p j + b, c]

    Adjoint: each pooled value spread evenly over its patch,
    ``(P^T Z)[p i + a, p j + b, c] = Z[i, j, c] / p^2``. Rectangular images are allowed;
    ``H`` and ``W`` must be divisible by ``pool``.

    Batched: yes, ``(N, H, W, C) -> (N, H/p, W/p, C)``.

    Parameters
    ----------
    nImg : (int, int) or (int, int, int)
        ``(H, W)`` (one channel) or ``(H, W, C)``.
    pool : int
        Pooling size (= stride).
    useGPU, precision :
        Backend settings (the operator acts on the backend of its input).
    """

    def __init__(self, nImg, pool, useGPU=False, precision="double"):
        nImg = checkShape("opPool", "nImg (H, W[, C])", nImg, 2, 3)
        if len(nImg) == 2:
            nImg = nImg + (1,)
        (pool,) = checkShape("opPool", "pool", pool, 1, 1)
        H, W, C = nImg
        if H % pool or W % pool:
            raise ValueError(f"opPool: the image size (H, W) = ({H}, {W}) must be divisible by "
                             f"pool = {pool}")
        self.nImg = nImg
        self.pool = pool
        self.stride = pool
        super().__init__((H // pool, W // pool, C), nImg, useGPU=useGPU, precision=precision)

    def _forward(self, X):
        B = X.shape[0]
        H, W, C = self.nImg
        p = self.pool
        return X.reshape(B, H // p, p, W // p, p, C).mean(axis=(2, 4))

    def _adjoint(self, Z):
        B = Z.shape[0]
        H, W, C = self.nImg
        p = self.pool
        Zs = Z.reshape(B, H // p, 1, W // p, 1, C) * (1.0 / p ** 2)
        xp = getArrayModuleOf(Z)
        return xp.broadcast_to(Zs, (B, H // p, p, W // p, p, C)).reshape(B, H, W, C)
