"""Truncated (Steihaug) preconditioned conjugate gradients (Meganet.m's ``steihaugPCG``)."""
import math

from ..backend import getArrayModuleOf
from .optimizer import (applyOperator, applyPreconditioner, checkFloat, checkInt, checkVector,
                        copyArray, dot, hostFloat, norm)

__all__ = ["SteihaugPCG"]


class SteihaugPCG:
    """Preconditioned CG for ``A x = b`` (``A`` symmetric) restricted to ``|x| <= Delta``.

    Minimises the quadratic model ``m(x) = 1/2 x^T A x - b^T x`` by preconditioned CG
    (Steihaug 1983; Nocedal & Wright, Algorithm 7.2). The iteration stops when

    * the relative residual ``|b - A x| / |b|`` drops to ``tol`` (``flag = 0``);
    * a direction of non-positive curvature ``p^T A p <= 0`` appears (``flag = 2``): the
      iterate moves to the trust-region boundary along ``p`` (to the root of
      ``|x + tau p| = Delta`` with the smaller model value); with ``Delta = inf`` the
      current iterate is kept;
    * the next iterate would leave the region (``flag = 3``): it stops on the boundary;
    * ``maxIter`` iterations are done (``flag = 1``).

    With ``flag`` 0 or 1 the iterate with the smallest residual norm is returned (as
    Meganet.m); with ``flag`` 2 or 3 the boundary point is returned (Steihaug's step,
    which lowers the model further; Meganet.m returns the interior iterate with the
    smallest residual there too). Every returned ``x`` satisfies ``|x| <= Delta``.

    Parameters
    ----------
    tol : float, default 0.1
        Relative residual tolerance.
    maxIter : int, default 10
        Maximum number of CG iterations (products with ``A``).
    Delta : float, default inf
        Trust-region radius (Euclidean norm).
    PC : optional
        Preconditioner; when given it overrides the one passed to :meth:`solve`. A
        callable or LinearOperator applies the approximate inverse ``r -> M^{-1} r``; a
        2-D array is the matrix ``M`` itself and is applied by solving with it.
    """

    def __init__(self, tol=0.1, maxIter=10, Delta=math.inf, PC=None):
        self.tol = tol
        self.maxIter = maxIter
        self.Delta = Delta
        self.PC = PC
        self._checkOptions()

    def _checkOptions(self):
        self.tol = checkFloat("SteihaugPCG", "tol", self.tol, 0)
        self.maxIter = checkInt("SteihaugPCG", "maxIter", self.maxIter, 1)
        self.Delta = checkFloat("SteihaugPCG", "Delta", self.Delta, 0, lowOpen=True,
                                allowInf=True)

    def __repr__(self):
        return (f"SteihaugPCG(tol={self.tol}, maxIter={self.maxIter}, Delta={self.Delta}, "
                f"PC={self.PC!r})")

    def hisNames(self):
        """History columns contributed by the linear solver (Meganet.m's hisNames)."""
        return ["iterCG", "relresCG"], ["%-12d", "%-12.2e"]

    def hisVals(self, para):
        return [para["iterOpt"], para["relres"]]

    def solve(self, A, b, x=None, PC=None):
        """Approximately solve ``A x = b`` within the trust region.

        Parameters
        ----------
        A : LinearOperator, callable or 2-D array
            Symmetric operator (e.g. a Hessian returned by an objective).
        b : array, shape (n,)
        x : array, shape (n,), optional
            Initial guess (default zero); it should lie inside the region.
        PC : optional
            Preconditioner (ignored when the solver's own ``PC`` is set).

        Returns
        -------
        x : array, shape (n,)
        para : dict
            ``flag`` (see the class docstring; -2 for ``b = 0``), ``relres`` (relative
            residual of the returned point), ``iterOpt`` (iteration of the returned
            point), ``iter`` (iterations done), ``resvec`` (host list of residual norms),
            ``nMatVec`` (products with ``A``).
        """
        self._checkOptions()
        checkVector("SteihaugPCG", b, "b")
        if self.PC is not None:
            PC = self.PC
        xp = getArrayModuleOf(b)
        Delta = self.Delta
        nb = norm(b)
        if nb == 0:
            return xp.zeros_like(b), {"flag": -2, "relres": 0.0, "iterOpt": 0, "iter": 0,
                                      "resvec": [0.0], "nMatVec": 0}
        nMatVec = 0
        if x is None:
            x = xp.zeros_like(b)
            r = b
        else:
            x = copyArray(x)
            r = b - applyOperator(A, x, "SteihaugPCG")
            nMatVec += 1
        z = applyPreconditioner(PC, r, "SteihaugPCG")
        p = z
        gamma = hostFloat(dot(r, z))
        resvec = [norm(r)]
        xOpt, resOpt, iterOpt = x, resvec[0], 0
        flag, it = 1, 0
        for it in range(1, self.maxIter + 1):
            Ap = applyOperator(A, p, "SteihaugPCG")
            nMatVec += 1
            curv = hostFloat(dot(p, Ap))
            if not curv > 0:
                flag = 2
                if math.isinf(Delta):
                    break  # keep the current iterate: no finite boundary to move to
                tau = self._boundaryStep(x, p, Delta, r, Ap, xp)
                x = x + tau * p
                r = r - tau * Ap
                resvec.append(norm(r))
                xOpt, resOpt, iterOpt = x, resvec[-1], it
                break
            alpha = gamma / curv
            xt = x + alpha * p
            if norm(xt) >= Delta:
                flag = 3
                tau = self._boundaryStep(x, p, Delta, None, None, xp)
                x = x + tau * p
                r = r - tau * Ap
                resvec.append(norm(r))
                xOpt, resOpt, iterOpt = x, resvec[-1], it
                break
            x = xt
            r = r - alpha * Ap
            resvec.append(norm(r))
            if resvec[-1] < resOpt:
                xOpt, resOpt, iterOpt = x, resvec[-1], it
            if resvec[-1] <= self.tol * nb:
                flag = 0
                break
            z = applyPreconditioner(PC, r, "SteihaugPCG")
            gammaNew = hostFloat(dot(r, z))
            p = z + (gammaNew / gamma) * p
            gamma = gammaNew
        return xOpt, {"flag": flag, "relres": resOpt / nb, "iterOpt": iterOpt, "iter": it,
                      "resvec": resvec, "nMatVec": nMatVec}

    @staticmethod
    def _boundaryStep(x, p, Delta, r, Ap, xp):
        """``tau`` with ``|x + tau p| = Delta``.

        With ``r``/``Ap`` given (negative curvature) the root with the smaller model
        value ``m(x + tau p) - m(x) = -tau r^T p + tau^2/2 p^T A p`` is chosen, else the
        positive root.
        """
        xx = hostFloat(dot(x, x))
        px = hostFloat(dot(p, x))
        pp = hostFloat(dot(p, p))
        disc = math.sqrt(max(px * px + pp * (Delta * Delta - xx), 0.0))
        tauPos = (-px + disc) / pp
        if r is None:
            return tauPos
        tauNeg = (-px - disc) / pp
        rp = hostFloat(dot(r, p))
        pAp = hostFloat(dot(p, Ap))

        def model(t):
            return -t * rp + 0.5 * t * t * pAp
        return tauPos if model(tauPos) <= model(tauNeg) else tauNeg
