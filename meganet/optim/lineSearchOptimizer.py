"""Common loop of the line-search methods SD, NLCG, Newton and LBFGS."""
import itertools
import math
import warnings

from ..backend import getArrayModuleOf
from .armijo import Armijo
from .optimizer import (Objective, Optimizer, Recorder, allFinite, checkFloat, checkInt,
                        checkVector, dot, hostFloat, norm)
from .wolfe import Wolfe

__all__ = ["LineSearchOptimizer"]


def _identity(x):
    return x


class LineSearchOptimizer(Optimizer):
    """Descent method ``x <- x + mu s`` with a line search; subclasses choose ``s``.

    One iteration: stop if ``|dJ| / |dJ0| < rtol`` or ``|dJ| < atol``; compute the search
    direction ``s`` (:meth:`_direction`; replaced by ``-dJ`` if it is not a descent
    direction), scale it so that ``max|s_i| <= maxStep``, search along it with ``LS``
    (an :class:`Armijo` or :class:`Wolfe` object) starting from the step size of the
    previous iteration (times 1.5 after a line search that accepted its first trial,
    capped at 1; LBFGS starts every search at 1), move, and evaluate the objective.

    History (one row per iterate, row 0 is the initial point): ``iter``, ``Jc``,
    ``|x-xOld|``, ``|dJ|/|dJ0|``, the direction's columns (e.g. CG iterations), the line
    search's columns, ``TotalWork`` (where the method has ``maxWorkUnits``), then the
    objectives' history columns (see :class:`meganet.optim.optimizer.Recorder`).
    Work units: 2 per objective evaluation with gradient and per Hessian-vector
    product, 1 per value-only evaluation in a backtracking line search.

    ``His.stopReason`` is one of ``'tolerance'``, ``'maxIter'``, ``'maxWorkUnits'``,
    ``'line search failed'`` (then a ``RuntimeWarning`` is issued as well).
    A non-finite objective value or gradient at an accepted iterate raises
    ``FloatingPointError`` naming the iteration.
    """

    name = "lineSearchOptimizer"
    needsHessian = False
    resetMu = False          # start every line search at mu = 1 (LBFGS)
    hasWorkUnits = False

    def _checkCommon(self):
        owner = type(self).__name__
        self.maxIter = checkInt(owner, "maxIter", self.maxIter, 0, allowInf=True)
        self.atol = checkFloat(owner, "atol", self.atol, 0)
        self.rtol = checkFloat(owner, "rtol", self.rtol, 0)
        self.maxStep = checkFloat(owner, "maxStep", self.maxStep, 0, lowOpen=True, allowInf=True)
        self.out = checkInt(owner, "out", self.out)
        if not isinstance(self.LS, (Armijo, Wolfe)) and not callable(
                getattr(self.LS, "lineSearch", None)):
            raise TypeError(f"{owner}: LS must be an Armijo or Wolfe line search; got "
                            f"{type(self.LS).__name__}")
        if self.hasWorkUnits:
            self.maxWorkUnits = checkFloat(owner, "maxWorkUnits", self.maxWorkUnits, 0,
                                           allowInf=True)

    def _checkOptions(self):
        self._checkCommon()

    # -- hooks ---------------------------------------------------------------------------
    def _directionNames(self):
        return [], []

    def _start(self, xc, Jc, dJ):
        """Called once before the iterations."""

    def _direction(self, it, xc, Jc, dJ, H, PC):
        """Search direction and its history values ``(s, values, workUnits)``."""
        raise NotImplementedError

    def _accepted(self, xOld, dJOld, xc, dJ):
        """Called after each accepted step."""

    def _capDirection(self):
        """Whether the direction is scaled to ``max|s_i| <= maxStep`` in this iteration."""
        return True

    def _title(self, n):
        return f"== {self.name} (n={n}, maxIter={self.maxIter}, maxStep={self.maxStep:.1e}) ==="

    def hisNames(self):
        dn, df = self._directionNames()
        ln, lf = self._lsNames()
        names = ["iter", "Jc", "|x-xOld|", "|dJ|/|dJ0|"] + dn + ln
        frmt = ["%-12d", "%-12.2e", "%-12.2e", "%-12.2e"] + df + lf
        if self.hasWorkUnits:
            names, frmt = names + ["TotalWork"], frmt + ["%-12d"]
        return names, frmt

    def _lsNames(self):
        if isinstance(self.LS, Wolfe):
            return self.LS.hisNames()
        return ["mu", "LS"], ["%-12.2e", "%-12d"]

    # -- the loop ------------------------------------------------------------------------
    def _evaluate(self, obj, x, where):
        Jc, para, dJ, H, PC = obj(x)
        if self.needsHessian and H is None:
            raise TypeError(f"{type(self).__name__}: the objective must return "
                            "(Jc, para, dJ, H, PC) with a Hessian H (LinearOperator, callable "
                            "or matrix); it returned no H")
        J = hostFloat(Jc)
        if not math.isfinite(J):
            raise FloatingPointError(f"{type(self).__name__}: the objective value is {J} {where}")
        if not allFinite(dJ):
            raise FloatingPointError(f"{type(self).__name__}: the gradient has non-finite "
                                     f"entries {where}")
        return Jc, para, dJ, H, PC

    def _lineSearch(self, obj, xc, mu, s, Jc, dJ):
        """``(xt, mu, nTrials, ok, evaluation at xt or None, LS history values, work)``."""
        if isinstance(self.LS, Wolfe):
            xt, p = self.LS.lineSearch(obj, xc, mu, s, Jc, dJ)
            ok = p["flag"] < 2
            ev = (p["Jt"], p["parat"], p["dJt"]) if ok else None
            return xt, p["mu"], p["funEvals"], ok, ev, self.LS.hisVals(p), 2 * p["funEvals"]
        xt, mu, lsIter = self.LS.lineSearch(obj, xc, mu, s, Jc, dJ)
        ok = lsIter <= self.LS.maxIter
        return xt, mu, lsIter, ok, None, [mu, lsIter], min(lsIter, self.LS.maxIter)

    def solve(self, fctn, x0, fval=None):
        """Minimise ``fctn`` starting at ``x0``.

        Parameters
        ----------
        fctn : callable
            Objective ``fctn(x) -> (Jc, para, dJ[, H, PC])`` (see :mod:`meganet.optim`).
        x0 : array, shape (n,)
            Starting point (NumPy or device array); projected with ``LS.P`` first.
        fval : callable, optional
            Validation objective, evaluated at every iterate for the history.

        Returns
        -------
        xc : array, shape (n,)
            Final iterate.
        His : History
            Convergence history (see the class docstring).
        xOpt : array, shape (n,)
            Best iterate (see :class:`meganet.optim.optimizer.Recorder`).
        """
        self._checkOptions()
        owner = type(self).__name__
        checkVector(owner, x0)
        obj = Objective(fctn, owner)
        val = Objective(fval, owner, "validation objective") if fval is not None else None
        P = getattr(self.LS, "P", _identity)
        xc = P(x0)
        Jc, para, dJ, H, PC = self._evaluate(obj, xc, "at the starting point")
        work = 2
        names, frmt = self.hisNames()
        rec = Recorder(owner, names, frmt, obj, val, self.out, self._title(x0.shape[0]))
        nrm0 = norm(dJ)
        nDir = len(self._directionNames()[0])
        nLS = len(self._lsNames()[0])
        nan = math.nan

        def optValues(it, dx, dirVals, lsVals):
            v = [it, hostFloat(Jc), dx, norm(dJ) / nrm0 if nrm0 > 0 else 0.0]
            v += list(dirVals) + list(lsVals)
            return v + [work] if self.hasWorkUnits else v

        rec.record(optValues(0, 0.0, [nan] * nDir, [nan] * nLS), xc, para)
        self._start(xc, Jc, dJ)
        mu = 1.0
        reason = "maxIter"
        iterations = itertools.count(1) if self.maxIter == math.inf else range(1, self.maxIter + 1)
        for it in iterations:
            nrm = norm(dJ)
            if nrm0 == 0 or nrm / nrm0 < self.rtol or nrm < self.atol:
                reason = "tolerance"
                break
            if self.hasWorkUnits and work > self.maxWorkUnits:
                reason = "maxWorkUnits"
                break
            s, dirVals, dirWork = self._direction(it, xc, Jc, dJ, H, PC)
            work += dirWork
            if not hostFloat(dot(dJ, s)) < 0:
                s = -dJ / nrm
            smax = float(getArrayModuleOf(s).max(getArrayModuleOf(s).abs(s)))
            if smax > self.maxStep and self._capDirection():
                s = s * (self.maxStep / smax)
            if self.resetMu:
                mu = 1.0
            xt, mu, nTrials, ok, ev, lsVals, lsWork = self._lineSearch(obj, xc, mu, s, Jc, dJ)
            work += lsWork
            if not ok:
                reason = "line search failed"
                warnings.warn(f"{owner}: the line search failed at iteration {it}; stopping",
                              RuntimeWarning, stacklevel=2)
                break
            if nTrials == 1:
                mu = min(1.5 * mu, 1.0)
            xOld, dJOld = xc, dJ
            xc = xt
            if ev is not None and not self.needsHessian:
                Jc, para, dJ = ev
                H = PC = None
                where = f"at iteration {it}"
                if not math.isfinite(hostFloat(Jc)) or not allFinite(dJ):
                    raise FloatingPointError(f"{owner}: non-finite objective value or gradient "
                                             f"{where}")
            else:
                Jc, para, dJ, H, PC = self._evaluate(obj, xc, f"at iteration {it}")
                work += 2
            self._accepted(xOld, dJOld, xc, dJ)
            rec.record(optValues(it, norm(xc - xOld), dirVals, lsVals), xc, para)
        else:
            nrm = norm(dJ)
            if nrm0 == 0 or nrm / nrm0 < self.rtol or nrm < self.atol:
                reason = "tolerance"
        if rec.out > 0:
            print(f"{self.name} stopped: {reason}")
        His = rec.history(stopReason=reason, workUnits=work)
        return xc, His, rec.bestX
