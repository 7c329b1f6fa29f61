"""``opEye``: the identity operator."""
from ..validation import checkShape
from ._tensorOperator import TensorOperator, applyShaped

__all__ = ["opEye"]


class opEye(TensorOperator):
    """Identity ``I: R^n -> R^n`` (Meganet.m's ``opEye``).

    ``Amv(x) = ATmv(x) = x`` (a copy). Batched: yes (a leading example axis is kept).

    Parameters
    ----------
    n : int or tuple of int
        Shape of the domain (= range).
    useGPU, precision :
        Backend settings (the operator acts on the backend of its input).

    ``PCmv(x, alpha=1, gamma=0)`` solves ``(alpha I + gamma I) y = x``, i.e.
    ``y = x / (alpha + gamma)``; ``getPCop()`` returns the operator itself.
    """

    def __init__(self, n, useGPU=False, precision="double"):
        n = checkShape("opEye", "n", n)
        super().__init__(n, n, useGPU=useGPU, precision=precision)

    def _forward(self, X):
        return X.copy()

    _adjoint = _forward

    def PCmv(self, x, alpha=1.0, gamma=0.0):
        """``(alpha I + gamma I)^{-1} x``."""
        s = float(alpha) + float(gamma)
        if s == 0:
            raise ValueError("opEye.PCmv: alpha + gamma must not be zero")
        return applyShaped("opEye.PCmv", x, self.n, self.n, lambda X: X / s, self.batched)

    def getPCop(self):
        """The preconditioner ``(I^T I)^{-1} = I``: the operator itself."""
        return self
