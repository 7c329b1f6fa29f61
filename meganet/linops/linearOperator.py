"""Matrix-free linear operators with tensor-shaped domain and range.

Meganet.m's ``LinearOperator``: an operator ``A`` from arrays of shape ``n`` to arrays of
shape ``m`` given by two functions, ``Amv(x) = A x`` and ``ATmv(y) = A^T y``.
Operators compose with ``@``, add, subtract, scale, and transpose with ``.T``;
``A.blkdiag(B, ...)`` and ``A.hcat(B, ...)`` build block-diagonal and horizontally
concatenated operators (:mod:`meganet.linops.opBlkdiag`). As in Meganet.m,
``LinearOperator(A)`` wraps a matrix ``A`` (a 2-D NumPy or device array, or a SciPy sparse
matrix for host data).

Why not ``scipy.sparse.linalg.LinearOperator`` as the base class: SciPy's operator (and
CuPy's counterpart) only knows flat 2-D shapes, coerces its inputs with
``numpy.asarray`` (which a device array refuses), and picks the array module at
construction; meganet's operators act on tensors (``(N, H, W, C)`` batches,
``(nTheta,)`` weights) on either backend. :meth:`LinearOperator.toScipy` gives the
SciPy (or CuPy) view on flat vectors for use with SciPy's iterative solvers.
"""
import numbers

import numpy

from ..backend import BackendMixin, checkPrecision, checkUseGPU, getArrayModuleOf, isDeviceArray

__all__ = ["LinearOperator"]


def _asShape(s):
    if isinstance(s, (int, numpy.integer)):
        return (int(s),)
    return tuple(int(v) for v in s)


