"""Steepest descent (Meganet.m's ``sd``)."""
from .armijo import Armijo
from .lineSearchOptimizer import LineSearchOptimizer
from .optimizer import norm

__all__ = ["SD"]


class SD(LineSearchOptimizer):
    """Steepest descent with a line search.

    Direction ``s = -dJ / |dJ|`` (then ``max|s_i| <= maxStep``); see
    :class:`~meganet.optim.lineSearchOptimizer.LineSearchOptimizer` for the loop, the
    history columns and the stopping rules.

    Parameters
    ----------
    maxIter : int or inf, default 10
        Maximum number of iterations; ``inf`` (as Meganet.m accepts) leaves the stop to
        the tolerances and a failed line search.
    atol, rtol : float, default 1e-3
        Stop when ``|dJ| < atol`` or ``|dJ| / |dJ0| < rtol``.
    maxStep : float, default 1.0
        Cap on ``max|s_i|`` of the search direction.
    out : int, default 0
        Print the history table when ``> 0``.
    LS : Armijo or Wolfe, default Armijo()
        Line search; its projection ``LS.P`` (Armijo) keeps iterates feasible.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: (0.5 * x @ x, {}, x)
    >>> xc, His, xOpt = SD(maxIter=50, atol=1e-8, rtol=1e-8).solve(f, np.ones(3))
    >>> bool(np.abs(xc).max() < 1e-6)
    True
    """

    name = "sd"

    def __init__(self, maxIter=10, atol=1e-3, rtol=1e-3, maxStep=1.0, out=0, LS=None):
        self.maxIter = maxIter
        self.atol = atol
        self.rtol = rtol
        self.maxStep = maxStep
        self.out = out
        self.LS = Armijo() if LS is None else LS
        self._checkOptions()

    def _options(self):
        return {"maxIter": self.maxIter, "atol": self.atol, "rtol": self.rtol,
                "maxStep": self.maxStep, "out": self.out, "LS": self.LS}

    def _direction(self, it, xc, Jc, dJ, H, PC):
        return -dJ / norm(dJ), [], 0
