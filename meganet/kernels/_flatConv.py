"""Host (NumPy) matrix products of the stride-1 convolutions, accumulated in place by BLAS (private).

The flattened grid
------------------
For images ``Y`` of shape ``(N, H, W, cin)`` flattened to the matrix ``Yf`` of shape
``(T, cin)`` (``T = N H W``, rows ``q = n H W + h W + w`` in C order), the stride-1 "same"
cross-correlation with stencils ``K`` of shape ``(k1, k2, cin, cout)`` (zero padding
``p1 = (k1 - 1) / 2``, ``p2 = (k2 - 1) / 2``) is::

    Zf[q] = sum_{i, j} Yf[q + d_ij] K[i, j],     d_ij = (i - p1) W + (j - p2),

summed over the entries whose neighbour ``(h + i - p1, w + j - p2)`` lies inside the
image. Every stencil entry reads a contiguous block of rows of ``Yf`` (no copy of a
shifted window, no padded copy of the input, and the output is formed in place, without
a padded grid to crop). The block is clipped to ``[0, T)``; at the image borders it wraps
to the neighbouring image row or example, so the rows whose neighbour lies outside the
image (``|i - p1|`` rows and ``|j - p2|`` columns per example and entry) receive a
product that belongs to another pixel, which is subtracted again with a small product
of just those rows (:func:`_wrapped`; about ``2 (H + W) / (H W)`` of the work per entry).
The weight gradient ``G[i, j] = sum_q Yf[q + d_ij]^T Wf[q]`` uses the same blocks with
``Wf`` the flattened output-shaped ``W``, corrected the same way.

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
single-threaded BLAS calls on its chunks (the calls release the GIL:
:mod:`meganet.hostBlas`), and the threads
meet once per product. The number of threads is the BLAS library's
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or a ``threadpoolctl`` limit set by the
caller); BLAS is limited to one thread per call while the parts run.
"""
import functools

import numpy

from ..hostBlas import gemmInto, matmul, rowsGemm
from ..hostThreads import blasThreads, splitRun

__all__ = ["CHUNK_BYTES", "flatCorrelate", "flatStencilGradient", "gemmInto", "matmul"]

#: bytes of input plus output rows processed per chunk
CHUNK_BYTES = 1 << 20

