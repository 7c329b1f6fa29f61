"""``L2Reg``: two quadratic terms (Meganet.m's ``l2Reg``)."""
from .abstractRegularizer import (AbstractRegularizer, applyOp, applyOpT, asOperator,
                                  domainSize)
from ..linops.opEye import opEye

__all__ = ["L2Reg"]


class _TwoTermReg(AbstractRegularizer):
    """Shared set-up of :class:`L2Reg` and :class:`L1Reg`: ``B1``, ``B2``, ``alpha``, ``xref``."""

    _alphaCount = 2

    def __init__(self, B1, alpha=(1.0, 1.0), xref=0.0, B2=None, useGPU=None, precision=None):
        name = type(self).__name__
        if B1 is None:
            raise ValueError(f"{name}: B1 is required (a LinearOperator, a matrix or an int)")
        self.B1 = asOperator(B1, name, "B1")
        n = domainSize(self.B1)
        self.B2 = opEye(n) if B2 is None else asOperator(B2, name, "B2")
        if domainSize(self.B2) != n:
            raise ValueError(f"{name}: B1 and B2 must act on vectors of the same length; got "
                             f"B1.n={self.B1.n} ({n} entries) and B2.n={self.B2.n} "
                             f"({domainSize(self.B2)} entries)")
        self.alpha = alpha
        super().__init__(useGPU=useGPU, precision=precision)
        self._setXref(xref)

    def nTheta(self):
        return domainSize(self.B1)

    @staticmethod
    def _BtB(B, v):
        return applyOpT(B, applyOp(B, v))

    def hisNames(self):
        return ["R", "alpha1", "alpha2"], ["%-12.2e", "%-12.2e", "%-12.2e"]


class L2Reg(_TwoTermReg):
    """``S(x) = 0.5 a1 ||B1 u||^2 + 0.5 a2 ||B2 u||^2`` with ``u = x - xref``.

    ::

        dS  = a1 B1^T B1 u + a2 B2^T B2 u
        d2S = a1 B1^T B1 + a2 B2^T B2           (exact)

    Parameters
    ----------
    B1 : LinearOperator, 2-D matrix or int
        First operator (its domain size is ``nTheta``).
    alpha : float or (float, float)
        ``(a1, a2)``; a scalar is used for both, as in Meganet.m; ``None`` or ``[]`` mean 1.
    xref : float, 1-D array or None
        Reference weights; ``None``, ``[]`` or an empty array (Meganet.m's ``[]``) mean 0.
    B2 : LinearOperator, 2-D matrix, int or None
        Second operator; default ``opEye(nTheta)``.
    useGPU, precision : optional
        Pushed to the operators.

    ``para = [Sc, a1, a2]``; ``hisNames`` ``['R', 'alpha1', 'alpha2']`` (Meganet.m names two
    columns for these three values).
    """

    def getA(self):
        """``a1 B1^T B1 + a2 B2^T B2`` as a LinearOperator."""
        from ..linops.linearOperator import LinearOperator
        n = self.nTheta()
        a1, a2 = self.alpha
        mv = lambda v: a1 * self._BtB(self.B1, v) + a2 * self._BtB(self.B2, v)  # noqa: E731
        return LinearOperator((n,), (n,), mv, mv, useGPU=self.useGPU, precision=self.precision)

    def regularizer(self, x):
        self._checkX(x)
        u = self._u(x)
        a1, a2 = self.alpha
        r1, r2 = applyOp(self.B1, u), applyOp(self.B2, u)
        Sc = 0.5 * a1 * (r1 * r1).sum() + 0.5 * a2 * (r2 * r2).sum()
        dS = a1 * applyOpT(self.B1, r1) + a2 * applyOpT(self.B2, r2)
        d2S = self._symOp(x.shape[0],
                          lambda v: a1 * self._BtB(self.B1, v) + a2 * self._BtB(self.B2, v), x)
        return Sc, self._para(x, Sc, a1, a2), dS, d2S
