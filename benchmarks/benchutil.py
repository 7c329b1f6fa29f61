"""Shared helpers of the benchmark scripts: threads, timing, optional PyTorch, peak memory.

Import this module BEFORE NumPy in a benchmark script (it fixes the number of BLAS /
OpenMP threads from ``--threads`` or the environment before the libraries start their
thread pools)::

    import benchutil                       # sets the thread count, adds the repository to sys.path
    torch = benchutil.importTorch()        # None (with a message) when PyTorch is absent
"""
import os
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
sys.path.insert(0, os.path.abspath(ROOT))

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _threadsFromArgv(argv):
    for k, a in enumerate(argv):
        if a == "--threads" and k + 1 < len(argv):
            return argv[k + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return None


def setThreads(n):
    """Use ``n`` threads in OpenBLAS/OpenMP (effective only before NumPy is imported)."""
    for v in _THREAD_VARS:
        os.environ[v] = str(n)


THREADS = int(_threadsFromArgv(sys.argv) or os.environ.get("OMP_NUM_THREADS") or os.cpu_count())
setThreads(THREADS)

INSTALL_HINT = "pip install torch==2.13.0"


def importTorch(required=False):
    """PyTorch with ``THREADS`` threads, or None (printing how to install it).

    With ``required``, a missing PyTorch prints the message and exits with status 0 (the
    benchmark has nothing to compare).
    """
    try:
        import torch
    except ImportError:
        msg = f"PyTorch is not installed (optional benchmark dependency: {INSTALL_HINT})"
        if required:
            print(msg + "; nothing to compare, exiting.")
            sys.exit(0)
        print(msg + "; the PyTorch columns are left out.")
        return None
    torch.set_num_threads(THREADS)
    return torch


def best(fun, repeat, warmup=True):
    """Best (minimum) wall time of ``repeat`` calls of ``fun``, in seconds (after one warm-up)."""
    if warmup:
        fun()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fun()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def bestAlternating(funs, repeat, warmup=True):
    """Best wall times of several functions, run in turns (``f1, f2, f1, f2, ...``).

    On a machine shared with other jobs, alternating spreads the background load over
    all candidates instead of penalising whichever ran during a busy period.
    """
    if warmup:
        for f in funs:
            f()
    ts = [[] for _ in funs]
    for _ in range(repeat):
        for k, f in enumerate(funs):
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return [min(t) for t in ts]


# ---------------------------------------------------------------------- peak memory
def currentRSS():
    """Resident set size of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peakRSS():
    """High-water mark of this process's resident set size, in bytes (Linux).

    Read from ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's own
    address space. (``getrusage``'s ``ru_maxrss`` is not used: after ``exec`` it also
    carries the resident size of the parent process at the time of the fork.)
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc/self/status (Linux only)")


def measurePeak(fun, warmup=None):
    """``(peak, base)``: the RSS high-water mark after ``fun()`` and the RSS just before it.

    ``peak - base`` is what ``fun`` added at its peak. Meaningful in a fresh process whose
    earlier work (imports, building the model and data) stayed below the peak. ``warmup``
    (the same computation on one example) runs first, so that one-time costs (thread
    pools, library initialisation) are part of ``base``, not of the peak.
    """
    if warmup is not None:
        warmup()
    base = currentRSS()
    fun()
    return peakRSS(), base


def addAllocatorOption(p):
    """Add ``--allocator retain|default`` to an argument parser (see :func:`applyAllocator`)."""
    p.add_argument("--allocator", choices=["retain", "default"], default="retain",
                   help="retain: keep freed host memory for reuse (meganet.retainFreedMemory, "
                        "the whole process, both libraries); default: the C library's setting")


def applyAllocator(args):
    """Apply ``args.allocator`` to this process; a phrase for the header of the table."""
    if args.allocator == "retain":
        import meganet as mg
        if mg.retainFreedMemory():
            return "allocator: freed memory retained (both libraries)"
        return "allocator: default (retaining freed memory is not available here)"
    return "allocator: the C library's default"


def childEnv():
    """Environment of the measuring subprocesses.

    A fixed ``MALLOC_MMAP_THRESHOLD_`` makes glibc serve every large array by ``mmap`` and
    return it on free, so the resident set follows the live arrays (both libraries
    allocate through malloc on the CPU).
    """
    env = dict(os.environ)
    env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 17)
    for v in _THREAD_VARS:
        env[v] = str(THREADS)
    return env


def runChild(script, args):
    """Run ``python script args`` in a fresh process; the last stdout line, split on spaces."""
    cmd = [sys.executable, script] + [str(a) for a in args] + ["--threads", str(THREADS)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=childEnv())
    return out.stdout.strip().splitlines()[-1].split()


def machine():
    """One line describing the processor, core count, threads and library versions."""
    cpu = "unknown processor"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy
    return (f"{cpu}, {os.cpu_count()} cores, {THREADS} threads; Python {sys.version.split()[0]}, "
            f"NumPy {numpy.__version__}")