def _chunkRows(nCols, itemsize):
    return max(256, CHUNK_BYTES // (nCols * itemsize))


def _inParallel(work, L, rows, then=None):
    """Run ``work(a, b)`` on a split of the rows ``[0, L)``, one part per BLAS thread.

    Each part is a multiple of ``rows`` long (except the last). The calling thread runs
    the first part, pool threads the others; while the parts run, BLAS uses one thread
    per call. ``then(results)``, if given, runs afterwards in the calling thread, still
    with single-threaded BLAS (small products, for which the synchronisation of the BLAS
    threads costs more than it gains). Returns the results of ``work`` in order (or
    ``then``'s result).
    """
    blasLibs, nThreads = blasThreads()
    with blasLibs.limit(limits=1):
        results = splitRun(work, L, rows, nThreads)
        return then(results) if then is not None else results


def _entries(nImg, kSize):
    """``(i, j, d)`` of every stencil entry, the centre first: ``d = (i - p1) W + (j - p2)``
    is the row offset of the entry's neighbour on the flattened (unpadded) grid."""
    H, W = nImg
    k1, k2 = kSize
    p1, p2 = (k1 - 1) // 2, (k2 - 1) // 2
    out = [(p1, p2, 0)]
    out += [(i, j, (i - p1) * W + (j - p2)) for i in range(k1) for j in range(k2)
            if (i, j) != (p1, p2)]
    return out


@functools.lru_cache(maxsize=64)
def _wrapped(N, nImg, kSize, i, j, d):
    """Rows ``q`` of the output grid whose neighbour ``(h + i - p1, w + j - p2)`` for stencil
    entry ``(i, j)`` lies outside the image, but whose flat neighbour row ``q + d`` exists:
    the flat products add ``Yf[q + d] K[i, j]`` there, which belongs to another pixel (the
    row wraps to the neighbouring image row or example) and is subtracted again."""
    H, W = nImg
    p1, p2 = (kSize[0] - 1) // 2, (kSize[1] - 1) // 2
    h = numpy.arange(H)[:, None] + (i - p1)
    w = numpy.arange(W)[None, :] + (j - p2)
    outside = ((h < 0) | (h >= H)) | ((w < 0) | (w >= W))
    local = numpy.flatnonzero(outside)
    if local.size == 0:
        return local
    q = (numpy.arange(N)[:, None] * (H * W) + local[None, :]).ravel()
    q = q[(q + d >= 0) & (q + d < N * H * W)]
    q.flags.writeable = False           # cached: shared by the calls of one shape
    return q


def flatCorrelate(Y, K):
    """Stride-1 "same" cross-correlation (zero padding) of images with stencils.

    The ``k1 k2`` products run on the flattened images without padding: stencil entry
    ``(i, j)`` reads the block of rows shifted by ``d = (i - p1) W + (j - p2)``
    (``p1, p2`` the padding), clipped to the grid; the rows whose neighbour lies outside
    the image (the borders: there the shifted block wraps to the next image row or
    example) are corrected afterwards with the products of just those rows.

    Parameters
    ----------
    Y : numpy.ndarray, shape (N, H, W, cin)
        Input (C-contiguous).
    K : numpy.ndarray, shape (k1, k2, cin, cout)
        Stencils (odd ``k1``, ``k2``).

    Returns
    -------
    Z : numpy.ndarray, shape (N, H, W, cout)
        ``Z[n, h, w] = sum_{i, j} Ypad[n, h + i, w + j] @ K[i, j]`` with ``Ypad`` the
        input padded by ``(k1 - 1) / 2`` and ``(k2 - 1) / 2`` zeros on each side.
    """
    N, H, W, cin = Y.shape
    k1, k2, _, cout = K.shape
    T = N * H * W
    Yf = Y.reshape(T, cin)
    Ks = numpy.ascontiguousarray(K)
    entries = _entries((H, W), (k1, k2))
    Z = numpy.empty((T, cout), dtype=Y.dtype)
    rows = _chunkRows(cin + cout, Y.dtype.itemsize)

    gemm, item = rowsGemm(Y.dtype), Y.dtype.itemsize
    if gemm is not None:        # addresses: the per-call cost of small products matters
        pY, pK, pZ = Yf.ctypes.data, Ks.ctypes.data, Z.ctypes.data

    def work(a, b):
        for s in range(a, b, rows):
            e = min(b, s + rows)
            for n, (i, j, d) in enumerate(entries):
                lo, hi = max(s, -d), min(e, T - d)
                if lo >= hi:
                    continue
                beta = 1.0 if n else 0.0
                if gemm is None:
                    gemmInto(Yf[lo + d:hi + d], Ks[i, j], Z[lo:hi], beta)
                else:
                    gemm(pY + (lo + d) * cin * item, pK + (i * k2 + j) * cin * cout * item,
                         pZ + lo * cout * item, hi - lo, cin, cout, beta)
    def borders(_):
        for i, j, d in entries[1:]:
            q = _wrapped(N, (H, W), (k1, k2), i, j, d)
            if q.size:
                Zq = Z.take(q, axis=0)
                Z[q] = gemmInto(Yf.take(q + d, axis=0), Ks[i, j], Zq, 1.0, alpha=-1.0)
    _inParallel(work, T, rows, borders)
    return Z.reshape(N, H, W, cout)


def flatStencilGradient(Y, W, kSize):
    """``G[i, j] = sum_{n, h, w} Ypad[n, h + i, w + j]^T W[n, h, w]`` on the flattened grid.

    The products of :func:`flatCorrelate`'s shifted row blocks with ``W`` (no padding of
    either), corrected on the border rows.

    Parameters
    ----------
    Y : numpy.ndarray, shape (N, H, W, cin)
        Input (C-contiguous); ``Ypad`` is it padded by ``(k1 - 1) / 2`` and
        ``(k2 - 1) / 2`` zeros on each side.
    W : numpy.ndarray, shape (N, H, W, cout)
        Output-shaped weights of the sum.
    kSize : (k1, k2)
        Stencil size (odd).

    Returns
    -------
    G : numpy.ndarray, shape (k1, k2, cin, cout)
    """
    N, H, Wd, cin = Y.shape
    cout = W.shape[-1]
    k1, k2 = kSize
    T = N * H * Wd
    Yf = Y.reshape(T, cin)
    Wf = numpy.ascontiguousarray(W).reshape(T, cout)
    entries = _entries((H, Wd), kSize)
    rows = _chunkRows(cin + cout, Y.dtype.itemsize)

    gemm, item = rowsGemm(Y.dtype), Y.dtype.itemsize
    if gemm is not None:        # addresses: the per-call cost of small products matters
        pY, pW = Yf.ctypes.data, Wf.ctypes.data

    def work(a, b):
        G = numpy.zeros((k1, k2, cin, cout), dtype=Y.dtype)
        pG = G.ctypes.data
        for s in range(a, b, rows):
            e = min(b, s + rows)
            for i, j, d in entries:
                lo, hi = max(s, -d), min(e, T - d)
                if lo >= hi:
                    continue
                if gemm is None:
                    gemmInto(Yf[lo + d:hi + d].T, Wf[lo:hi], G[i, j], 1.0)
                else:
                    gemm(pY + (lo + d) * cin * item, pW + lo * cout * item,
                         pG + (i * k2 + j) * cin * cout * item, cin, hi - lo, cout, 1.0, transA=True)
        return G
    def total(parts):
        G = parts[0]
        for P in parts[1:]:
            G += P
        for i, j, d in entries[1:]:
            q = _wrapped(N, (H, Wd), kSize, i, j, d)
            if q.size:
                gemmInto(Yf.take(q + d, axis=0).T, Wf.take(q, axis=0), G[i, j], 1.0, alpha=-1.0)
        return G
    return _inParallel(work, T, rows, total)
