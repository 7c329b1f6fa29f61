"""Keep freed host memory in the process for reuse (opt-in; GNU C library on Linux).

A training step allocates and frees arrays of tens of megabytes many times (features,
their gradients, the normalization's intermediates). By default the GNU C library serves
each allocation above a threshold (at most 32 MB, adapted at run time) with a fresh
memory mapping from the kernel and returns it to the kernel when the array is freed; the
kernel then zeroes every page again on first use. On the STL-10 network at batch 128 that
was as much system time as computing time (``docs/performance.md``: "Host memory").

:func:`retainFreedMemory` raises the mapping threshold and the trim threshold
(``mallopt(M_MMAP_THRESHOLD)``, ``mallopt(M_TRIM_THRESHOLD)``), so that large arrays come
from the process's heap and freed memory stays there for the next step, as setting
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` before starting Python would. It
changes the allocator of the whole process (every library in it benefits likewise), so
meganet never calls it on import: the drivers and benchmarks call it, users may. The
process's resident memory then stays near its peak between steps instead of shrinking.
"""
import ctypes
import ctypes.util
import sys

__all__ = ["retainFreedMemory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def retainFreedMemory(mmapThreshold=1 << 30, trimThreshold=(1 << 31) - 1):
    """Serve allocations below ``mmapThreshold`` bytes from the heap and keep freed memory.

    Parameters
    ----------
    mmapThreshold : int
        Allocations of at least this many bytes still get their own mapping (default 1 GiB;
        the GNU C library accepts up to half its maximal heap size).
    trimThreshold : int
        Free memory at the top of the heap beyond this many bytes is returned to the
        kernel (default the largest value ``mallopt`` takes, about 2 GiB).

    Returns
    -------
    bool
        ``True`` if both settings were accepted; ``False`` where there is no GNU C library
        (other systems, other C libraries), which leaves the allocator as it was.
    """
    for name, value in (("mmapThreshold", mmapThreshold), ("trimThreshold", trimThreshold)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            raise ValueError(f"{name} must be an int in (0, 2**31); got {value!r}")
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, mmapThreshold) == 1
    return mallopt(_M_TRIM_THRESHOLD, trimThreshold) == 1 and ok
