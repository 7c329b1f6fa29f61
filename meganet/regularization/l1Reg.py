"""``L1Reg``: smoothed L1 (total variation) plus a quadratic term (Meganet.m's ``l1Reg``)."""
from ..backend import getArrayModuleOf
from .abstractRegularizer import applyOp, applyOpT
from .l2Reg import _TwoTermReg

__all__ = ["L1Reg"]


class L1Reg(_TwoTermReg):
    """``S(x) = a1 sum_j sqrt((B1 u)_j^2 + eps) + 0.5 a2 ||B2 u||^2`` with ``u = x - xref``.

    With ``B1 = opTimeDer`` the first term is the smoothed total variation in time of the
    paper's eq. (11). With ``r = B1 u`` and ``w = sqrt(r^2 + eps)``::

        dS  = a1 B1^T (r / w) + a2 B2^T B2 u                     (exact gradient)
        d2S = a1 B1^T diag(1 / w) B1 + a2 B2^T B2                (lagged diffusivity)

    ``d2S`` is NOT the exact Hessian, which is ``a1 B1^T diag(eps / w^3) B1 + a2 B2^T B2``: the
    lagged-diffusivity (fixed-point) approximation freezes the weights ``1/w`` at ``x``; it is
    symmetric positive semi-definite and bounds the exact Hessian from above, which is what
    Gauss-Newton type solvers need.

    Parameters
    ----------
    B1 : LinearOperator, 2-D matrix or int
        Operator of the L1 term (its domain size is ``nTheta``).
    alpha : float or (float, float)
        ``(a1, a2)``; a scalar is used for both, as in Meganet.m; ``None`` or ``[]`` mean 1.
    xref : float, 1-D array or None
        Reference weights; ``None``, ``[]`` or an empty array (Meganet.m's ``[]``) mean 0.
    B2 : LinearOperator, 2-D matrix, int or None
        Operator of the quadratic term; default ``opEye(nTheta)``.
    eps : float
        Smoothing (positive).
    useGPU, precision : optional
        Pushed to the operators.

    ``para = [Sc, a1, a2]``; ``hisNames`` ``['R', 'alpha1', 'alpha2']``.
    """

    def __init__(self, B1, alpha=(1.0, 1.0), xref=0.0, B2=None, eps=1e-3, useGPU=None,
                 precision=None):
        try:
            e = float(eps)
        except (TypeError, ValueError):
            e = float("nan")
        if not e > 0:
            raise ValueError(f"L1Reg: eps must be a positive number; got {eps!r}")
        self.eps = e
        super().__init__(B1, alpha=alpha, xref=xref, B2=B2, useGPU=useGPU, precision=precision)

    def getA(self):
        raise NotImplementedError("L1Reg.getA: the L1 term has no fixed quadratic form; use the "
                                  "d2S returned by regularizer(x)")

    def regularizer(self, x):
        self._checkX(x)
        xp = getArrayModuleOf(x)
        u = self._u(x)
        a1, a2 = self.alpha
        r1, r2 = applyOp(self.B1, u), applyOp(self.B2, u)
        w = xp.sqrt(r1 * r1 + self.eps)
        Sc = a1 * w.sum() + 0.5 * a2 * (r2 * r2).sum()
        dS = a1 * applyOpT(self.B1, r1 / w) + a2 * applyOpT(self.B2, r2)

        def mv(v):
            return (a1 * applyOpT(self.B1, applyOp(self.B1, v) / w)
                    + a2 * self._BtB(self.B2, v))
        return Sc, self._para(x, Sc, a1, a2), dS, self._symOp(x.shape[0], mv, x)
