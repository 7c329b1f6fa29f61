"""``RegressionLoss``: weighted least squares (Meganet.m's ``regressionLoss``)."""
import numpy

from ..backend import getArrayModuleOf, toHost
from .abstractLoss import AbstractLoss

__all__ = ["RegressionLoss"]


class RegressionLoss(AbstractLoss):
    """Least-squares loss ``F = 0.5/N ||Gamma (S - C)||^2`` for regression.

    With scores ``S = Yaug Wm^T`` (layout in :mod:`meganet.loss.abstractLoss`) and real
    targets ``C`` (``(N, nOut)``), the residual of example ``i`` is ``r_i = Gamma (s_i - c_i)``,
    i.e. ``R = (S - C) Gamma^T`` (``R = Gamma (S - C)`` for a scalar ``Gamma``)::

        F = 0.5/N sum_i ||r_i||^2
        dF/dS = R Gamma / N
        H_S U = U Gamma^T Gamma / N

    The bias column appended to ``Y`` holds ONES (Meganet.m appends zeros when
    ``padarray`` is unavailable, which removes the bias).

    Parameters
    ----------
    addBias : bool
        Append a column of ones to ``Y`` (bias = last column of ``Wm``).
    Gamma : float or 2-D array
        Scalar weight or a ``(p, nOut)`` weighting matrix.

    ``para = [sum_i 0.5 ||r_i||^2, N, sum_i 0.5 ||r_i||^2]`` (the third entry repeats the loss,
    as in Meganet.m, which has no error count for regression); ``hisNames`` is ``F`` only and
    ``hisVals(para) = [F]``. ``getLabels(W, Y)`` returns one-hot rows of the largest score,
    as Meganet.m's.
    """

    labels = "real"

    def __init__(self, addBias=True, Gamma=1.0):
        super().__init__(addBias=addBias)
        if hasattr(Gamma, "shape") and getattr(Gamma, "ndim", 0) > 0:
            G = numpy.asarray(toHost(Gamma), dtype=numpy.float64)
            if G.ndim != 2 or G.size == 0:
                raise ValueError(f"RegressionLoss: Gamma must be a number or a 2-D (p, nOut) matrix; "
                                 f"got shape {tuple(G.shape)}")
            self.Gamma = G
        else:
            try:
                self.Gamma = float(Gamma)
            except (TypeError, ValueError):
                raise ValueError(f"RegressionLoss: Gamma must be a number or a 2-D (p, nOut) "
                                 f"matrix; got {Gamma!r}") from None
        self._GammaCache = {}

    def _G(self, like):
        """Gamma on ``like``'s backend and dtype (None for a scalar Gamma)."""
        if not isinstance(self.Gamma, numpy.ndarray):
            return None
        xp = getArrayModuleOf(like)
        key = (xp.__name__, like.dtype.str)
        if key not in self._GammaCache:
            G = self.Gamma.astype(like.dtype)
            self._GammaCache[key] = G if xp is numpy else xp.asarray(G)
        return self._GammaCache[key]

    def _checkGamma(self, nOut):
        if isinstance(self.Gamma, numpy.ndarray) and self.Gamma.shape[1] != nOut:
            raise ValueError(f"RegressionLoss: Gamma must have nOut = {nOut} columns (the number "
                             f"of targets per example); got shape {self.Gamma.shape}")

    def _lossS(self, S, C):
        self._checkGamma(S.shape[1])
        G = self._G(S)
        R = (S - C) @ G.T if G is not None else self.Gamma * (S - C)
        return 0.5 * (R * R).sum(axis=1), R

    def _gradS(self, S, C, R):
        G = self._G(S)
        return R @ G if G is not None else self.Gamma * R

    def _hessS(self, U, S, C, R):
        G = self._G(S)
        return (U @ G.T) @ G if G is not None else (self.Gamma ** 2) * U

    def _hessBlocks(self, S, C, R):
        xp = getArrayModuleOf(S)
        G = self._G(S)
        GtG = G.T @ G if G is not None else (self.Gamma ** 2) * xp.eye(S.shape[1], dtype=S.dtype)
        return xp.broadcast_to(GtG, (S.shape[0],) + GtG.shape)

    def _nErrors(self, S, C, lossSum):
        return lossSum

    def hisNames(self):
        """``(names, formats)``: the loss only."""
        return ["F"], ["%-12.2e"]

    def hisVals(self, para):
        """``[F]`` (host value) from (summed) ``para``."""
        p = toHost(para).astype(numpy.float64)
        return numpy.array([p[0] / p[1]])
