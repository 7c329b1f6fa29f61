"""``SoftmaxLoss``: cross-entropy of the softmax of the scores (Meganet.m's ``softmaxLoss``)."""
from ..backend import getArrayModuleOf
from ..validation import checkFloat
from .abstractLoss import AbstractLoss

__all__ = ["SoftmaxLoss"]


class SoftmaxLoss(AbstractLoss):
    """Softmax cross-entropy for classification.

    With scores ``S = Yaug Wm^T`` (see :mod:`meganet.loss.abstractLoss` for the layout),
    one-hot targets ``C`` and ``P = softmax(S)`` row by row::

        F = 1/N sum_i ( -sum_k C_ik S_ik + log sum_k exp(S_ik) )
        dF/dS = (P - C) / N
        H_S U = (P * U - P * sum_k(P * U) + theta U) / N     (rowwise; per example the block
                                                             (diag(p_i) - p_i p_i^T + theta I) / N)

    The scores are shifted by their row maximum before exponentiating (the loss is
    invariant to the shift since the rows of ``C`` sum to one), so logits of any magnitude
    neither overflow nor produce ``nan``.

    Parameters
    ----------
    theta : float
        Non-negative damping added to the Hessian in ``S`` (scaled by ``1/N`` like the loss,
        as in Meganet.m); it does not change ``F`` or its gradient.
    addBias : bool
        Append a column of ones to ``Y`` (bias = last column of ``Wm``).

    Labels: ``C`` is ``(N, nClass)`` with one-hot rows (any numeric dtype), or a 1-D integer
    array of class indices in ``[0, nClass)`` (``nClass`` then comes from ``W``). Anything
    else raises ``ValueError``.

    ``para = [sum_i l_i, N, nErrors]`` with ``nErrors`` the number of examples whose largest
    score is not their class; ``hisVals(para) = [F, accuracy %]``. ``getLabels(W, Y)``
    returns one-hot predictions.
    """

    labels = "onehot"

    def __init__(self, theta=0.0, addBias=True):
        super().__init__(addBias=addBias)
        self.theta = checkFloat("SoftmaxLoss", "theta", theta, low=0, expected="a non-negative number")

    def _lossS(self, S, C):
        xp = getArrayModuleOf(S)
        Ss = S - S.max(axis=1, keepdims=True)
        E = xp.exp(Ss)
        sumE = E.sum(axis=1, keepdims=True)
        losses = -(C * Ss).sum(axis=1) + xp.log(sumE[:, 0])
        return losses, E / sumE

    def _gradS(self, S, C, P):
        return P - C

    def _hessS(self, U, S, C, P):
        PU = P * U
        out = PU - P * PU.sum(axis=1, keepdims=True)
        if self.theta > 0:
            out = out + self.theta * U
        return out

    def _hessBlocks(self, S, C, P):
        xp = getArrayModuleOf(S)
        eye = xp.eye(S.shape[1], dtype=S.dtype)
        return P[:, :, None] * (eye[None] - P[:, None, :]) + self.theta * eye[None]

    def _nErrors(self, S, C, lossSum):
        return self._argmaxErrors(S, C)
