"""Unrestarted GMRES with access to the Arnoldi basis (Meganet.m's ``GMRES``)."""
import math

import numpy

from ..backend import getArrayModuleOf, toHost
from .optimizer import applyOperator, checkFloat, checkInt, checkVector

__all__ = ["GMRES"]


def _givens(a, b):
    """``(c, s)`` with ``[c s; -s c] [a; b] = [r; 0]``, ``r >= 0``-safe for zeros."""
    if b == 0.0:
        return (1.0 if a >= 0 else -1.0) if a != 0 else 1.0, 0.0
    if a == 0.0:
        return 0.0, math.copysign(1.0, b)
    r = math.hypot(a, b)
    return a / r, b / r


class GMRES:
    """GMRES for ``A x = b`` without restarts (Saad, Iterative Methods, Algorithm 6.9).

    Builds the Arnoldi relation ``A V_k = V_{k+1} H`` (``V`` with orthonormal columns,
    ``H`` of shape ``(k+1, k)`` upper Hessenberg) and returns the minimiser of
    ``|b - A x|`` over ``x0 + span(V_k)``. It stops after ``m`` iterations or when the
    relative residual ``|b - A x| / |b - A x0|`` (tracked by Givens rotations) drops
    below ``tol``, or on a lucky breakdown (then ``x`` is exact).

    The basis is orthogonalised by classical Gram-Schmidt with one re-orthogonalisation
    (numerically on a par with modified Gram-Schmidt) and kept on the backend of ``b``
    in double precision; only the small matrix ``H`` lives on the host. (Meganet.m
    copies everything to the host in double precision.)

    Parameters
    ----------
    m : int or None, default None
        Maximum dimension of the Krylov space; ``None`` means ``n = b.size`` (full GMRES;
        set ``m`` for large problems, the basis needs ``(m+1) n`` numbers).
    tol : float, default 1e-10
        Relative residual tolerance.
    out : int, default 0
        Verbosity: 1 prints a summary, 2 also the residual of every iteration.
    """

    def __init__(self, m=None, tol=1e-10, out=0):
        self.m = m
        self.tol = tol
        self.out = out
        self._checkOptions()

    def _checkOptions(self):
        if self.m is not None:
            self.m = checkInt("GMRES", "m", self.m, 1)
        self.tol = checkFloat("GMRES", "tol", self.tol, 0)
        self.out = checkInt("GMRES", "out", self.out)

    def __repr__(self):
        return f"GMRES(m={self.m}, tol={self.tol}, out={self.out})"

    def hisNames(self):
        """History columns contributed by the linear solver (Meganet.m's hisNames)."""
        return ["relresGMRES", "iterGMRES", "flagGMRES"], ["%-12.2e", "%-12d", "%-12d"]

    def hisVals(self, para):
        return [para["relres"], para["iter"], para["flag"]]

    def solve(self, A, b, x0=None, PC=None):
        """Solve ``A x = b``.

        Parameters
        ----------
        A : LinearOperator, callable or 2-D array
        b : array, shape (n,)
        x0 : array, shape (n,), optional
            Initial guess (default zero).
        PC : ignored
            Accepted for a uniform interface with :class:`SteihaugPCG`.

        Returns
        -------
        x : array, shape (n,), dtype of ``b``, on the backend of ``b``.
        para : dict
            ``relres`` (relative residual estimate), ``iter`` (k), ``flag`` (0: tolerance
            reached or exact solution, -1: ``m`` iterations without reaching ``tol``),
            ``z`` (host array (k,), ``x = x0 + V[:, :k] z``), ``V`` (backend array
            (n, k+1), float64), ``H`` (host array (k+1, k)), ``beta`` (``|b - A x0|``),
            ``funEvals`` (2 per product with ``A``, as Meganet.m counts work).
        """
        self._checkOptions()
        checkVector("GMRES", b, "b")
        xp = getArrayModuleOf(b)
        n = b.shape[0]
        m = n if self.m is None else min(self.m, n)
        dtype = b.dtype
        bd = b.astype(numpy.float64)
        funEvals = 0
        if x0 is None:
            x0 = xp.zeros_like(b)
            r0 = bd
        else:
            r0 = bd - applyOperator(A, x0, "GMRES").astype(numpy.float64)
            funEvals += 2
        beta = float(xp.linalg.norm(r0))
        if beta == 0.0:
            return x0, {"relres": 0.0, "iter": 0, "flag": 0, "z": numpy.zeros(0),
                        "V": xp.reshape(r0, (n, 1)), "H": numpy.zeros((1, 0)), "beta": 0.0,
                        "funEvals": funEvals}
        Vcols = [r0 / beta]
        H = numpy.zeros((m + 1, m))
        R = numpy.zeros((m + 1, m))          # H after the Givens rotations
        cs, sn = numpy.zeros(m), numpy.zeros(m)
        g = numpy.zeros(m + 1)
        g[0] = beta
        flag, err, j = -1, 1.0, 0
        for j in range(m):
            w = applyOperator(A, Vcols[j].astype(dtype), "GMRES").astype(numpy.float64)
            funEvals += 2
            V = xp.stack(Vcols, axis=1)
            h = V.T @ w
            w = w - V @ h
            h2 = V.T @ w                      # re-orthogonalisation
            w = w - V @ h2
            hcol = toHost(h + h2)
            hnext = float(xp.linalg.norm(w))
            H[: j + 1, j] = hcol
            H[j + 1, j] = hnext
            # apply the previous rotations to the new column, then a new one
            col = H[: j + 2, j].copy()
            for i in range(j):
                t = cs[i] * col[i] + sn[i] * col[i + 1]
                col[i + 1] = -sn[i] * col[i] + cs[i] * col[i + 1]
                col[i] = t
            cs[j], sn[j] = _givens(col[j], col[j + 1])
            col[j] = cs[j] * col[j] + sn[j] * col[j + 1]
            col[j + 1] = 0.0
            R[: j + 2, j] = col
            g[j + 1] = -sn[j] * g[j]
            g[j] = cs[j] * g[j]
            err = abs(g[j + 1]) / beta
            if self.out > 1:
                print(f"GMRES iter={j + 1}\trel.res={err:.2e}")
            breakdown = hnext <= 1e-14 * math.hypot(float(numpy.linalg.norm(hcol)), hnext)
            Vcols.append(w / hnext if not breakdown else xp.zeros_like(w))
            if err < self.tol or breakdown:
                flag = 0
                break
        k = j + 1
        z = _solveUpper(R[:k, :k], g[:k])
        V = xp.stack(Vcols, axis=1)
        x = x0 + (V[:, :k] @ xp.asarray(z)).astype(dtype)
        if self.out >= 1:
            if flag == 0:
                print(f"GMRES reached the tolerance {self.tol:.2e} at iteration {k}; "
                      f"rel. res. {err:.2e}")
            else:
                print(f"GMRES did {k} iterations without reaching the tolerance {self.tol:.2e}; "
                      f"rel. res. {err:.2e}")
        return x, {"relres": float(err), "iter": k, "flag": flag, "z": z, "V": V,
                   "H": H[: k + 1, :k].copy(), "beta": beta, "funEvals": funEvals}


def _solveUpper(R, g):
    """Back substitution for the upper-triangular ``R z = g`` (zero pivots give 0)."""
    k = R.shape[0]
    z = numpy.zeros(k)
    for i in range(k - 1, -1, -1):
        s = g[i] - R[i, i + 1:] @ z[i + 1:]
        z[i] = s / R[i, i] if R[i, i] != 0 else 0.0
    return z
