"""Threads for host (NumPy) work split into row parts (private helpers of the kernels and layers).

NumPy's elementwise functions and reductions, and the single-threaded BLAS calls of
:mod:`meganet.kernels._flatConv`, release the GIL on large arrays, so contiguous parts of
an array can be processed by several threads at once. The number of threads is the BLAS
library's (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or a ``threadpoolctl`` limit set
by the caller), so that one setting governs all of meganet's host parallelism. The calling
thread runs the first part and a pool of threads created once per process (and size) the
others; the threads meet once per call. On the device nothing here is used.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy
from threadpoolctl import ThreadpoolController

__all__ = []


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
        pool = _workers.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="meganet-host")
        _workers.key = (os.getpid(), n)
    return pool


def blasThreads():
    """``(threadpoolctl selection of the BLAS libraries, their thread count)``."""
    blasLibs = _controller().select(user_api="blas")
    return blasLibs, max([lib.num_threads for lib in blasLibs.lib_controllers] + [1])


def splitRun(work, L, rows, nThreads=None):
    """Run ``work(a, b)`` on a split of ``[0, L)`` into one part per thread; its results in order.

    Each part is a multiple of ``rows`` long (except the last), so a part can be processed
    in chunks of ``rows``. ``nThreads`` defaults to the BLAS thread count.
    """
    if nThreads is None:
        nThreads = blasThreads()[1]
    nChunks = -(-L // rows) if L > 0 else 0
    parts = min(nThreads, nChunks)
    if parts <= 1:
        return [work(0, L)]
    bounds = [min(L, rows * (nChunks * k // parts)) for k in range(parts + 1)]
    pool = _workers(parts - 1)
    futures = [pool.submit(work, bounds[k], bounds[k + 1]) for k in range(1, parts)]
    first = work(bounds[0], bounds[1])
    return [first] + [f.result() for f in futures]


def inChunks(work, L, rows):
    """Call ``work(s, e)`` on consecutive chunks ``[s, e)`` of ``[0, L)`` of ``rows`` entries,
    the chunks shared among the threads as in :func:`splitRun`."""
    def run(a, b):
        for s in range(a, b, rows):
            work(s, min(b, s + rows))
    splitRun(run, L, rows)


#: entries per chunk of :func:`elementwise` (the operands of a chunk stay in the cache)
ELEMENTWISE_CHUNK = 1 << 16


def elementwise(work, *arrays):
    """``work(*parts)`` on corresponding chunks of equally sized arrays, in the host threads.

    For C-contiguous NumPy arrays of one size, ``work`` is called on consecutive chunks of
    :data:`ELEMENTWISE_CHUNK` entries of their flattened views (all of ``work``'s passes
    over a chunk run while it is in the cache); ``work`` must act elementwise, writing its
    results in place (``out=``) into some of the parts. Otherwise (device arrays, other
    layouts) ``work(*arrays)`` is called once.
    """
    size = arrays[0].size
    if all(isinstance(a, numpy.ndarray) and a.flags.c_contiguous and a.size == size for a in arrays):
        flat = [a.reshape(-1) for a in arrays]
        inChunks(lambda s, e: work(*[f[s:e] for f in flat]), size, ELEMENTWISE_CHUNK)
    else:
        work(*arrays)
