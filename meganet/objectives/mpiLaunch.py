"""Starting and recognising MPI runs: ``startedByMPI``, ``mpiexecCommand``, ``runMPI``."""
import os
import shutil
import signal
import subprocess
import sys

import numpy

__all__ = ["startedByMPI", "mpiexecCommand", "runMPI"]

INSTALL_HINT = ("install mpi4py and an MPI library: pip install 'meganet[mpi]' (mpi4py with "
                "the MPICH wheel), or, on a cluster, pip install mpi4py built against the "
                "cluster's MPI")

# environment variables that MPI launchers set in the processes they start
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                       "MV2_COMM_WORLD_SIZE")


def importMPI(owner="MPIObjFctn"):
    """``mpi4py.MPI``, or an ``ImportError`` saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(f"{owner}: data-parallel training needs mpi4py, which is not "
                          f"available ({err}); {INSTALL_HINT}") from err
    return MPI


def startedByMPI():
    """True when this process was started by an MPI launcher (``mpiexec``, ``srun``).

    Decided from the environment variables the launchers set (``PMI_SIZE``, ``PMI_RANK``,
    ``OMPI_COMM_WORLD_SIZE``, ``PMIX_RANK``, ``MV2_COMM_WORLD_SIZE``); MPI itself is not
    initialised.
    """
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


def mpiexecCommand(nProcs, python=None):
    """The command that starts ``nProcs`` processes on this machine: ``[mpiexec, ..., python]``.

    Uses the ``mpiexec`` beside ``python`` (default: this interpreter; where the ``mpich``
    wheel of the ``mpi`` extra puts it, e.g. ``.venv/bin``), else the first one on ``PATH``.
    MPICH's launcher (Hydra) gets ``-launcher fork -hosts localhost -localhost localhost``
    (local processes, started without ssh, reaching the launcher through the loopback
    address); Open MPI's gets ``--oversubscribe`` and, for the root user,
    ``--allow-run-as-root``. Append the script and its arguments:
    ``subprocess.run(mg.mpiexecCommand(2) + ["train.py"])``, or use :func:`runMPI`.

    Raises ``FileNotFoundError`` when no ``mpiexec`` is found.
    """
    if not isinstance(nProcs, (int, numpy.integer)) or isinstance(nProcs, bool) or nProcs < 1:
        raise ValueError(f"mpiexecCommand: nProcs must be a positive integer; got {nProcs!r}")
    python = sys.executable if python is None else os.fspath(python)
    exe = os.path.join(os.path.dirname(python), "mpiexec")
    if not os.access(exe, os.X_OK):
        exe = shutil.which("mpiexec")
    if exe is None:
        raise FileNotFoundError(f"mpiexecCommand: no mpiexec beside {python} or on PATH; "
                                f"{INSTALL_HINT}")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    text = version.stdout + version.stderr
    if "Open MPI" in text or "OpenRTE" in text:
        flags = ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--allow-run-as-root")
    elif "HYDRA" in text:
        flags = ["-launcher", "fork", "-hosts", "localhost", "-localhost", "localhost"]
    else:
        flags = []
    return [exe] + flags + ["-n", str(int(nProcs)), python]


# environment of local runs: one BLAS/OpenMP thread per rank, shared-memory transports only
_LOCAL_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "UCX_TLS": "self,sm", "FI_PROVIDER": "shm"}


def runMPI(nProcs, args, timeout=None, env=None, python=None):
    """Run ``python ARGS`` on ``nProcs`` local processes; return the ``CompletedProcess``.

    The processes get one BLAS/OpenMP thread each and MPI's shared-memory transports only
    (``UCX_TLS=self,sm``, ``FI_PROVIDER=shm``: nothing leaves the machine); ``env`` adds to
    or overrides that environment. Output is captured as text, standard input is empty.
    On ``timeout`` (seconds) the launcher and every process it started are killed and
    ``subprocess.TimeoutExpired`` is raised.

    Parameters
    ----------
    nProcs : int
    args : list of str
        Script (or ``-m module``) and its arguments.
    timeout : float, optional
    env : dict, optional
    python : str, optional
        Interpreter (default: this one); its ``mpiexec`` is used (:func:`mpiexecCommand`).
    """
    if isinstance(args, (str, bytes)) or not all(isinstance(a, (str, os.PathLike)) for a in args):
        raise TypeError(f"runMPI: args must be a list of strings; got {args!r}")
    cmd = mpiexecCommand(nProcs, python) + [os.fspath(a) for a in args]
    full = dict(os.environ)
    full.update(_LOCAL_ENV)
    full.update(env or {})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=full,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)      # the launcher's whole process group
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(cmd, timeout, out, err) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
