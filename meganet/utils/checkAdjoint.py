"""Adjoint test ``<A v, w> = <v, A^T w>``: ``checkAdjoint`` (Meganet.m's checkAdjoint)."""
import numpy

from ..backend import getArrayModule, getArrayModuleOf, toHost
from .checkResult import ToleranceCheck

__all__ = ["checkAdjoint"]


def _dot(a, b):
    a = toHost(a).ravel().astype(numpy.float64)
    b = toHost(b).ravel().astype(numpy.float64)
    return float(a @ b)


def checkAdjoint(A, useGPU=None, precision=None, rng=None, out=False, tol=None):
    """Check that ``A.T`` is the adjoint of ``A`` with random ``v`` and ``w``.

    Parameters
    ----------
    A : LinearOperator or 2-D array
    useGPU, precision : optional
        Backend of the random vectors; by default the operator's (or the matrix's).
    rng : seed or numpy.random.Generator, optional
    out : bool
        Print the two inner products and the relative error.
    tol : float, optional
        Relative error allowed; 1e-10 in double and 1e-5 in single precision.

    Returns
    -------
    ToleranceCheck
        Unpacks as ``isOK, err`` with ``err = |<v, A^T w> - <w, A v>| / |<v, A^T w>|``;
        ``report()`` also gives the two inner products.
    """
    g = numpy.random.default_rng(rng)
    if hasattr(A, "Amv") and hasattr(A, "n"):
        useGPU = A.useGPU if useGPU is None else useGPU
        precision = A.precision if precision is None else precision
        xp = getArrayModule(useGPU)
        dtype = numpy.float32 if precision == "single" else numpy.float64
        v = xp.asarray(g.standard_normal(A.n).astype(dtype))
        Av = A @ v
        w = xp.asarray(g.standard_normal(Av.shape).astype(dtype))
        ATw = A.T @ w
    elif hasattr(A, "ndim") and A.ndim == 2:
        xp = getArrayModuleOf(A)
        dtype = A.dtype
        v = xp.asarray(g.standard_normal(A.shape[1]).astype(dtype))
        Av = A @ v
        w = xp.asarray(g.standard_normal(Av.shape).astype(dtype))
        ATw = A.T @ w
    else:
        raise TypeError(f"checkAdjoint: A must be a LinearOperator or a matrix; got {type(A).__name__}")
    t1 = _dot(v, ATw)
    t2 = _dot(w, Av)
    err = abs(t1 - t2) / (abs(t1) if t1 != 0 else 1.0)
    if tol is None:
        tol = 1e-10 if numpy.dtype(dtype) == numpy.float64 else 1e-5
    res = ToleranceCheck(err < tol, err, tol, name="adjoint",
                         detail=f"<v, A^T w> = {t1:.16e}\n<A v, w>   = {t2:.16e}")
    if out:
        print(res.report())
    return res
