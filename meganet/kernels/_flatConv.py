"""Host (NumPy) matrix products of the stride-1 convolutions, accumulated in place by BLAS (private).

The flattened padded grid
-------------------------
For images padded to ``Ypad`` of shape ``(N, Hp, Wp, cin)`` and flattened to the matrix
``Yf`` of shape ``(T, cin)`` (``T = N Hp Wp``, rows ``(n, h, w)`` in C order), the
stride-1 cross-correlation with stencils ``K`` of shape ``(k1, k2, cin, cout)`` is, on the
same grid (output pixel ``(h, w)`` of example ``n`` at row ``q = n Hp Wp + h Wp + w``)::

    Zf[q] = sum_{i, j} Yf[q + i Wp + j] K[i, j]        for q < L = T - (k1 - 1) Wp - (k2 - 1)

Every stencil entry reads a contiguous block of rows of ``Yf`` (no copy of a shifted
window); the rows with ``h >= Hp - k1 + 1`` or ``w >= Wp - k2 + 1`` are not output pixels
and are discarded. The weight gradient ``G[i, j] = sum_q Yf[q + i Wp + j]^T Wf[q]`` uses
the same blocks, with ``Wf`` the output-shaped ``W`` placed on the padded grid.

Each of the ``k1 k2`` products is accumulated into its result by BLAS ``gemm`` with
``beta = 1`` (no temporary per stencil entry). The rows are processed in chunks of about
:data:`CHUNK_BYTES` of input and output, so that the accumulated block of the result
stays in the processor's cache across the ``k1 k2`` products (measured on an AMD EPYC,
2 cores, 48 x 48 x 64 channels: about 2x faster than one pass per stencil entry over all
rows).

Threads. Many small multi-threaded BLAS calls each end with a synchronisation of the BLAS
threads, which is slow when the cores are shared with other processes (measured: 10x
slower than the same products with one large call per stencil entry on a busy 2-core
machine). So the rows are split into one contiguous part per BLAS thread; each part runs
in its own thread (the calling thread and a pool created once per process) with
single-threaded BLAS calls on its chunks (the calls release the GIL), and the threads
meet once per product. The number of threads is the BLAS library's
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or a ``threadpoolctl`` limit set by the
caller); BLAS is limited to one thread per call while the parts run.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

__all__ = ["CHUNK_BYTES", "flatCorrelate", "flatStencilGradient", "gemmInto", "matmul"]

#: bytes of input plus output rows processed per chunk
CHUNK_BYTES = 1 << 20

_GEMM = {numpy.dtype(numpy.float32): blas.sgemm, numpy.dtype(numpy.float64): blas.dgemm}


def _operand(X):
    """``(X^T as a Fortran-ordered array, transpose flag)`` for a C-order product with ``X``."""
    if X.flags.c_contiguous:
        return X.T, 0
    if X.flags.f_contiguous:
        return X, 1
    return numpy.ascontiguousarray(X).T, 0


def gemmInto(A, B, C, beta):
    """``C = A @ B + beta C`` in place (host arrays of one float dtype; ``C`` C-contiguous).

    ``A`` and ``B`` may be C- or Fortran-contiguous (e.g. transposed views); neither is
    copied then. With ``beta = 0`` the previous content of ``C`` is not read.
    """
    gemm = _GEMM[C.dtype]
    b, tb = _operand(B)
    a, ta = _operand(A)
    # the C-order product C = A B is the Fortran-order product C^T = B^T A^T
    out = gemm(1.0, b, a, beta=beta, c=C.T, trans_a=tb, trans_b=ta, overwrite_c=1)
    if not numpy.shares_memory(out, C):   # not expected: gemm works in place on C^T
        C[...] = out.T
    return C


def matmul(A, B):
    """``A @ B`` (2-D); on the host through the same BLAS as the other products here."""
    if not isinstance(A, numpy.ndarray) or A.dtype not in _GEMM or A.dtype != B.dtype:
        return A @ B
    C = numpy.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    return gemmInto(A, B, C, 0.0)


def _chunkRows(nCols, itemsize):
    return max(256, CHUNK_BYTES // (nCols * itemsize))


def _controller():
    """A threadpoolctl controller of the loaded BLAS libraries (created once per process)."""
    ctl = getattr(_controller, "ctl", None)
    if ctl is None:
        ctl = _controller.ctl = ThreadpoolController()
    return ctl


def _workers(n):
    """A pool of ``n`` threads for the row parts (created once per process and size)."""
    pool = getattr(_workers, "pool", None)
    if pool is None or _workers.key != (os.getpid(), n):    # new size, or a forked child
        pool = _workers.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="meganet-gemm")
        _workers.key = (os.getpid(), n)
    return pool


def _inParallel(work, L, rows):
    """Run ``work(a, b)`` on a split of the rows ``[0, L)``, one part per BLAS thread.

    Each part is a multiple of ``rows`` long (except the last). The calling thread runs
    the first part, pool threads the others; while the parts run, BLAS uses one thread
    per call. Returns the results of ``work`` in order.
    """
    blasLibs = _controller().select(user_api="blas")
    nThreads = max([lib.num_threads for lib in blasLibs.lib_controllers] + [1])
    nChunks = -(-L // rows)
    parts = min(nThreads, nChunks)
    if parts <= 1:
        return [work(0, L)]
    bounds = [min(L, rows * (nChunks * k // parts)) for k in range(parts + 1)]
    with blasLibs.limit(limits=1):
        pool = _workers(parts - 1)
        futures = [pool.submit(work, bounds[k], bounds[k + 1]) for k in range(1, parts)]
        first = work(bounds[0], bounds[1])
        return [first] + [f.result() for f in futures]


def _flatInput(Ypad, kSize):
    """``(T, L, Yf, offsets)``: rows of the grid, rows with a full stencil, the flattened
    input ``(T, cin)`` and the row offset ``i Wp + j`` of every stencil entry (C order)."""
    N, Hp, Wp, cin = Ypad.shape
    k1, k2 = kSize
    T = N * Hp * Wp
    L = T - ((k1 - 1) * Wp + (k2 - 1))
    offsets = [i * Wp + j for i in range(k1) for j in range(k2)]
    return T, L, Ypad.reshape(T, cin), offsets


def flatCorrelate(Ypad, K, nImgOut):
    """Stride-1 cross-correlation of padded images with stencils, on the flattened grid.

    Parameters
    ----------
    Ypad : numpy.ndarray, shape (N, Hp, Wp, cin)
        Padded input (C-contiguous).
    K : numpy.ndarray, shape (k1, k2, cin, cout)
        Stencils.
    nImgOut : (H, W)
        Output size, ``H <= Hp - k1 + 1``, ``W <= Wp - k2 + 1``.

    Returns
    -------
    Z : numpy.ndarray, shape (N, H, W, cout)
        ``Z[n, h, w] = sum_{i, j} Ypad[n, h + i, w + j] @ K[i, j]``.
    """
    N, Hp, Wp, cin = Ypad.shape
    k1, k2, _, cout = K.shape
    H, W = nImgOut
    T, L, Yf, offsets = _flatInput(Ypad, (k1, k2))
    Ks = numpy.ascontiguousarray(K).reshape(k1 * k2, cin, cout)
    Z = numpy.empty((T, cout), dtype=Ypad.dtype)
    Z[L:] = 0
    rows = _chunkRows(cin + cout, Ypad.dtype.itemsize)

    def work(a, b):
        for s in range(a, b, rows):
            e = min(b, s + rows)
            Zc = Z[s:e]
            for n, o in enumerate(offsets):
                gemmInto(Yf[s + o:e + o], Ks[n], Zc, 1.0 if n else 0.0)
    _inParallel(work, L, rows)
    return numpy.ascontiguousarray(Z.reshape(N, Hp, Wp, cout)[:, :H, :W])


def flatStencilGradient(Ypad, W, kSize):
    """``G[i, j] = sum_{n, h, w} Ypad[n, h + i, w + j]^T W[n, h, w]`` on the flattened grid.

    Parameters
    ----------
    Ypad : numpy.ndarray, shape (N, Hp, Wp, cin)
        Padded input (C-contiguous).
    W : numpy.ndarray, shape (N, H, W, cout)
        Output-shaped weights of the sum.
    kSize : (k1, k2)
        Stencil size, ``k1 <= Hp - H + 1``, ``k2 <= Wp - W + 1``.

    Returns
    -------
    G : numpy.ndarray, shape (k1, k2, cin, cout)
    """
    N, Hp, Wp, cin = Ypad.shape
    H, Wd, cout = W.shape[1:]
    k1, k2 = kSize
    T, L, Yf, offsets = _flatInput(Ypad, kSize)
    if (H, Wd) == (Hp, Wp):          # 1 x 1 stencils: no padding
        Wf = W.reshape(T, cout)
    else:
        Wpad = numpy.zeros((N, Hp, Wp, cout), dtype=W.dtype)
        Wpad[:, :H, :Wd] = W
        Wf = Wpad.reshape(T, cout)
    rows = _chunkRows(cin + cout, Ypad.dtype.itemsize)

    def work(a, b):
        G = numpy.zeros((k1 * k2, cin, cout), dtype=Ypad.dtype)
        for s in range(a, b, rows):
            e = min(b, s + rows)
            Wc = Wf[s:e]
            for n, o in enumerate(offsets):
                gemmInto(Yf[s + o:e + o].T, Wc, G[n], 1.0)
        return G
    parts = _inParallel(work, L, rows)
    G = parts[0]
    for P in parts[1:]:
        G += P
    return G.reshape(k1, k2, cin, cout)
