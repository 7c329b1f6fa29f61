"""``opRemoveAvg``: removes the mean of each convolution stencil."""
from ..validation import checkShape
from ._tensorOperator import TensorOperator

__all__ = ["opRemoveAvg"]


class opRemoveAvg(TensorOperator):
    """Subtract the mean of every ``k1 x k2`` stencil of a kernel (Meganet.m's ``opRemoveAvg``).

    ``x`` holds a kernel of shape ``sK = (k1, k2, ...)`` flattened in C order (the layout of
    ``Conv2D``'s theta). Viewing it as ``X`` of shape ``(k1 k2, r)`` with
    ``r = prod(sK[2:])``::

        (A x)[s, j] = X[s, j] - 1/(k1 k2) sum_t X[t, j]

    ``A`` is an orthogonal projection, so ``A^T = A``. Batched: yes,
    ``(N, prod(sK)) -> (N, prod(sK))``.

    Parameters
    ----------
    sK : tuple of int
        Kernel shape, at least ``(k1, k2)``.
    """

    def __init__(self, sK, useGPU=False, precision="double"):
        sK = checkShape("opRemoveAvg", "sK (k1, k2, ...)", sK, 2)
        self.sK = sK
        n = 1
        for v in sK:
            n *= v
        super().__init__((n,), (n,), useGPU=useGPU, precision=precision)

    def _forward(self, X):
        N = X.shape[0]
        Xs = X.reshape(N, self.sK[0] * self.sK[1], -1)
        return (Xs - Xs.mean(axis=1, keepdims=True)).reshape(N, -1)

    _adjoint = _forward
