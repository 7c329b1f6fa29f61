"""``MPIObjFctn``: data-parallel evaluation of an objective over MPI processes (mpi4py).

Every process (rank) holds the same objective ``fctn`` (the full training data, as arrays
or memory-mapped files) and runs the same optimizer. Each call ``fctn(x, idx)`` with
``m`` selected examples is split into ``P`` contiguous shares of ``idx`` (rank ``r`` gets
``idx[floor(r m / P):floor((r + 1) m / P)]``, ``m_r`` examples); every rank evaluates its
share and the results are combined with ``Allreduce`` weighted by ``w_r = m_r / m``::

    Jc = sum_r w_r Jc_r        dJ = sum_r w_r dJ_r        H v = sum_r w_r H_r v
    para['hisVals'] = sum_r w_r hisVals_r      para['F'] = sum_r w_r F_r
    para['lossPara'] = sum_r lossPara_r                   (sums over examples)

Objectives that are means over examples plus terms that do not depend on the examples
(regularizers) are reproduced exactly by these weighted sums (the weights add up to 1),
so every rank sees the value, gradient and Gauss-Newton products of the whole selection
and the optimizers stay in lockstep on all ranks. Layers with batch statistics
(batch normalization in training mode) compute them per rank's share, as
:class:`~meganet.objectives.DnnBatchObjFctn` does per chunk.

See ``docs/distributed.md`` for how to start runs (``mpiexec``, ``srun``), what is
communicated and the measured scaling.
"""
import time
import zlib

import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost
from ..linops.linearOperator import LinearOperator
from ..optim.optimizer import Objective, applyOperator, applyPreconditioner, hostFloat
from .dnnVarProObjFctn import DnnVarProObjFctn
from .mpiLaunch import importMPI, startedByMPI

__all__ = ["MPIObjFctn", "wrapMPI", "isWritingRank"]


