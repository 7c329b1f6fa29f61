"""``TikhonovReg``: ``0.5 alpha ||B (x - xref)||^2`` (Meganet.m's ``tikhonovReg``)."""
from .abstractRegularizer import (AbstractRegularizer, applyOp, applyOpT, asOperator,
                                  domainSize)

__all__ = ["TikhonovReg"]


class TikhonovReg(AbstractRegularizer):
    """Tikhonov regularizer ``S(x) = 0.5 alpha ||B (x - xref)||^2``.

    With ``u = x - xref``::

        dS  = alpha B^T B u
        d2S = alpha B^T B          (exact; a LinearOperator on (nTheta,))

    Parameters
    ----------
    B : LinearOperator, 2-D matrix, int or None
        The operator (``None``: the identity on vectors of any length; an int ``n``:
        ``opEye(n)``).
    alpha : float
        Weight, ``>= 0`` (``ValueError`` otherwise, also when assigned later); ``None`` or
        ``[]`` (Meganet.m's ``[]``) mean 1.
    xref : float, 1-D array or None
        Reference weights; ``None``, ``[]`` or an empty array (Meganet.m's ``[]``) mean 0.
    useGPU, precision : optional
        Pushed to ``B`` (default: ``B``'s settings).

    ``para = [Sc, alpha]``; ``hisNames`` ``['R', 'alpha']``.
    """

    _alphaCount = 1

    def __init__(self, B=None, alpha=1.0, xref=0.0, useGPU=None, precision=None):
        self.B = asOperator(B, "TikhonovReg", "B")
        self.alpha = alpha
        super().__init__(useGPU=useGPU, precision=precision)
        self._setXref(xref)

    def nTheta(self):
        return None if self.B is None else domainSize(self.B)

    def _BtB(self, v):
        if self.B is None:
            return v
        return applyOpT(self.B, applyOp(self.B, v))

    def getA(self):
        """``alpha B^T B`` as a LinearOperator (needs a known size)."""
        n = self.nTheta()
        if n is None:
            raise ValueError("TikhonovReg.getA: B=None (identity of any size) has no fixed size")
        from ..linops.linearOperator import LinearOperator
        mv = lambda v: self.alpha * self._BtB(v.reshape(-1)).reshape(v.shape)  # noqa: E731
        return LinearOperator((n,), (n,), mv, mv, useGPU=self.useGPU, precision=self.precision)

    def getPC(self):
        """The preconditioner of ``B`` (``B.getPCop()``: ``pinv(B^T B)``), as Meganet.m."""
        if self.B is None:
            raise ValueError("TikhonovReg.getPC: B=None has no fixed size; give B=opEye(n)")
        if not hasattr(self.B, "getPCop"):
            raise NotImplementedError(f"TikhonovReg.getPC: {type(self.B).__name__} has no getPCop")
        return self.B.getPCop()

    def regularizer(self, x):
        self._checkX(x)
        u = self._u(x)
        a = self.alpha
        if self.B is None:
            Bu = u
            dS = a * u
        else:
            Bu = applyOp(self.B, u)
            dS = a * applyOpT(self.B, Bu)
        Sc = 0.5 * a * (Bu * Bu).sum()
        d2S = self._symOp(x.shape[0], lambda v: a * self._BtB(v), x)
        return Sc, self._para(x, Sc, a), dS, d2S
