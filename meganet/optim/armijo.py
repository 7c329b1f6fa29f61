"""Backtracking (Armijo) line search (Meganet.m's ``Armijo``)."""
import math

from .optimizer import Objective, checkCallable, checkFloat, checkInt, dot, hostFloat

__all__ = ["Armijo"]


def _identity(x):
    return x


class Armijo:
    """Projected backtracking line search with the Armijo sufficient-decrease rule.

    Starting from the step size ``mu``, tries ``xt = P(xc + mu s)`` and halves ``mu``
    until

        J(xt) < J(xc) + gamma * dJ(xc)^T (xt - xc),

    which for ``P`` = identity is the textbook rule ``J(xc + mu s) < J(xc) + gamma mu dJ^T s``.
    (Meganet.m's ``Armijo`` compares with ``J + gamma dJ^T s`` without the factor ``mu``;
    for ``mu <= 1`` that is a stricter test which can reject steps that give sufficient
    decrease. With a projection, ``xt - xc`` replaces ``mu s``, the projected-gradient
    form of the rule.)

    Parameters
    ----------
    gamma : float, default 1e-3
        Sufficient-decrease constant, in [0, 1); ``gamma = 0`` (as Meganet.m's
        ``EResNN_SwissRollResNN`` sets it) accepts any point with ``J(xt) < J(xc)``.
    maxIter : int, default 10
        Maximum number of trial points.
    P : callable, default identity
        Projection ``x -> P(x)`` onto the feasible set (e.g. :class:`ProjBound`).
    """

    def __init__(self, gamma=1e-3, maxIter=10, P=_identity):
        self.gamma = gamma
        self.maxIter = maxIter
        self.P = P
        self._checkOptions()

    def _checkOptions(self):
        self.gamma = checkFloat("Armijo", "gamma", self.gamma, 0, 1, highOpen=True)
        self.maxIter = checkInt("Armijo", "maxIter", self.maxIter, 1)
        checkCallable("Armijo", "P", self.P)

    def __repr__(self):
        return f"Armijo(gamma={self.gamma}, maxIter={self.maxIter}, P={self.P!r})"

    def lineSearch(self, fctn, xc, mu, s, Jc, dJ):
        """Backtrack from ``mu`` along ``s``.

        Parameters
        ----------
        fctn : callable
            The objective, called as ``fctn(x)``; only its first output is used.
        xc : array, shape (n,)
            Current point; ``Jc`` and ``dJ`` are the objective value and gradient there.
        mu : float
            Initial step size.
        s : array, shape (n,)
            Search direction (a descent direction: ``dJ^T s < 0``).

        Returns
        -------
        xt : array, shape (n,)
            The accepted point, or ``xc`` when no trial point was accepted.
        mu : float
            The accepted step size (the last one tried on failure).
        lsIter : int
            Number of trial points used; ``lsIter > maxIter`` signals failure.
        """
        self._checkOptions()
        obj = fctn if isinstance(fctn, Objective) else Objective(fctn, "Armijo")
        Jc = hostFloat(Jc)
        mu = float(mu)
        lsIter = 1
        while lsIter <= self.maxIter:
            xt = self.P(xc + mu * s)
            Jt = hostFloat(obj(xt, doDerivative=False)[0])
            decrease = hostFloat(dot(dJ, xt - xc))
            if math.isfinite(Jt) and Jt < Jc + self.gamma * decrease:
                return xt, mu, lsIter
            mu = mu / 2
            lsIter += 1
        return xc, mu, lsIter
