"""How the image drivers run data-parallel over MPI: one object that wires it up."""

import numbers

import numpy

from ..objectives import startedByMPI, wrapMPI
from ..objectives.mpiLaunch import importMPI

__all__ = ["DriverMPI"]


class DriverMPI:
    """The MPI side of a training driver: objectives, output, seeds.

    Every rank runs the same driver. This object makes the objectives data-parallel
    (:func:`~meganet.wrapMPI`), lets only rank 0 print and save, gives every rank the same
    random numbers for what must agree (data split, initial weights) and each rank its own
    generator for data augmentation, so that ranks do not repeat each other's draws.
    In a process that no MPI launcher started (and with ``mpi=False``) it changes nothing:
    :meth:`wrap` returns the objective, :meth:`rng` ``numpy.random.default_rng(seed)``, and
    :meth:`augmentRng` that same generator.

    Parameters
    ----------
    mpi : None, bool or DriverMPI
        ``None``: data-parallel when started by ``mpiexec``/``srun``
        (:func:`~meganet.startedByMPI`); ``True``: use MPI (``ImportError`` saying what to
        install when mpi4py is missing; one process without a launcher); ``False``: never.
        A ``DriverMPI`` is returned as it is by :meth:`of`.

    Attributes
    ----------
    comm : mpi4py communicator or None
    rank, size : int

    Examples
    --------
    >>> import meganet as mg
    >>> par = mg.DriverMPI(False)
    >>> par.rank, par.size, par.writing
    (0, 1, True)
    """

    def __init__(self, mpi=None):
        if mpi is not None and not isinstance(mpi, (bool, numpy.bool_)):
            raise TypeError(f"DriverMPI: mpi must be None, True or False; got {mpi!r}")
        use = startedByMPI() if mpi is None else bool(mpi)
        self.comm = importMPI("DriverMPI (--mpi)").COMM_WORLD if use else None
        self.rank = 0 if self.comm is None else int(self.comm.Get_rank())
        self.size = 1 if self.comm is None else int(self.comm.Get_size())
        self.seed = None

    @classmethod
    def of(cls, mpi):
        """``mpi`` if it is a ``DriverMPI``, else ``DriverMPI(mpi)``."""
        return mpi if isinstance(mpi, cls) else cls(mpi)

    @staticmethod
    def addArgument(parser):
        """Add ``--mpi`` / ``--no-mpi`` to an ``argparse`` parser (destination ``mpi``, default None)."""
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--mpi", dest="mpi", action="store_const", const=True, default=None,
                           help="train data-parallel over MPI (default: when started by mpiexec/srun)")
        group.add_argument("--no-mpi", dest="mpi", action="store_const", const=False,
                           help="never use MPI, even when started by mpiexec/srun")
        return parser

    @property
    def writing(self):
        """True on the rank that prints and saves (rank 0)."""
        return self.rank == 0

    def print(self, *args, **kw):
        """``print`` on the writing rank only."""
        if self.writing:
            print(*args, **kw)

    def wrap(self, fctn):
        """``fctn`` made data-parallel over ``comm`` (unchanged with one process; None stays None)."""
        if self.comm is None:
            return fctn
        return wrapMPI(fctn, self.comm)

    def rng(self, rng=None):
        """The generator every rank shares (data split, initial weights, mini-batch order).

        Parameters
        ----------
        rng : None, int or numpy.random.Generator
            With one process: ``numpy.random.default_rng(rng)``. With several, rank 0 turns
            ``rng`` into an integer seed (drawn when ``rng`` is None or a Generator) and
            broadcasts it, so that all ranks draw the same numbers.

        Returns
        -------
        numpy.random.Generator
        """
        if self.size == 1:
            return numpy.random.default_rng(rng)
        seed = None
        if self.rank == 0:
            if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
                seed = int(rng)
            elif rng is None or isinstance(rng, numpy.random.Generator):
                seed = int(numpy.random.default_rng(rng).integers(2**63))
            else:
                seed = TypeError(f"DriverMPI.rng: rng must be None, an int or a numpy.random.Generator; "
                                 f"got {rng!r}")
        seed = self.comm.bcast(seed, root=0)
        if isinstance(seed, Exception):
            raise seed
        self.seed = seed
        return numpy.random.default_rng(seed)

    def augmentRng(self, shared):
        """The generator of this rank's data augmentation.

        ``shared`` (the generator :meth:`rng` returned) with one process; with several,
        ``numpy.random.default_rng([seed, rank])``: reproducible, different on every rank.
        """
        if self.size == 1:
            return shared
        if self.seed is None:
            raise RuntimeError("DriverMPI.augmentRng: call rng() first (it fixes the common seed)")
        return numpy.random.default_rng([self.seed, self.rank])

    def __repr__(self):
        return f"DriverMPI(rank={self.rank}, size={self.size})"
