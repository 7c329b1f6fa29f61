"""Inexact (truncated CG) Newton method with a line search (Meganet.m's ``newton``)."""
from .armijo import Armijo
from .lineSearchOptimizer import LineSearchOptimizer
from .optimizer import norm
from .steihaugPCG import SteihaugPCG

__all__ = ["Newton"]


class Newton(LineSearchOptimizer):
    """Newton-CG: ``H s = -dJ`` solved inexactly by ``linSol``, then a line search.

    The objective must return five values ``(Jc, para, dJ, H, PC)`` (see
    :mod:`meganet.optim`): ``H`` the Hessian (or a Gauss-Newton approximation) as a
    LinearOperator, callable or matrix, ``PC`` a preconditioner or ``None``. When the
    linear solver returns ``s = 0`` (e.g. negative curvature in its first iteration),
    ``s = -dJ / |dJ|`` is used. Then ``max|s_i| <= maxStep``.

    Parameters
    ----------
    maxIter : int or inf, default 10
        Maximum number of iterations; ``inf`` (as Meganet.m accepts) leaves the stop to
        the tolerances, ``maxWorkUnits`` and a failed line search.
    maxWorkUnits : float, default inf
        Work budget (2 units per gradient evaluation and per Hessian-vector product).
    atol, rtol : float, default 1e-3
    maxStep : float, default 1.0
    out : int, default 0
    LS : Armijo or Wolfe, default Armijo()
    linSol : default SteihaugPCG(tol=0.1, maxIter=10)
        Object with ``solve(A, b, x0, PC) -> (x, para)`` and ``hisNames()``/``hisVals(para)``
        (:class:`SteihaugPCG` or :class:`GMRES`).

    History columns: ``iter, Jc, |x-xOld|, |dJ|/|dJ0|``, the linear solver's columns
    (``iterCG, relresCG``), ``mu, LS, TotalWork``, then the objectives' columns.
    """

    name = "newton"
    needsHessian = True
    hasWorkUnits = True

    def __init__(self, maxIter=10, maxWorkUnits=float("inf"), atol=1e-3, rtol=1e-3, maxStep=1.0,
                 out=0, LS=None, linSol=None):
        self.maxIter = maxIter
        self.maxWorkUnits = maxWorkUnits
        self.atol = atol
        self.rtol = rtol
        self.maxStep = maxStep
        self.out = out
        self.LS = Armijo() if LS is None else LS
        self.linSol = SteihaugPCG(tol=0.1, maxIter=10) if linSol is None else linSol
        self._checkOptions()

    def _checkOptions(self):
        self._checkCommon()
        if not callable(getattr(self.linSol, "solve", None)):
            raise TypeError(f"Newton: linSol must have a method solve(A, b, x0, PC); got "
                            f"{type(self.linSol).__name__}")

    def _options(self):
        return {"maxIter": self.maxIter, "maxWorkUnits": self.maxWorkUnits, "atol": self.atol,
                "rtol": self.rtol, "maxStep": self.maxStep, "out": self.out, "LS": self.LS,
                "linSol": self.linSol}

    def _directionNames(self):
        return self.linSol.hisNames()

    def _direction(self, it, xc, Jc, dJ, H, PC):
        s, para = self.linSol.solve(H, -dJ, None, PC)
        if "nMatVec" in para:
            work = 2 * para["nMatVec"]
        else:
            work = para.get("funEvals", 0)
        if norm(s) == 0:
            s = -dJ / norm(dJ)
        return s, self.linSol.hisVals(para), work
