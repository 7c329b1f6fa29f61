"""Strong-Wolfe line search (Meganet.m's ``Wolfe``)."""
import math
import warnings

from .optimizer import Objective, checkFloat, checkInt, dot, hostFloat

__all__ = ["Wolfe"]


class Wolfe:
    """Line search for step sizes satisfying the strong Wolfe conditions.

    With ``phi(mu) = J(xc + mu s)`` it looks for ``mu`` in ``(0, muMax]`` with

        phi(mu) <= phi(0) + c1 mu phi'(0)        (sufficient decrease)
        |phi'(mu)| <= c2 |phi'(0)|                (curvature)

    by a bracketing phase (the trial step doubles, capped at ``muMax``) followed by a
    zoom phase (safeguarded cubic interpolation, bisection as fallback), as in Nocedal &
    Wright, Numerical Optimization, Algorithms 3.5 and 3.6. Trial points with a
    non-finite objective value count as too long.

    Failure never stops the program: when ``maxFunEvals`` evaluations do not give a
    strong-Wolfe point, the best point found that satisfies the sufficient-decrease
    condition is returned (``para['flag'] = 1``); when there is none, ``xc`` itself is
    returned with ``mu = 0`` (``para['flag'] = 2``) and a ``RuntimeWarning`` is issued.

    Parameters
    ----------
    muMax : float, default 5
        Largest step size tried.
    c1, c2 : float, default 1e-4 and 0.9
        Constants of the conditions, ``0 < c1 < c2 < 1``.
    maxFunEvals : int, default 20
        Budget of objective evaluations (each with gradient).
    """

    def __init__(self, muMax=5, c1=1e-4, c2=0.9, maxFunEvals=20):
        self.muMax = muMax
        self.c1 = c1
        self.c2 = c2
        self.maxFunEvals = maxFunEvals
        self._checkOptions()

    def _checkOptions(self):
        self.muMax = checkFloat("Wolfe", "muMax", self.muMax, 0, lowOpen=True)
        self.c1 = checkFloat("Wolfe", "c1", self.c1, 0, 1, lowOpen=True, highOpen=True)
        self.c2 = checkFloat("Wolfe", "c2", self.c2, 0, 1, lowOpen=True, highOpen=True)
        if not self.c1 < self.c2:
            raise ValueError(f"Wolfe: need 0 < c1 < c2 < 1; got c1={self.c1}, c2={self.c2}")
        self.maxFunEvals = checkInt("Wolfe", "maxFunEvals", self.maxFunEvals, 1)

    def __repr__(self):
        return (f"Wolfe(muMax={self.muMax}, c1={self.c1}, c2={self.c2}, "
                f"maxFunEvals={self.maxFunEvals})")

    def hisNames(self):
        """History columns contributed by the line search."""
        return ["funEvalsLS", "muLS"], ["%-12d", "%-12.2e"]

    def hisVals(self, para):
        return [para["funEvals"], para["mu"]]

    def lineSearch(self, fctn, xc, mu, s, Jc, dJ):
        """Search along ``s`` starting with the step size ``mu``.

        Returns
        -------
        xt : array, shape (n,)
            The accepted point (``xc`` when ``flag == 2``).
        para : dict
            ``mu`` (accepted step size), ``funEvals``, ``flag`` (0: strong Wolfe point;
            1: only sufficient decrease; 2: no decrease found), ``Jt``, ``dJt``, ``parat``
            (objective value, gradient and ``para`` at ``xt``; at ``flag == 2`` the values
            passed in, with ``parat = None``).
        """
        self._checkOptions()
        obj = fctn if isinstance(fctn, Objective) else Objective(fctn, "Wolfe")
        phi0 = hostFloat(Jc)
        dphi0 = hostFloat(dot(dJ, s))
        if not dphi0 < 0:
            raise ValueError(f"Wolfe: s is not a descent direction (dJ^T s = {dphi0:.3e} >= 0)")
        c1, c2 = self.c1, self.c2
        self._evals = 0
        self._best = None  # (phi, mu, xt, g, para) of the best sufficient-decrease point

        def evaluate(a):
            xt = xc + a * s
            J, para, g = obj(xt)[:3]
            self._evals += 1
            phi = hostFloat(J)
            dphi = hostFloat(dot(g, s)) if math.isfinite(phi) else math.nan
            if math.isfinite(phi) and phi <= phi0 + c1 * a * dphi0 and (
                    self._best is None or phi < self._best[0]):
                self._best = (phi, a, xt, g, para, J)
            return phi, dphi, xt, g, para, J

        def success(a, xt, g, para, J, flag=0):
            return xt, {"mu": a, "funEvals": self._evals, "flag": flag, "Jt": J, "dJt": g,
                        "parat": para}

        aPrev, phiPrev, dphiPrev = 0.0, phi0, dphi0
        a = min(float(mu), self.muMax)
        if not a > 0:
            raise ValueError(f"Wolfe: the initial step size must be positive; got {mu!r}")
        first = True
        while self._evals < self.maxFunEvals:
            phi, dphi, xt, g, para, J = evaluate(a)
            if (not math.isfinite(phi)) or phi > phi0 + c1 * a * dphi0 or (
                    not first and phi >= phiPrev):
                res = self._zoom(evaluate, phi0, dphi0, aPrev, phiPrev, dphiPrev, a, phi, dphi)
                if res is not None:
                    return success(*res)
                break
            if abs(dphi) <= -c2 * dphi0:
                return success(a, xt, g, para, J)
            if dphi >= 0:
                res = self._zoom(evaluate, phi0, dphi0, a, phi, dphi, aPrev, phiPrev, dphiPrev)
                if res is not None:
                    return success(*res)
                break
            if a >= self.muMax:
                break
            aPrev, phiPrev, dphiPrev = a, phi, dphi
            a = min(2.0 * a, self.muMax)
            first = False
        # no strong-Wolfe point within the budget
        if self._best is not None:
            _, a, xt, g, para, J = self._best
            return success(a, xt, g, para, J, flag=1)
        warnings.warn(f"Wolfe: no step with sufficient decrease found within {self._evals} "
                      "function evaluations; returning the current point", RuntimeWarning,
                      stacklevel=2)
        return xc, {"mu": 0.0, "funEvals": self._evals, "flag": 2, "Jt": Jc, "dJt": dJ,
                    "parat": None}

    def _zoom(self, evaluate, phi0, dphi0, aLo, phiLo, dphiLo, aHi, phiHi, dphiHi):
        """Zoom phase; returns ``(mu, xt, g, para, J)`` of a strong-Wolfe point or None."""
        c1, c2 = self.c1, self.c2
        while self._evals < self.maxFunEvals:
            a = _cubicMin(aLo, phiLo, dphiLo, aHi, phiHi, dphiHi)
            width = abs(aHi - aLo)
            lo, hi = min(aLo, aHi), max(aLo, aHi)
            if a is None or not (lo + 0.1 * width <= a <= hi - 0.1 * width):
                a = 0.5 * (aLo + aHi)
            if width <= 1e-16 * max(1.0, hi):
                return None
            phi, dphi, xt, g, para, J = evaluate(a)
            if (not math.isfinite(phi)) or phi > phi0 + c1 * a * dphi0 or phi >= phiLo:
                aHi, phiHi, dphiHi = a, phi, dphi
            else:
                if abs(dphi) <= -c2 * dphi0:
                    return a, xt, g, para, J
                if dphi * (aHi - aLo) >= 0:
                    aHi, phiHi, dphiHi = aLo, phiLo, dphiLo
                aLo, phiLo, dphiLo = a, phi, dphi
        return None


def _cubicMin(a, fa, da, b, fb, db):
    """Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db), or None."""
    if not all(math.isfinite(v) for v in (a, fa, da, b, fb, db)) or a == b:
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc < 0:
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    den = db - da + 2.0 * d2
    if den == 0:
        return None
    return b - (b - a) * (db + d2 - d1) / den
