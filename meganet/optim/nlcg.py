"""Nonlinear conjugate gradients (Meganet.m's ``nlcg``)."""
from .optimizer import dot, hostFloat
from .sd import SD

__all__ = ["NLCG"]


class NLCG(SD):
    """Nonlinear conjugate gradients (Hager-Zhang) with a line search.

    Directions ``s_0 = -g_0`` and ``s_k = -g_k + beta_k s_{k-1}`` with the Hager-Zhang
    coefficient (the formula Meganet.m's ``nlcg`` uses)

        beta_k = (y - 2 s_{k-1} |y|^2 / (s_{k-1}^T y))^T g_k / (s_{k-1}^T y),
        y = g_k - g_{k-1},

    computed from the true gradients (Meganet.m first rescales gradients of norm > 1
    to unit norm, which makes ``y`` inconsistent); the method restarts with ``-g_k``
    when ``s_{k-1}^T y`` vanishes or ``s_k`` is not a descent direction. Then
    ``max|s_i| <= maxStep``. Options and history as :class:`SD` (whose constructor it shares).
    """

    name = "nlcg"

    def _start(self, xc, Jc, dJ):
        self._sPrev = None
        self._gPrev = None

    def _direction(self, it, xc, Jc, dJ, H, PC):
        s = -dJ
        if self._sPrev is not None:
            y = dJ - self._gPrev
            sy = hostFloat(dot(self._sPrev, y))
            if sy != 0.0:
                yy = hostFloat(dot(y, y))
                beta = hostFloat(dot(y - (2.0 * yy / sy) * self._sPrev, dJ)) / sy
                cand = -dJ + beta * self._sPrev
                if hostFloat(dot(cand, dJ)) < 0:
                    s = cand
        self._sPrev = s
        self._gPrev = dJ
        return s, [], 0
