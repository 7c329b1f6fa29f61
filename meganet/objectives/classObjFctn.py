"""``ClassObjFctn``: fit the classifier weights W for fixed features."""
from ..linops.linearOperator import LinearOperator
from ._dnnObjective import addRegularizers, historyEntries

__all__ = ["ClassObjFctn"]


class ClassObjFctn:
    """Objective ``J(W) = S(W, Y, C) + R_W(W)`` in the classifier weights only (Meganet.m's ``classObjFctn``).

    Called as ``Jc, para, dJ, H, PC = fctn(W, idx)``: value, ``para`` (with ``hisNames`` /
    ``hisVals``), gradient ``dS/dW + dR_W``, the exact Hessian ``d2S/dW2 + d2R_W`` as a
    LinearOperator and ``PC = None``.

    Parameters
    ----------
    pLoss : loss
    pRegW : regularizer or None
    Y : array, shape (N, ...)
        Fixed features (e.g. a network's output), on the backend of ``W``.
    C : array
        Targets as the loss accepts them.
    """

    def __init__(self, pLoss, pRegW, Y, C):
        if not callable(getattr(pLoss, "getMisfit", None)):
            raise TypeError(f"ClassObjFctn: pLoss must be a loss (with getMisfit); got {type(pLoss).__name__}")
        if pRegW is not None and not callable(getattr(pRegW, "regularizer", None)):
            raise TypeError(f"ClassObjFctn: pRegW must be a regularizer or None; got {type(pRegW).__name__}")
        self.pLoss, self.pRegW, self.Y, self.C = pLoss, pRegW, Y, C

    def nData(self):
        return int(self.Y.shape[0])

    def __call__(self, W, idx=None, doDerivative=True):
        Y, C = self.Y, self.C
        if idx is not None:
            Y, C = Y[idx], C[idx]
        Y2 = Y.reshape(Y.shape[0], -1)
        F, para, dWF, d2WF, _, _ = self.pLoss.getMisfit(W, Y2, C, doDerivative=doDerivative)
        out = {"F": F, "lossPara": para}
        Jc, regs = addRegularizers(F, out, ((self.pRegW, W, "W"),))
        out["hisNames"], out["hisVals"] = historyEntries(self.pLoss, para, regs)
        if not doDerivative:
            return Jc, out, None, None, None
        dJ, H = dWF, d2WF
        for _, _, _, dR, d2R in regs:
            dJ, H = dJ + dR, _sum(d2WF, d2R)
        return Jc, out, dJ, H, None


def _sum(A, B):
    return LinearOperator(A.m, A.n, lambda v: A @ v + B @ v, lambda v: A.T @ v + B.T @ v,
                          useGPU=A.useGPU, precision=A.precision)
