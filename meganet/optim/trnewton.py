"""Trust-region Newton method (Meganet.m's ``trnewton``)."""
import copy
import itertools
import math

import numpy

from ..backend import getArrayModuleOf
from .gmres import GMRES
from .optimizer import (Objective, Optimizer, Recorder, allFinite, applyOperator, checkFloat,
                        checkInt, checkVector, dot, hostFloat, norm)

__all__ = ["TRNewton"]


def _tikhonovStep(Hbar, beta, Delta):
    """``z`` minimising ``|Hbar z - beta e1|^2 + lam^2 |z|^2`` with ``|z| = Delta``.

    ``lam >= 0`` is the root of the secular equation ``|z(lam)| = Delta`` (bracketed by
    ``[0, |c| / (2 Delta)]`` since ``|z(lam)| <= |c| / (2 lam)``), found by Brent's method.
    Assumes ``|z(0)| > Delta``.
    """
    from scipy.optimize import brentq
    U, S, Wt = numpy.linalg.svd(Hbar, full_matrices=False)
    c = beta * U[0, :]

    def z(lam):
        return Wt.T @ (S * c / (S * S + lam * lam))

    def f(lam):
        return numpy.linalg.norm(S * c / (S * S + lam * lam)) - Delta

    hi = numpy.linalg.norm(c) / (2.0 * Delta) * 1.01 + 1e-300
    if f(0.0) <= 0:
        return z(0.0)
    lam = brentq(f, 0.0, hi, xtol=1e-14 * hi, rtol=1e-14, maxiter=200)
    zz = z(lam)
    nz = numpy.linalg.norm(zz)
    return zz * (Delta / nz) if nz > Delta else zz


