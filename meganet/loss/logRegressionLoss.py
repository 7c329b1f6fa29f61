"""``LogRegressionLoss``: binary cross-entropy of logistic scores (Meganet.m's ``logRegressionLoss``)."""
from ..backend import getArrayModuleOf
from ..validation import checkFloat
from .abstractLoss import AbstractLoss

__all__ = ["LogRegressionLoss"]


class LogRegressionLoss(AbstractLoss):
    """Logistic regression loss: one independent binary cross-entropy per score.

    With scores ``S = Yaug Wm^T`` (layout in :mod:`meganet.loss.abstractLoss`), binary
    targets ``C`` and ``sigma(s) = 1/(1 + exp(-s))``::

        F = 1/N sum_ik ( log(1 + exp(S_ik)) - C_ik S_ik )
        dF/dS = (sigma(S) - C) / N
        H_S U = (sigma'(S) + theta) * U / N,    sigma'(s) = 1/(4 cosh^2(s/2))

    Overflow-safe forms are used: ``log(1 + exp(s)) = max(s, 0) + log1p(exp(-|s|))``,
    ``sigma(s) = 1/(1+e)`` for ``s >= 0`` and ``e/(1+e)`` otherwise, and
    ``1/(4 cosh^2(s/2)) = e/(1+e)^2``, all with ``e = exp(-|s|) <= 1``.

    Parameters
    ----------
    theta : float
        Non-negative damping added to the Hessian in ``S`` (scaled by ``1/N`` like the loss).
    addBias : bool
        Append a column of ones to ``Y`` (bias = last column of ``Wm``).

    Labels: ``C`` is ``(N, nOut)`` with entries 0 or 1 (each entry an independent binary
    label; one-hot rows are a special case), or a 1-D integer array of class indices in
    ``[0, nOut)``, converted to one-hot rows. Anything else raises ``ValueError``.

    ``para = [sum_i l_i, N, nErrors]`` with ``nErrors`` the number of examples with at least
    one wrong prediction ``(S > 0) != C`` (Meganet.m counts ``nnz(C - Cp)/2``, which halves
    the count for a single output); ``hisVals(para) = [F, accuracy %]``. ``getLabels(W, Y)``
    returns the binary predictions ``S > 0`` (``sigma(S) > 1/2``).
    """

    labels = "binary"

    def __init__(self, theta=0.0, addBias=True):
        super().__init__(addBias=addBias)
        self.theta = checkFloat("LogRegressionLoss", "theta", theta, low=0, expected="a non-negative number")

    def _lossS(self, S, C):
        xp = getArrayModuleOf(S)
        e = xp.exp(-xp.abs(S))
        softplus = xp.maximum(S, 0) + xp.log1p(e)
        losses = (softplus - C * S).sum(axis=1)
        return losses, e

    def _sigma(self, S, e):
        xp = getArrayModuleOf(S)
        return xp.where(S >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def _gradS(self, S, C, e):
        return self._sigma(S, e) - C

    def _curv(self, e):
        return e / (1.0 + e) ** 2

    def _hessS(self, U, S, C, e):
        return (self._curv(e) + self.theta) * U

    def _hessBlocks(self, S, C, e):
        xp = getArrayModuleOf(S)
        eye = xp.eye(S.shape[1], dtype=S.dtype)
        return (self._curv(e) + self.theta)[:, :, None] * eye[None]

    def _labelsS(self, S):
        return (S > 0).astype(S.dtype)

    def _nErrors(self, S, C, lossSum):
        return ((S > 0) != (C > 0.5)).any(axis=1).sum()
