"""``opDiag``: a diagonal operator."""
import numpy

from ..backend import toHost
from ._tensorOperator import TensorOperator, applyShaped, safeReciprocal, solveOperator

__all__ = ["opDiag"]


class opDiag(TensorOperator):
    """Diagonal operator ``x -> d * x`` (Meganet.m's ``opDiag``).

    The domain and range have the shape of ``d``; ``(A x)[i] = d[i] x[i]`` elementwise and
    ``A^T = A``. Batched: yes, ``(N, *d.shape) -> (N, *d.shape)`` (``d`` broadcasts over
    examples).

    Parameters
    ----------
    D : array
        The diagonal (any shape; NumPy or device array; kept as a host copy and applied on
        the backend and in the precision of the input).
    useGPU, precision :
        Backend settings.

    ``PCmv(x, alpha=1, gamma=0)`` returns the minimum-norm solution of
    ``(alpha D^2 + gamma I) y = x``: ``y = x / (alpha d^2 + gamma)`` with zero where the
    denominator vanishes.
    """

    def __init__(self, D, useGPU=False, precision="double"):
        if not hasattr(D, "shape"):
            D = numpy.asarray(D)
        host = numpy.asarray(toHost(D), dtype=numpy.float64)
        if host.ndim == 0 or host.size == 0:
            raise ValueError(f"opDiag: D must be a non-empty array; got shape {tuple(host.shape)}")
        super().__init__(host.shape, host.shape, useGPU=useGPU, precision=precision)
        self._setConst("D", host)

    @property
    def D(self):
        """The diagonal (host copy, float64)."""
        return self._host["D"]

    def _forward(self, X):
        return self._const("D", X) * X

    _adjoint = _forward

    def PCmv(self, x, alpha=1.0, gamma=0.0):
        """Minimum-norm solution of ``(alpha D^2 + gamma I) y = x``."""
        alpha, gamma = float(alpha), float(gamma)

        def solve(X):
            d = self._const("D", X)
            return safeReciprocal(alpha * d ** 2 + gamma) * X
        return applyShaped("opDiag.PCmv", x, self.n, self.n, solve, self.batched)

    def getPCop(self):
        """``pinv(D^2)`` as an operator."""
        return solveOperator(self, self.PCmv)