class MPIObjFctn:
    """Data-parallel objective: ``fctn`` evaluated on each rank's share of the examples.

    Called like ``fctn``: ``Jc, para, dJ, H, PC = obj(x, idx=None, doDerivative=True)``;
    every rank must make the same calls with the same ``x`` and ``idx`` (it does when all
    ranks run the same optimizer from the same starting point). The value, gradient,
    history values and Hessian products are those of the whole selection, identical on
    every rank (see the module docstring for the formulas).

    Parameters
    ----------
    fctn : callable
        An objective following the protocol of :mod:`meganet.optim` (e.g.
        :class:`~meganet.objectives.DnnBatchObjFctn`, :class:`~meganet.objectives.DnnObjFctn`,
        :class:`~meganet.objectives.ClassObjFctn`) that reports its number of examples
        (``nData()`` or ``Y``); every rank holds the same examples (arrays, or memory-mapped
        files opened with ``numpy.load(path, mmap_mode='r')``, of which each rank then
        reads only the examples it evaluates). :class:`DnnVarProObjFctn` is not supported
        (its inner solve for ``W`` couples all examples).
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.
    cudaAware : bool, optional
        Pass device (CuPy) arrays to MPI directly (needs a CUDA-aware MPI build); when
        False they are copied to the host for the reduction. Default: what
        ``MPI.Query_cuda_support()`` reports (False where it cannot tell).

    Attributes
    ----------
    rank, size : int
        This process's rank and the number of processes.
    nBytes : int
        Bytes this rank has passed to ``Allreduce`` so far (gradients, Hessian products,
        scalars); ``nReductions`` counts the calls and ``commTime`` is the time (seconds)
        spent in them, including the wait for the slowest rank.

    Notes
    -----
    * ``H`` is returned as a :class:`~meganet.linops.LinearOperator` whose every product
      is a collective call (all ranks apply it together, as optimizers in lockstep do);
      ``PC`` (when not None) likewise applies ``sum_r w_r PC_r``.
    * Only rank 0 writes: optimizers ask :meth:`isWritingRank` before printing, drawing
      progress bars and writing checkpoints, and pass random draws (SGD's permutations)
      through :meth:`bcastFromWriter`.
    * Other attributes (``net``, ``split``, ``getLabels``, ...) are those of ``fctn``, which
      act on this rank alone.
    * An exception raised by ``fctn`` on one rank is raised on all of them (the others
      raise ``RuntimeError`` naming the failed ranks), so no rank is left waiting. Calls
      whose ``x``, ``idx`` or ``doDerivative`` differ between ranks (e.g. ranks that drew
      different starting points) raise ``RuntimeError`` on every rank: a checksum of the
      arguments (of a strided sample of ``x``) is exchanged with that status (one small
      ``allgather`` per call).
    """

    def __init__(self, fctn, comm=None, cudaAware=None):
        if isinstance(fctn, MPIObjFctn):
            raise TypeError("MPIObjFctn: fctn is already data-parallel (an MPIObjFctn); "
                            "wrap the plain objective once")
        if isinstance(fctn, DnnVarProObjFctn):
            raise TypeError("MPIObjFctn: DnnVarProObjFctn is not supported (its inner solve "
                            "for the classifier weights couples all examples); use "
                            "DnnBatchObjFctn or DnnObjFctn")
        self.fctn = fctn
        self._obj = Objective(fctn, "MPIObjFctn")
        self._nData = self._obj.nData()
        MPI = importMPI()
        if comm is None:
            comm = MPI.COMM_WORLD
        missing = [m for m in ("Get_rank", "Get_size", "Allreduce", "allgather", "bcast")
                   if not callable(getattr(comm, m, None))]
        if missing:
            raise TypeError(f"MPIObjFctn: comm must be an mpi4py communicator (e.g. "
                            f"MPI.COMM_WORLD); got {type(comm).__name__} without "
                            f"{', '.join(missing)}")
        self.comm = comm
        self._op = MPI.SUM
        self.rank = int(comm.Get_rank())
        self.size = int(comm.Get_size())
        if cudaAware is None:
            query = getattr(MPI, "Query_cuda_support", None)
            try:
                cudaAware = bool(query()) if query is not None else False
            except Exception:  # an MPI without the extension
                cudaAware = False
        if not isinstance(cudaAware, (bool, numpy.bool_)):
            raise TypeError(f"MPIObjFctn: cudaAware must be True, False or None; got {cudaAware!r}")
        self.cudaAware = bool(cudaAware)
        self.nBytes = 0
        self.nReductions = 0
        self.commTime = 0.0

    # ------------------------------------------------------------------ protocol helpers
    def nData(self):
        """Number of examples (of the whole data set, the same on every rank)."""
        return self._nData

    def isWritingRank(self):
        """True on rank 0, the one process that writes files and prints."""
        return self.rank == 0

    def bcastFromWriter(self, value):
        """``value`` of rank 0, on every rank (collective)."""
        return self.comm.bcast(value, root=0)

    def __getattr__(self, name):
        if name.startswith("_") or name == "fctn":
            raise AttributeError(name)
        return getattr(self.fctn, name)

    def __repr__(self):
        return (f"MPIObjFctn({type(self.fctn).__name__}, rank={self.rank}, size={self.size}, "
                f"nData={self._nData})")

    # ------------------------------------------------------------------ reductions
    def allreduce(self, a):
        """Sum of the array ``a`` over all ranks (host or device array; collective)."""
        if isDeviceArray(a):
            xp = getArrayModuleOf(a)
            if self.cudaAware:
                stream = getattr(getattr(xp, "cuda", None), "get_current_stream", None)
                if stream is not None:
                    stream().synchronize()
                a = xp.ascontiguousarray(a)
                out = xp.empty_like(a)
                self._reduce(a, out)
                return out
            return xp.asarray(self.allreduce(toHost(a)))
        a = numpy.ascontiguousarray(a)
        out = numpy.empty_like(a)
        self._reduce(a, out)
        return out

    def _reduce(self, a, out):
        t = time.perf_counter()
        self.comm.Allreduce(a, out, op=self._op)
        self.commTime += time.perf_counter() - t
        self.nBytes += int(a.nbytes)
        self.nReductions += 1

    # ------------------------------------------------------------------ shares
    def share(self, idx=None):
        """``(mine, m)``: this rank's example indices of the selection ``idx`` and its size.

        ``idx`` as the objective takes it (None: all examples); validated here, identically
        on every rank.
        """
        n = self._nData
        if idx is None:
            ids = numpy.arange(n)
        else:
            ids = numpy.asarray(toHost(idx)).reshape(-1)
            if ids.size == 0:
                raise ValueError("MPIObjFctn: idx selects no examples")
            if ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= n:
                raise ValueError(f"MPIObjFctn: idx must hold integer indices in [0, {n}); got "
                                 f"dtype {ids.dtype}, range [{ids.min()}, {ids.max()}]")
        m = ids.size
        lo, hi = (self.rank * m) // self.size, ((self.rank + 1) * m) // self.size
        return ids[lo:hi], m

    # ------------------------------------------------------------------ evaluation
    def __call__(self, x, idx=None, doDerivative=True):
        """``(Jc, para, dJ, H, PC)`` of the whole selection ``idx`` at ``x`` (collective).

        Parameters
        ----------
        x : array, shape (n,)
            The same on every rank.
        idx : 1-D integer array or None
            Example indices (the same on every rank); None selects all examples.
        doDerivative : bool, default True
            False: only ``Jc`` and ``para`` (``dJ``, ``H``, ``PC`` are None).
        """
        mine, m = self.share(idx)
        w = mine.size / m
        if mine.size == 0:           # fewer examples than ranks: contribute nothing
            mine = numpy.asarray(toHost(idx)).reshape(-1)[:1] if idx is not None else \
                numpy.arange(1)
        sub = None if (idx is None and self.size == 1) else mine
        err = None
        try:
            Jc, para, dJ, H, PC = self._obj(x, sub, doDerivative=doDerivative)
            names, vals = self._obj.hisColumns(para)
        except Exception as e:  # reported to every rank below, then re-raised here
            err = e
        status = self.comm.allgather((err is not None,
                                      fingerprint(x, idx, doDerivative) + (self._nData,)))
        if err is not None:
            raise err
        if any(f for f, _ in status):
            ranks = [r for r, (f, _) in enumerate(status) if f]
            raise RuntimeError(f"MPIObjFctn: the objective raised an exception on rank(s) "
                               f"{ranks}; see their error output")
        if any(p != status[0][1] for _, p in status):
            ranks = [r for r, (_, p) in enumerate(status) if p != status[0][1]]
            raise RuntimeError(f"MPIObjFctn: rank(s) {ranks} called the objective with another "
                               "x, idx or doDerivative than rank 0, or hold another number of "
                               "examples; all ranks must hold the same data, start from the "
                               "same x0 and run the same optimizer (lockstep)")
        para = dict(para) if isinstance(para, dict) else {}
        lossPara = para.get("lossPara")
        hasF = "F" in para and numpy.ndim(toHost(para["F"])) == 0
        scalars = [w * hostFloat(Jc), w * hostFloat(para["F"]) if hasF else 0.0]
        scalars += [w * v for v in vals]
        nScal = len(scalars)
        if lossPara is not None:        # sums over the share (none on an empty share)
            scalars += [float(v) * (w > 0) for v in numpy.ravel(toHost(lossPara))]
        tot = self.allreduce(numpy.asarray(scalars, dtype=numpy.float64))
        Jc = float(tot[0])
        if hasF:
            para["F"] = float(tot[1])
        if names:
            para["hisNames"] = list(names)
            para["hisVals"] = [float(v) for v in tot[2:nScal]]
        if lossPara is not None:
            host = tot[nScal:].reshape(numpy.shape(toHost(lossPara)))
            para["lossPara"] = getArrayModuleOf(lossPara).asarray(host)
        if not doDerivative:
            return Jc, para, None, None, None
        dJ = self.allreduce(w * dJ)
        H = None if H is None else self._operator(H, w, x, applyOperator)
        PC = None if PC is None else self._operator(PC, w, x, applyPreconditioner)
        return Jc, para, dJ, H, PC

    def _operator(self, A, w, x, apply):
        """``v -> sum_r w_r A_r v`` as a LinearOperator (symmetric, collective products)."""
        def Amv(v):
            return self.allreduce(w * apply(A, v))
        return LinearOperator(x.shape, x.shape, Amv, Amv, useGPU=isDeviceArray(x),
                              precision="single" if x.dtype == numpy.float32 else "double")