class TRNewton(Optimizer):
    """Trust-region Newton method with a Krylov (GMRES) or Steihaug-CG subproblem solver.

    Each iteration approximately minimises the model ``m(s) = dJ^T s + 1/2 s^T H s``
    subject to ``|s| <= Delta`` and tests the step with ``rho = ared / pred`` (actual
    over predicted reduction, Kelley, Iterative Methods for Optimization, sec. 3.3):

    ==========================  ==============================================  ======
    ``rho``                     action                                          trFlag
    ==========================  ==============================================  ======
    ``< rho0`` (or pred <= 0)   reject, ``Delta = wdown * min(Delta, |s|)``       -2
    ``[rho0, rhoL)``            accept, ``Delta = wdown * Delta``                  1
    ``[rhoL, rhoH]``            accept, keep ``Delta``                             0
    ``> rhoH``, ``|s| = Delta``  accept, ``Delta = wup * Delta`` if                  3
    and ``Delta <= C |dJ|``     (otherwise accept and keep, trFlag 2)
    ==========================  ==============================================  ======

    (Meganet.m's ``trnewton`` enlarges ``Delta`` but *rejects* the step in the last
    case; here a very successful step is accepted.)

    The subproblem, by the type of ``linSol``:

    * :class:`GMRES` (default, as Meganet.m): GMRES on ``H s = -dJ`` gives the Arnoldi
      basis ``V`` and Hessenberg matrix ``Hbar``; the step is ``s = V z``. If the GMRES
      solution lies outside the region, ``z`` solves the Tikhonov-regularised
      least-squares problem ``min |Hbar z - |dJ| e1|^2 + lam^2 |z|^2`` with ``lam``
      chosen so that ``|z| = Delta`` (Meganet.m's choice). Because that step need not
      decrease the model when ``H`` is indefinite, the Cauchy point (the model
      minimiser along ``-dJ`` within the region) is taken instead whenever it predicts a
      larger decrease; this keeps the method globally convergent. The Krylov space is
      reused after a rejected step.
    * :class:`SteihaugPCG`: Steihaug's truncated CG with radius ``Delta`` (with the
      objective's preconditioner), re-run for every new radius.

    The initial radius ``Delta`` (``None``) is the length of the first full Newton
    step. The objective must return ``(Jc, para, dJ, H, PC)``.

    Parameters
    ----------
    maxIter : int or inf, default 10
        Maximum number of iterations; ``inf`` (as Meganet.m's drivers set it) leaves the
        stopping to the tolerances, ``dtol`` and ``maxWorkUnits``.
    atol, rtol : float, default 1e-3
        Stop when ``|dJ| < atol`` or ``|dJ| / |dJ0| < rtol``.
    dtol : float, default 1e-5
        Stop when the radius drops below ``dtol``.
    Delta : float or None, default None
        Initial trust-region radius.
    out : int, default 0
    rho0, rhoL, rhoH : float, default 1e-4, 0.1, 0.75
    wdown, wup : float, default 0.5, 1.5
    C : float, default 1e4
    maxWorkUnits : float, default inf
        Work budget (2 units per gradient evaluation or Hessian-vector product, 1 per
        value-only evaluation).
    linSol : GMRES or SteihaugPCG, default GMRES()

    History columns: ``iter, Jc, |x-xOld|, |dJ|/|dJ0|, |dJ|``, the linear solver's columns,
    ``|s|, Delta, trFlag, ared/pred, TotalWork``, then the objectives' columns.
    ``His.stopReason``: ``'tolerance'``, ``'maxIter'``, ``'maxWorkUnits'`` or
    ``'trust region too small'``. With GMRES, ``His.HBar`` and ``His.V`` hold the last
    Hessenberg matrix and Krylov basis (Meganet.m returns them for variable projection).
    """

    name = "trnewton"

    def __init__(self, maxIter=10, atol=1e-3, rtol=1e-3, dtol=1e-5, Delta=None, out=0, rho0=1e-4,
                 rhoL=0.1, rhoH=0.75, wdown=0.5, wup=1.5, C=1e4, maxWorkUnits=float("inf"),
                 linSol=None):
        self.maxIter = maxIter
        self.atol = atol
        self.rtol = rtol
        self.dtol = dtol
        self.Delta = Delta
        self.out = out
        self.rho0 = rho0
        self.rhoL = rhoL
        self.rhoH = rhoH
        self.wdown = wdown
        self.wup = wup
        self.C = C
        self.maxWorkUnits = maxWorkUnits
        self.linSol = GMRES() if linSol is None else linSol
        self._checkOptions()

    def _checkOptions(self):
        o = "TRNewton"
        self.maxIter = checkInt(o, "maxIter", self.maxIter, 0, allowInf=True)
        self.atol = checkFloat(o, "atol", self.atol, 0)
        self.rtol = checkFloat(o, "rtol", self.rtol, 0)
        self.dtol = checkFloat(o, "dtol", self.dtol, 0)
        if self.Delta is not None:
            self.Delta = checkFloat(o, "Delta", self.Delta, 0, lowOpen=True)
        self.out = checkInt(o, "out", self.out)
        self.rho0 = checkFloat(o, "rho0", self.rho0, 0, 1, highOpen=True)
        self.rhoL = checkFloat(o, "rhoL", self.rhoL, self.rho0, 1, highOpen=True)
        self.rhoH = checkFloat(o, "rhoH", self.rhoH, self.rhoL, 1, highOpen=True)
        self.wdown = checkFloat(o, "wdown", self.wdown, 0, 1, lowOpen=True, highOpen=True)
        self.wup = checkFloat(o, "wup", self.wup, 1, lowOpen=True)
        self.C = checkFloat(o, "C", self.C, 0, lowOpen=True, allowInf=True)
        self.maxWorkUnits = checkFloat(o, "maxWorkUnits", self.maxWorkUnits, 0, allowInf=True)
        if not (callable(getattr(self.linSol, "solve", None))
                and callable(getattr(self.linSol, "hisNames", None))):
            raise TypeError("TRNewton: linSol must be a GMRES or SteihaugPCG object; got "
                            f"{type(self.linSol).__name__}")
        self._krylov = isinstance(self.linSol, GMRES)
        if not self._krylov and not hasattr(self.linSol, "Delta"):
            raise TypeError("TRNewton: linSol must be a GMRES or SteihaugPCG object; got "
                            f"{type(self.linSol).__name__}")

    def _options(self):
        return {k: getattr(self, k) for k in (
            "maxIter", "atol", "rtol", "dtol", "Delta", "out", "rho0", "rhoL", "rhoH", "wdown",
            "wup", "C", "maxWorkUnits", "linSol")}

    def hisNames(self):
        ln, lf = self.linSol.hisNames()
        names = ["iter", "Jc", "|x-xOld|", "|dJ|/|dJ0|", "|dJ|"] + ln + [
            "|s|", "Delta", "trFlag", "ared/pred", "TotalWork"]
        frmt = ["%-12d"] + ["%-12.2e"] * 4 + lf + ["%-12.2e", "%-12.2e", "%-12d", "%-12.2e",
                                                   "%-12d"]
        return names, frmt

    # -- subproblems ----------------------------------------------------------------------
    def _krylovStep(self, kr, Delta):
        """``(z, pred)`` in the Krylov basis for the radius ``Delta``."""
        k = kr["iter"]
        beta = kr["beta"]
        Hk = kr["H"][:k, :k]
        z = kr["z"]

        def pred(zz):
            return beta * zz[0] - 0.5 * float(zz @ (Hk @ zz))

        if numpy.linalg.norm(z) > Delta:
            z = _tikhonovStep(kr["H"], beta, Delta)
        p = pred(z)
        # Cauchy point: minimiser of the model along -dJ = beta v1 within the region
        h11 = Hk[0, 0]
        tau = 1.0 if h11 <= 0 else min(beta / (Delta * h11), 1.0)
        zC = numpy.zeros(k)
        zC[0] = tau * Delta
        pC = pred(zC)
        if pC > p:
            z, p = zC, pC
        return z, p

    def _title(self, n):
        return (f"== {self.name} (n={n}, maxIter={self.maxIter}, "
                f"maxWorkUnits={self.maxWorkUnits}) ===")

    def solve(self, fctn, x0, fval=None):
        """Minimise ``fctn`` from ``x0``; returns ``(xc, His, xOpt)`` (see the class docstring)."""
        self._checkOptions()
        owner = "TRNewton"
        checkVector(owner, x0)
        xp = getArrayModuleOf(x0)
        obj = Objective(fctn, owner)
        val = Objective(fval, owner, "validation objective") if fval is not None else None

        def evaluate(x, where):
            Jc, para, dJ, H, PC = obj(x)
            if H is None:
                raise TypeError("TRNewton: the objective must return (Jc, para, dJ, H, PC) with a "
                                "Hessian H (LinearOperator, callable or matrix); it returned no H")
            J = hostFloat(Jc)
            if not math.isfinite(J):
                raise FloatingPointError(f"TRNewton: the objective value is {J} {where}")
            if not allFinite(dJ):
                raise FloatingPointError(f"TRNewton: the gradient has non-finite entries {where}")
            return J, para, dJ, H, PC

        xc = x0
        Jc, para, dJ, H, PC = evaluate(xc, "at the starting point")
        work = 2
        names, frmt = self.hisNames()
        rec = Recorder(owner, names, frmt, obj, val, self.out, self._title(x0.shape[0]))
        nLin = len(self.linSol.hisNames()[0])
        nrm0 = norm(dJ)
        nan = math.nan
        rec.record([0, Jc, 0.0, 1.0, nrm0] + [nan] * nLin + [nan, nan, nan, nan, work], xc, para)
        Delta = self.Delta
        kr = None
        linVals = [nan] * nLin
        reason = "maxIter"
        HBar = V = None
        for it in (itertools.count(1) if self.maxIter == math.inf else range(1, self.maxIter + 1)):
            nrm = norm(dJ)
            if nrm0 == 0 or nrm / nrm0 < self.rtol or nrm < self.atol:
                reason = "tolerance"
                break
            if work > self.maxWorkUnits:
                reason = "maxWorkUnits"
                break
            if Delta is not None and Delta < self.dtol:
                reason = "trust region too small"
                break
            # --- step for the current radius
            if self._krylov:
                if kr is None:
                    _, kr = self.linSol.solve(H, -dJ)
                    work += kr["funEvals"]
                    linVals = self.linSol.hisVals(kr)
                    HBar, V = kr["H"], kr["V"]
                if Delta is None:
                    Delta = float(numpy.linalg.norm(kr["z"]))
                if kr["iter"] == 0:     # dJ = 0 in floating point
                    reason = "tolerance"
                    break
                z, pred = self._krylovStep(kr, Delta)
                s = (kr["V"][:, :kr["iter"]] @ xp.asarray(z)).astype(x0.dtype)
            else:
                solver = copy.copy(self.linSol)
                solver.Delta = math.inf if Delta is None else Delta
                s, lp = solver.solve(H, -dJ, None, PC)
                work += 2 * lp.get("nMatVec", lp.get("iter", 0))
                linVals = self.linSol.hisVals(lp)
                if Delta is None:
                    Delta = norm(s) if norm(s) > 0 else nrm
                if norm(s) == 0:      # negative curvature at once: steepest descent to the boundary
                    s = -dJ * (Delta / nrm)
                Hs = applyOperator(H, s, owner)
                work += 2
                pred = -hostFloat(dot(dJ, s)) - 0.5 * hostFloat(dot(s, Hs))
            ns = norm(s)
            # --- trust-region test
            xt = xc + s
            Jt = hostFloat(obj(xt, doDerivative=False)[0])
            work += 1
            ared = Jc - Jt if math.isfinite(Jt) else -math.inf
            rho = ared / pred if pred > 0 else -math.inf
            xOld = xc
            if rho < self.rho0:
                Delta = self.wdown * min(Delta, ns)
                trFlag, accept = -2, False
            elif rho < self.rhoL:
                Delta = self.wdown * Delta
                trFlag, accept = 1, True
            elif rho <= self.rhoH:
                trFlag, accept = 0, True
            elif abs(ns - Delta) <= 1e-5 * Delta and Delta <= self.C * nrm:
                Delta = self.wup * Delta
                trFlag, accept = 3, True
            else:
                trFlag, accept = 2, True
            if accept:
                xc = xt
                Jc, para, dJ, H, PC = evaluate(xc, f"at iteration {it}")
                work += 2
                kr = None
            rec.record([it, Jc, norm(xc - xOld), norm(dJ) / nrm0, norm(dJ)] + list(linVals)
                       + [ns, Delta, trFlag, rho, work], xc, para)
        else:
            nrm = norm(dJ)
            if nrm0 == 0 or nrm / nrm0 < self.rtol or nrm < self.atol:
                reason = "tolerance"
        if rec.out > 0:
            print(f"{self.name} stopped: {reason}")
        His = rec.history(stopReason=reason, workUnits=work, Delta=Delta, HBar=HBar, V=V)
        return xc, His, rec.bestX
