"""``SparseKernel``: a sparse matrix with trainable non-zeros (Meganet.m's ``sparseKernel``)."""
import numpy

from ..validation import isInt
from .abstractKernel import (AbstractKernel, applyParameterisation, applyParameterisationT,
                             prepareParameterisation)

__all__ = ["SparseKernel"]


def _ell(rows, cols, nRows):
    """Row-wise padded index lists (ELLPACK): for every row the entries and their columns.

    Returns ``(E, C)`` of shape ``(nRows, m)`` with ``m`` the largest row count; unused
    slots hold the entry index ``nnz`` (which addresses an appended zero value) and
    column 0.
    """
    nnz = rows.size
    order = numpy.argsort(rows, kind="stable")
    counts = numpy.bincount(rows, minlength=nRows)
    m = max(int(counts.max()) if nnz else 0, 1)
    starts = numpy.concatenate([[0], numpy.cumsum(counts)[:-1]])
    slot = numpy.arange(nnz) - numpy.repeat(starts, counts)
    E = numpy.full((nRows, m), nnz, dtype=numpy.int64)
    C = numpy.zeros((nRows, m), dtype=numpy.int64)
    E[rows[order], slot] = order
    C[rows[order], slot] = cols[order]
    return E, C


class SparseKernel(AbstractKernel):
    """Sparse matrix kernel ``K = sparse(ival, jval, Qs theta, nK)`` on vector features.

    ``K[ival[e], jval[e]] += v[e]`` with ``v = Qs theta`` (entries with the same index
    pair add up, as in MATLAB's ``sparse``). Indices are 0-based (Meganet.m's are
    1-based). Forward, for ``Y`` of shape ``(N, nK[1])``::

        Z = Y K^T,     Z[n, i] = sum_{e: ival[e] = i} v[e] Y[n, jval[e]]

    Derivatives (``W`` of shape ``(N, nK[0])``)::

        Jthetamv(dtheta) = Y K(dtheta)^T
        JthetaTmv(W)     = Qs^T t,  t[e] = sum_n W[n, ival[e]] Y[n, jval[e]]
        per example n    = Qs^T t_n, t_n[e] = W[n, ival[e]] Y[n, jval[e]]   (reduceDim=False)
        JYTmv(W)         = W K,     (W K)[n, j] = sum_{e: jval[e] = j} v[e] W[n, ival[e]]

    The products are gathers over padded per-row and per-column index lists (ELLPACK
    layout, built once at construction) followed by sums, so they run unchanged on the
    device array module without scatter-add; their memory is ``N nK[0] m`` with ``m``
    the largest number of entries in a row (similarly for columns).

    Parameters
    ----------
    ival, jval : 1-D integer arrays of equal length ``nnz``
        Row and column of each entry, 0-based, ``0 <= ival < nK[0]``, ``0 <= jval < nK[1]``.
    nK : (int, int)
        ``(nOut, nIn)``.
    Qs : None, 2-D array ``(nnz, nTheta)`` or LinearOperator
        Basis of the entries (``v = Qs theta``); identity if omitted (``nTheta = nnz``).
    useGPU, precision :
        Backend.
    """

    def __init__(self, ival, jval, nK, Qs=None, useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        try:
            nKt = tuple(nK)
        except TypeError:
            nKt = (nK,)
        if len(nKt) != 2 or not all(isInt(v) and v > 0 for v in nKt):
            raise ValueError(f"SparseKernel: nK must be two positive integers (nOut, nIn); got {nK!r}")
        self.nK = tuple(int(v) for v in nKt)
        iv = self._indexArray(ival, "ival", self.nK[0])
        jv = self._indexArray(jval, "jval", self.nK[1])
        if iv.size != jv.size:
            raise ValueError(f"SparseKernel: ival and jval must have the same length; got "
                             f"{iv.size} and {jv.size}")
        nnz = iv.size
        Qs = prepareParameterisation(Qs, nnz, "SparseKernel", "Qs", "len(ival)", self)
        self.Qs = Qs
        rowE, rowC = _ell(iv, jv, self.nK[0])
        colE, colR = _ell(jv, iv, self.nK[1])
        self.ival = self._moveArray(iv)
        self.jval = self._moveArray(jv)
        self._rowE = self._moveArray(rowE)
        self._rowC = self._moveArray(rowC)
        self._colE = self._moveArray(colE)
        self._colR = self._moveArray(colR)

    @staticmethod
    def _indexArray(v, name, n):
        from ..backend import toHost
        a = toHost(v) if hasattr(v, "shape") else numpy.asarray(v)
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise ValueError(f"SparseKernel: {name} must be a 1-D array of integer indices; "
                             f"got dtype {a.dtype}, shape {a.shape}")
        a = a.astype(numpy.int64)
        if a.size and (a.min() < 0 or a.max() >= n):
            raise ValueError(f"SparseKernel: {name} must hold 0-based indices in [0, {n - 1}]; "
                             f"got values in [{a.min()}, {a.max()}]")
        return a

    def nnz(self):
        """Number of stored entries (``len(ival)``)."""
        return int(self.ival.shape[0])

    def nTheta(self):
        return self.nnz() if self.Qs is None else int(self.Qs.shape[1])

    def sizeFeatIn(self):
        return (self.nK[1],)

    def sizeFeatOut(self):
        return (self.nK[0],)

    def initTheta(self, rng=None):
        """Uniform ``U(0, 1)`` entries (as Meganet.m)."""
        rng = numpy.random.default_rng(rng)
        return self.asArray(rng.random(self.nTheta()))

    # ------------------------------------------------------------------ helpers
    def _values(self, theta):
        """``Qs theta`` with a zero appended (the value of the padding slots)."""
        v = applyParameterisation(self.Qs, theta)
        return self.xp.concatenate([v, self.xp.zeros(1, dtype=v.dtype)])

    def getMatrix(self, theta):
        """``K(theta)`` as a dense ``nK[0] x nK[1]`` array (for small kernels)."""
        return self.Amv(theta, self.xp.eye(self.nK[1], dtype=self.dtype)).T

    # ------------------------------------------------------------------ kernel protocol
    def Amv(self, theta, Y):
        v = self._values(theta)
        return (Y[:, self._rowC] * v[self._rowE]).sum(axis=2)

    def ATmv(self, theta, Z):
        v = self._values(theta)
        return (Z[:, self._colR] * v[self._colE]).sum(axis=2)

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        T = W[:, self.ival] * Y[:, self.jval]          # (N, nnz)
        return applyParameterisationT(self.Qs, T.sum(axis=0) if reduceDim else T, reduceDim)