# entries of x in the lockstep checksum (a strided sample: cheap for any size of x)
_SAMPLE = 4096


def fingerprint(x, idx, doDerivative):
    """A small hashable summary of one call's arguments (equal on ranks in lockstep).

    CRC-32 of at most 4096 evenly strided entries of ``x`` (copied to the host) and of
    ``idx``, with the shape of ``x`` and ``doDerivative``.
    """
    sample = toHost(x[::max(1, x.size // _SAMPLE)])
    fx = zlib.crc32(numpy.ascontiguousarray(sample).tobytes())
    fi = None if idx is None else zlib.crc32(numpy.ascontiguousarray(toHost(idx)).tobytes())
    return (tuple(x.shape), fx, fi, bool(doDerivative))


def wrapMPI(fctn, comm=None, **kw):
    """``fctn`` made data-parallel when the run has more than one MPI process.

    The one call a driver needs: ``fctn = mg.wrapMPI(fctn)`` (and ``fval = mg.wrapMPI(fval)``).
    Without an MPI launcher (``startedByMPI()`` False) and with no ``comm`` given, or with a
    communicator of one process, ``fctn`` is returned unchanged (``None`` stays ``None``)
    and mpi4py is not imported. Started by ``mpiexec``/``srun`` without mpi4py installed,
    it raises ``ImportError`` saying what to install (instead of running independent
    copies). Keywords go to :class:`MPIObjFctn`.
    """
    if fctn is None:
        return None
    if comm is None:
        if not startedByMPI():
            return fctn
        comm = importMPI("wrapMPI").COMM_WORLD
    if int(comm.Get_size()) == 1:
        return fctn
    return MPIObjFctn(fctn, comm, **kw)


def isWritingRank(fctn=None):
    """True unless ``fctn`` is data-parallel and this process is not rank 0.

    For drivers: print, plot and save results only where ``mg.isWritingRank(fctn)``.
    """
    f = getattr(fctn, "isWritingRank", None)
    return True if f is None else bool(f())
