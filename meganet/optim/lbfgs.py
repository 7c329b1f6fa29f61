"""Limited-memory BFGS (Meganet.m's ``lbfgs``)."""
from .lineSearchOptimizer import LineSearchOptimizer
from .optimizer import checkInt, dot, hostFloat
from .wolfe import Wolfe

__all__ = ["LBFGS"]


class LBFGS(LineSearchOptimizer):
    """Limited-memory BFGS with a strong-Wolfe line search.

    The direction ``s = -B^{-1} dJ`` comes from the two-loop recursion over the last
    ``nBFGS`` pairs ``(x_{k+1} - x_k, dJ_{k+1} - dJ_k)`` with positive curvature (pairs
    with ``y^T s <= 0`` are skipped). The initial matrix is ``H0 = gamma I`` with
    ``gamma = s^T y / y^T y`` of the newest pair (Nocedal & Wright, eq. 7.20); Meganet.m
    uses ``H0 = I``, which leaves the step length to the line search alone. In the first
    iteration ``s = -dJ`` scaled to ``max|s_i| <= maxStep``. Every line search starts
    at ``mu = 1``. The objective values and gradients computed by the Wolfe line search
    are reused, so each accepted step costs no extra evaluation.

    Parameters
    ----------
    maxIter : int or inf, default 10
        Maximum number of iterations; ``inf`` (as Meganet.m accepts) leaves the stop to
        the tolerances and a failed line search.
    atol, rtol : float, default 1e-3
    maxStep : float, default 1
        Cap on ``max|s_i|`` of the search direction.
    nBFGS : int, default 10
        Number of stored pairs.
    out : int, default 0
    LS : Wolfe, default Wolfe()
    maxWorkUnits : float, default inf

    History columns: ``iter, Jc, |x-xOld|, |dJ|/|dJ0|, funEvalsLS, muLS, TotalWork``, then
    the objectives' columns. (Meganet.m's file is ``lbfgs.m``, its class ``lBFGS``.)
    """

    name = "lbfgs"
    resetMu = True
    hasWorkUnits = True

    def __init__(self, maxIter=10, atol=1e-3, rtol=1e-3, maxStep=1, nBFGS=10, out=0, LS=None,
                 maxWorkUnits=float("inf")):
        self.maxIter = maxIter
        self.atol = atol
        self.rtol = rtol
        self.maxStep = maxStep
        self.nBFGS = nBFGS
        self.out = out
        self.LS = Wolfe() if LS is None else LS
        self.maxWorkUnits = maxWorkUnits
        self._checkOptions()

    def _checkOptions(self):
        self._checkCommon()
        self.nBFGS = checkInt("LBFGS", "nBFGS", self.nBFGS, 1)

    def _options(self):
        return {"maxIter": self.maxIter, "atol": self.atol, "rtol": self.rtol,
                "maxStep": self.maxStep, "nBFGS": self.nBFGS, "out": self.out, "LS": self.LS,
                "maxWorkUnits": self.maxWorkUnits}

    def _title(self, n):
        return (f"== {self.name} (n={n}, maxIter={self.maxIter}, maxWorkUnits={self.maxWorkUnits}, "
                f"nBFGS={self.nBFGS}, rtol={self.rtol:.2e}, atol={self.atol:.2e}) ===")

    def _start(self, xc, Jc, dJ):
        self._pairs = []        # (s, y, 1 / y^T s)
        self.nSkipped = 0

    def _accepted(self, xOld, dJOld, xc, dJ):
        s = xc - xOld
        y = dJ - dJOld
        ys = hostFloat(dot(y, s))
        if ys > 0:
            self._pairs.append((s, y, 1.0 / ys))
            if len(self._pairs) > self.nBFGS:
                self._pairs.pop(0)
        else:
            self.nSkipped += 1

    def _capDirection(self):
        return not self._pairs

    def _direction(self, it, xc, Jc, dJ, H, PC):
        q = -dJ
        if not self._pairs:
            return q, [], 0
        alphas = []
        for s, y, rho in reversed(self._pairs):
            a = rho * hostFloat(dot(s, q))
            alphas.append(a)
            q = q - a * y
        s, y, rho = self._pairs[-1]
        q = q * (1.0 / (rho * hostFloat(dot(y, y))))
        for (s, y, rho), a in zip(self._pairs, reversed(alphas)):
            b = rho * hostFloat(dot(y, q))
            q = q + (a - b) * s
        return q, [], 0
