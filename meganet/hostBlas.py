"""Host (NumPy) matrix products that accumulate in place and release the GIL (private helpers).

Why not ``numpy.matmul`` or ``scipy.linalg.blas``
-------------------------------------------------
The convolutions form each result as a sum of many products ``C += A B`` on row blocks
(:mod:`meganet.kernels._flatConv`), run in several threads at once. That needs

* BLAS ``gemm`` with ``beta = 1`` (accumulate into ``C`` without a temporary), which
  ``numpy.matmul`` does not offer; and
* calls that release the GIL, so that the threads' products run at the same time. The
  wrappers of ``scipy.linalg.blas`` hold the GIL during the call: two threads calling them
  ran no faster than one (measured on 2 cores: 70 GFLOP/s in float32 with one thread or two,
  against 110 to 118 GFLOP/s with the calls below).

So the products call the Fortran ``sgemm``/``dgemm`` that SciPy exports for compiled code
(``scipy.linalg.cython_blas``, SciPy's public low-level BLAS interface) through ``ctypes``,
which releases the GIL for the duration of a foreign call. The routines' declared
signature (32-bit integers) is checked and a small product is compared with NumPy's on
import; should the interface be missing or either check fail (not expected), the products
fall back to ``scipy.linalg.blas``: same results, no parallel speed-up.

Layout. For a C-order product ``C = A B`` (``C`` of shape ``(m, n)`` with unit column
stride), the Fortran routine sees ``C^T`` (column-major, leading dimension the row stride
of ``C``) and is asked for ``C^T = B^T A^T``. An operand with unit column stride is seen by
Fortran as its transpose (``'N'``); one with unit row stride (e.g. the transposed view of
a C-contiguous array) as itself (``'T'``); anything else is copied first.
"""
import ctypes

import numpy

__all__ = ["gemmInto", "matmul", "rowsGemm", "RELEASES_GIL"]


def _fortranGemms():
    """``{dtype: callable}`` of the Fortran ``sgemm``/``dgemm`` of ``scipy.linalg.cython_blas``."""
    try:
        from scipy.linalg import cython_blas
        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype = ctypes.c_char_p
        api.PyCapsule_GetName.argtypes = [ctypes.py_object]
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        out = {}
        for name, real, dtype in (("sgemm", ctypes.c_float, numpy.float32),
                                  ("dgemm", ctypes.c_double, numpy.float64)):
            capsule = cython_blas.__pyx_capi__[name]
            signature = api.PyCapsule_GetName(capsule)
            # the prototype below assumes 32-bit integers (SciPy's LP64 interface): check it
            if not signature.replace(b" ", b"").startswith(b"void(char*,char*,int*,int*,int*,"):
                return {}
            pointer = api.PyCapsule_GetPointer(capsule, signature)
            intp, realp = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(real)
            # (transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), all by reference;
            # CFUNCTYPE (not PYFUNCTYPE) releases the GIL during the call
            proto = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, intp, intp, intp, realp,
                                     ctypes.c_void_p, intp, ctypes.c_void_p, intp, realp,
                                     ctypes.c_void_p, intp)
            out[numpy.dtype(dtype)] = (proto(pointer), real)
        return out
    except Exception:           # pragma: no cover - SciPy without the capsules
        return {}


def _selfTest(gemms):
    """The routines on a small product against NumPy (``{}`` if they disagree)."""
    A = numpy.arange(6.0).reshape(2, 3)
    B = numpy.arange(12.0).reshape(3, 4) - 5
    for dtype, (fn, real) in gemms.items():
        a, b = A.astype(dtype), B.astype(dtype)
        C = numpy.ones((2, 4), dtype=dtype)
        ref, ci = ctypes.byref, ctypes.c_int
        fn(b"N", b"N", ref(ci(4)), ref(ci(2)), ref(ci(3)), ref(real(1.0)), b.ctypes.data, ref(ci(4)),
           a.ctypes.data, ref(ci(3)), ref(real(2.0)), C.ctypes.data, ref(ci(4)))
        if not numpy.array_equal(C, a @ b + 2):
            return {}
    return gemms


_FORTRAN = _selfTest(_fortranGemms())

#: whether the products here release the GIL (``False`` only with the fallback)
RELEASES_GIL = bool(_FORTRAN)


