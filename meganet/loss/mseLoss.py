"""``MseLoss``: mean squared error with classification accuracy (a working ``mseLoss``)."""
from ..backend import getArrayModuleOf
from .abstractLoss import AbstractLoss

__all__ = ["MseLoss"]


class MseLoss(AbstractLoss):
    """Squared-error loss ``F = 0.5/N ||S - C||_F^2`` (Meganet.m's ``mseLoss``, made to work).

    With scores ``S = Yaug Wm^T`` (layout in :mod:`meganet.loss.abstractLoss`)::

        F = 0.5/N sum_i ||s_i - c_i||^2
        dF/dS = (S - C) / N
        H_S U = U / N

    This is the formula documented in Meganet.m's ``mseLoss`` (whose code does not run);
    unlike :class:`RegressionLoss` it reports a classification accuracy.

    Parameters
    ----------
    addBias : bool
        Append a column of ones to ``Y`` (bias = last column of ``Wm``).

    Targets: ``C`` is ``(N, nOut)`` real (typically one-hot), or a 1-D integer array of class
    indices, converted to one-hot rows. ``para = [sum_i 0.5 ||s_i - c_i||^2, N, nErrors]`` with
    ``nErrors`` the number of examples whose largest score is not at the largest entry of
    their target; ``hisVals(para) = [F, accuracy %]``. ``getLabels(W, Y)`` returns one-hot
    predictions.
    """

    labels = "realOrIndex"

    def _lossS(self, S, C):
        R = S - C
        return 0.5 * (R * R).sum(axis=1), R

    def _gradS(self, S, C, R):
        return R

    def _hessS(self, U, S, C, R):
        return U.copy()

    def _hessBlocks(self, S, C, R):
        xp = getArrayModuleOf(S)
        eye = xp.eye(S.shape[1], dtype=S.dtype)
        return xp.broadcast_to(eye, (S.shape[0],) + eye.shape)

    def _nErrors(self, S, C, lossSum):
        return self._argmaxErrors(S, C)