class LinearOperator(BackendMixin):
    """Linear operator ``A: R^n -> R^m`` given by its action and its adjoint action.

    Parameters
    ----------
    m, n : int or tuple of int
        Shapes of the range (output) and domain (input).
    Amv : callable
        ``x -> A x`` for ``x`` of shape ``n``.
    ATmv : callable, optional
        ``y -> A^T y`` for ``y`` of shape ``m``.
    useGPU, precision :
        Backend of the arrays the operator acts on.

    ``LinearOperator(A)`` with a single matrix argument (Meganet.m's ``LinearOperator(A)``)
    wraps ``A`` of shape ``(p, q)``: ``m = (p,)``, ``n = (q,)``, ``Amv(x) = A x`` for ``x`` of
    shape ``(q,)`` and ``X A^T`` for a batch ``X`` of shape ``(N, q)``; ``ATmv`` likewise
    with ``A^T``. The matrix is applied on the backend of its input (a copy on the other
    backend or in the other precision is made once and kept); ``useGPU``/``precision``
    default to those of ``A``.
    """

    def __init__(self, m, n=None, Amv=None, ATmv=None, useGPU=None, precision=None):
        if n is None and Amv is None:
            self._initMatrix(m, useGPU, precision)
            return
        if n is None or Amv is None:
            raise TypeError("LinearOperator: give (m, n, Amv[, ATmv]) or a single matrix A; "
                            f"got m={m!r}, n={n!r}, Amv={Amv!r}")
        self.m = _asShape(m)
        self.n = _asShape(n)
        self._Amv = Amv
        self._ATmv = ATmv
        self._useGPU = checkUseGPU(False if useGPU is None else useGPU)
        self._precision = checkPrecision("double" if precision is None else precision)

    def _initMatrix(self, A, useGPU, precision):
        isSparse = hasattr(A, "tocsr") and hasattr(A, "nnz")
        if not (isSparse or isinstance(A, numpy.ndarray) or isDeviceArray(A)) \
                or len(getattr(A, "shape", ())) != 2:
            raise TypeError("LinearOperator(A): A must be a 2-D array (NumPy or device) or a "
                            f"SciPy sparse matrix; got {type(A).__name__} with shape "
                            f"{getattr(A, 'shape', None)}")
        self.m = (int(A.shape[0]),)
        self.n = (int(A.shape[1]),)
        self._matrix = A
        self._matrixCache = {}
        if useGPU is None:
            useGPU = isDeviceArray(A)
        if precision is None:
            precision = "single" if A.dtype == numpy.float32 else "double"
        self._useGPU = checkUseGPU(useGPU)
        self._precision = checkPrecision(precision)
        self._Amv = lambda x: self._matrixApply(x, False)
        self._ATmv = lambda y: self._matrixApply(y, True)

    def _matrixFor(self, x):
        """The wrapped matrix on ``x``'s backend and in ``x``'s precision (cached)."""
        A = self._matrix
        if hasattr(A, "tocsr"):  # SciPy sparse: host data only
            if isDeviceArray(x):
                raise TypeError("LinearOperator(A): a SciPy sparse matrix cannot act on device "
                                "arrays; wrap a dense or device matrix instead")
            return A
        xp = getArrayModuleOf(x)
        dtype = x.dtype if x.dtype.kind == "f" else numpy.dtype(numpy.float64)
        if getArrayModuleOf(A) is xp and A.dtype == dtype:
            return A
        key = (xp.__name__, numpy.dtype(dtype).str)
        if key not in self._matrixCache:
            host = A.get() if isDeviceArray(A) else A
            host = numpy.asarray(host, dtype=dtype)
            self._matrixCache[key] = host if xp is numpy else xp.asarray(host)
        return self._matrixCache[key]

    def _matrixApply(self, x, transpose):
        nIn = self.m[0] if transpose else self.n[0]
        if not hasattr(x, "shape"):
            raise TypeError(f"LinearOperator(A): input must be an array; got {type(x).__name__}")
        A = self._matrixFor(x)
        if x.ndim == 1 and x.shape[0] == nIn:
            return A.T @ x if transpose else A @ x
        if x.ndim == 2 and x.shape[1] == nIn:
            return x @ A if transpose else (A @ x.T).T
        raise ValueError(f"LinearOperator(A){'^T' if transpose else ''}: input must have shape "
                         f"({nIn},) or (N, {nIn}); got {tuple(x.shape)}")

    def _onBackendChange(self):
        """Hook for operators that hold arrays."""

    @property
    def shape(self):
        """``(prod(m), prod(n))`` as for a matrix."""
        return (int(numpy.prod(self.m)), int(numpy.prod(self.n)))

    def Amv(self, x):
        """Apply the operator."""
        return self._Amv(x)

    def ATmv(self, y):
        """Apply the adjoint."""
        if self._ATmv is None:
            raise NotImplementedError(f"{type(self).__name__}: no adjoint (ATmv) was given")
        return self._ATmv(y)

    def __matmul__(self, other):
        if isinstance(other, LinearOperator):
            return _composition(self, other)
        return self.Amv(other)

    def __call__(self, x):
        return self.Amv(x)

    @property
    def T(self):
        """The adjoint operator."""
        return LinearOperator(self.n, self.m, self.ATmv, self.Amv,
                              useGPU=self._useGPU, precision=self._precision)

    def transpose(self):
        return self.T

    # ------------------------------------------------------------------ as a bias
    def biasApply(self, th, featShape):
        """The bias field ``A th`` reshaped to the feature shape (see :mod:`meganet.linops.bias`)."""
        return self.Amv(th).reshape(featShape)

    def biasApplyT(self, W, reduceDim=True):
        """Adjoint of the bias broadcast over examples: ``A^T sum_n W[n]``, shape ``(nb,)``,
        or per example ``A^T W[n]``, shape ``(N, nb)`` (``reduceDim=False``)."""
        if reduceDim:
            return self.ATmv(W.sum(axis=0).reshape(self.m)).reshape(-1)
        xp = getArrayModuleOf(W)
        return xp.stack([self.ATmv(W[i].reshape(self.m)).reshape(-1) for i in range(W.shape[0])])

    #: The block-operator classes ``{"blkdiag": opBlkdiag, "hcat": opHcat}``; registered by
    #: :mod:`meganet.linops.opBlkdiag`, which builds on this module (so this module does not
    #: import it back).
    blockOperators = {}

    def blkdiag(self, *others):
        """The block-diagonal operator ``diag(self, *others)`` (Meganet.m's ``blkdiag``)."""
        return LinearOperator.blockOperators["blkdiag"](self, *others)

    def hcat(self, *others):
        """The operator ``[self, *others]`` acting on concatenated flat inputs (Meganet.m's ``hcat``)."""
        return LinearOperator.blockOperators["hcat"](self, *others)

    def __add__(self, other):
        if not isinstance(other, LinearOperator):
            return NotImplemented
        _sameShape(self, other, "+")
        return LinearOperator(self.m, self.n, lambda x: self.Amv(x) + other.Amv(x),
                              lambda y: self.ATmv(y) + other.ATmv(y),
                              useGPU=self._useGPU, precision=self._precision)

    def __sub__(self, other):
        if not isinstance(other, LinearOperator):
            return NotImplemented
        _sameShape(self, other, "-")
        return LinearOperator(self.m, self.n, lambda x: self.Amv(x) - other.Amv(x),
                              lambda y: self.ATmv(y) - other.ATmv(y),
                              useGPU=self._useGPU, precision=self._precision)

    def __neg__(self):
        return (-1.0) * self

    #: NumPy (and the device module) hand ``x * op`` and ``x @ op`` to the operator's
    #: reflected methods instead of building an object array
    __array_ufunc__ = None

    def __mul__(self, other):
        """``op * B``: composition for an operator, scaling for a scalar, and ``op.Amv(x)``
        for an array (as MATLAB's ``A * x`` and SciPy's operators)."""
        if isinstance(other, LinearOperator):
            return _composition(self, other)
        if _isScalar(other):
            return self._scaled(other)
        if hasattr(other, "shape") and hasattr(other, "dtype"):
            return self.Amv(other)
        return NotImplemented

    def __rmul__(self, other):
        if _isScalar(other):
            return self._scaled(other)
        return self._arrayOnTheLeft(other, "*")

    def __rmatmul__(self, other):
        return self._arrayOnTheLeft(other, "@")

    def _arrayOnTheLeft(self, other, op):
        if hasattr(other, "shape") and hasattr(other, "dtype"):
            raise TypeError(f"{type(self).__name__}: array {op} operator is not defined (the "
                            "operator acts from the left); write op * x or op @ x, and op.T * y "
                            "for the adjoint")
        return NotImplemented

    def _scaled(self, alpha):
        return LinearOperator(self.m, self.n, lambda x: alpha * self.Amv(x),
                              lambda y: alpha * self.ATmv(y),
                              useGPU=self._useGPU, precision=self._precision)

    def toDense(self):
        """The operator as a dense host matrix of shape ``self.shape`` (for small operators)."""
        from ..backend import asArray, toHost
        ncol = self.shape[1]
        cols = []
        for j in range(ncol):
            e = numpy.zeros(ncol)
            e[j] = 1.0
            x = asArray(e.reshape(self.n), useGPU=self._useGPU, precision=self._precision)
            cols.append(toHost(self.Amv(x)).ravel())
        return numpy.stack(cols, axis=1) if cols else numpy.zeros(self.shape)

    def toScipy(self):
        """A ``scipy.sparse.linalg.LinearOperator`` (CuPy's on the GPU) on flat vectors."""
        if self._useGPU:  # pragma: no cover - needs a GPU
            from cupyx.scipy.sparse.linalg import LinearOperator as SLO
        else:
            from scipy.sparse.linalg import LinearOperator as SLO
        m, n = self.m, self.n
        return SLO(self.shape, dtype=self.dtype,
                   matvec=lambda x: self.Amv(x.reshape(n)).reshape(-1),
                   rmatvec=lambda y: self.ATmv(y.reshape(m)).reshape(-1))

    def __repr__(self):
        return f"{type(self).__name__}(m={self.m}, n={self.n})"


def _isScalar(v):
    """A real number: Python/NumPy scalars and 0-d arrays (bools excluded)."""
    if isinstance(v, (bool, numpy.bool_)):
        return False
    return isinstance(v, numbers.Number) or (hasattr(v, "ndim") and v.ndim == 0)


def _sameShape(A, B, op):
    if A.m != B.m or A.n != B.n:
        raise ValueError(f"LinearOperator {op}: shapes differ: (m={A.m}, n={A.n}) vs "
                         f"(m={B.m}, n={B.n})")


def _composition(A, B):
    if int(numpy.prod(A.n)) != int(numpy.prod(B.m)):
        raise ValueError(f"LinearOperator @: inner sizes differ: A.n={A.n}, B.m={B.m}")
    return LinearOperator(A.m, B.n, lambda x: A.Amv(B.Amv(x).reshape(A.n)),
                          lambda y: B.ATmv(A.ATmv(y).reshape(B.m)),
                          useGPU=A.useGPU, precision=A.precision)