def _fortranOperand(X):
    """``(array, trans, ld)``: ``X^T`` as Fortran sees ``array`` with ``trans`` applied."""
    r, c = X.shape
    s0, s1 = (s // X.itemsize for s in X.strides)
    if X.strides[0] % X.itemsize == 0 and X.strides[1] % X.itemsize == 0:
        if (s1 == 1 or c == 1) and s0 >= max(1, c):
            return X, b"N", max(1, s0 if r > 1 else c)
        if (s0 == 1 or r == 1) and s1 >= max(1, r):
            return X, b"T", max(1, s1 if c > 1 else r)
    X = numpy.ascontiguousarray(X)
    return X, b"N", max(1, c)


def _scipyGemmInto(A, B, C, beta, alpha):
    from scipy.linalg import blas
    gemm = {numpy.dtype(numpy.float32): blas.sgemm, numpy.dtype(numpy.float64): blas.dgemm}[C.dtype]

    def operand(X):
        if X.flags.c_contiguous:
            return X.T, 0
        if X.flags.f_contiguous:
            return X, 1
        return numpy.ascontiguousarray(X).T, 0
    b, tb = operand(B)
    a, ta = operand(A)
    out = gemm(alpha, b, a, beta=beta, c=C.T, trans_a=tb, trans_b=ta, overwrite_c=1)
    if not numpy.shares_memory(out, C):
        C[...] = out.T
    return C


def gemmInto(A, B, C, beta, alpha=1.0):
    """``C = alpha A @ B + beta C`` in place; returns ``C``.

    Host arrays of one float dtype (float32 or float64); ``A`` of shape ``(m, k)``, ``B``
    ``(k, n)``, ``C`` ``(m, n)`` with unit column stride (e.g. C-contiguous, or a block of
    rows of a C-contiguous array). ``A`` and ``B`` may be C- or Fortran-ordered views
    (e.g. transposes); neither is copied then. With ``beta = 0`` the previous content of
    ``C`` is not read. The call releases the GIL (see the module docstring).
    """
    m, k = A.shape
    k2, n = B.shape
    if k2 != k or C.shape != (m, n):
        raise ValueError(f"gemmInto: shapes A {A.shape}, B {B.shape}, C {C.shape} do not match")
    if not (A.dtype == B.dtype == C.dtype) or C.dtype not in _FORTRAN_DTYPES:
        raise TypeError(f"gemmInto: expected float32 or float64 arrays of one dtype, "
                        f"got {A.dtype}, {B.dtype}, {C.dtype}")
    if m == 0 or n == 0:
        return C
    if k == 0:
        if beta == 0:
            C[...] = 0
        else:
            C *= beta
        return C
    entry = _FORTRAN.get(C.dtype)
    if entry is None:           # pragma: no cover - SciPy without the capsules
        return _scipyGemmInto(A, B, C, beta, alpha)
    item = C.itemsize
    ldc = C.strides[0] // item if m > 1 else n
    if (n > 1 and C.strides[1] != item) or C.strides[0] % item or ldc < n:
        raise ValueError(f"gemmInto: C needs unit column stride and non-overlapping rows, "
                         f"got strides {C.strides}")
    fn, real = entry
    b, tb, ldb = _fortranOperand(B)
    a, ta, lda = _fortranOperand(A)
    ref, ci = ctypes.byref, ctypes.c_int
    # the C-order product C = A B is the Fortran-order product C^T = B^T A^T
    fn(tb, ta, ref(ci(n)), ref(ci(m)), ref(ci(k)), ref(real(alpha)), b.ctypes.data, ref(ci(ldb)),
       a.ctypes.data, ref(ci(lda)), ref(real(beta)), C.ctypes.data, ref(ci(ldc)))
    return C


_FORTRAN_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def matmul(A, B):
    """``A @ B`` (2-D) through :func:`gemmInto` for host float arrays, else ``A @ B``."""
    if (not isinstance(A, numpy.ndarray) or not isinstance(B, numpy.ndarray)
            or A.dtype not in _FORTRAN_DTYPES or A.dtype != B.dtype or A.ndim != 2 or B.ndim != 2):
        return A @ B
    C = numpy.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    return gemmInto(A, B, C, 0.0)


def rowsGemm(dtype):
    """A low-overhead product on row blocks given by addresses, or ``None`` (fallback).

    Returns ``gemm(pA, pB, pC, m, k, n, beta, transA=False, alpha=1.0)`` computing, on
    C-ordered row-major blocks at the byte addresses ``pA``, ``pB``, ``pC``,
    ``C = alpha op(A) B + beta C`` with ``C`` of ``m x n`` (leading dimension ``n``), ``B``
    of ``k x n`` (leading dimension ``n``) and ``op(A)`` of ``m x k``: ``A`` itself
    (``m x k``, leading dimension ``k``) or, with ``transA``, the transpose of the
    ``k x m`` block at ``pA`` (leading dimension ``m``). For many small products on blocks
    of the same few arrays (the convolutions' row chunks): the caller computes the
    addresses (and keeps the arrays alive); no checks are made, so that a call costs
    about as much as the BLAS routine itself (``gemmInto`` spends about 10 microseconds
    per call on its checks and on reading the arrays' addresses). ``None`` if the
    GIL-releasing routines are not available (then use :func:`gemmInto`).
    """
    entry = _FORTRAN.get(numpy.dtype(dtype))
    if entry is None:           # pragma: no cover - SciPy without the capsules
        return None
    fn, real = entry
    ref, ci = ctypes.byref, ctypes.c_int

    def gemm(pA, pB, pC, m, k, n, beta, transA=False, alpha=1.0):
        # C-order C = op(A) B is Fortran C^T = B^T op(A)^T; B^T and, without transA, A^T
        # are what Fortran sees of the row-major blocks ('N'); with transA, A^T is
        # Fortran's view of the k x m block transposed ('T')
        if transA:
            fn(b"N", b"T", ref(ci(n)), ref(ci(m)), ref(ci(k)), ref(real(alpha)), pB, ref(ci(n)),
               pA, ref(ci(m)), ref(real(beta)), pC, ref(ci(n)))
        else:
            fn(b"N", b"N", ref(ci(n)), ref(ci(m)), ref(ci(k)), ref(real(alpha)), pB, ref(ci(n)),
               pA, ref(ci(k)), ref(real(beta)), pC, ref(ci(n)))
    return gemm
