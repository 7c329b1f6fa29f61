"""Atomic HDF5 checkpoints of the stochastic optimizer.

A checkpoint is one HDF5 file with

* datasets: the arrays of the optimizer state (``x``, momentum buffer ``v`` or the
  ADAM moments ``mJ``/``vJ``, ``xOld``, ``xOpt``, the current epoch's permutation ``ids``,
  the history matrix ``his``), stored as host NumPy arrays;
* the attribute ``meta``: a JSON string with the scalars (epoch, mini-batches done in
  the epoch, iteration counter, work units, learning rate, best-iterate bookkeeping),
  the column names of the history, the options of the optimizer and the state of the
  NumPy random generator (``Generator.bit_generator.state``).

Files are written atomically: the data go to a temporary file in the same directory,
which is flushed, synced to disk and then moved over the old checkpoint with
``os.replace``. An interruption at any moment therefore leaves either the old or the
new checkpoint in place, never a partial one.
"""
import json
import os
import tempfile

import numpy

__all__ = ["load_checkpoint", "writeCheckpoint", "readCheckpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "meganet.optim.SGD"
CHECKPOINT_VERSION = 1


def _jsonDefault(o):
    if isinstance(o, numpy.integer):
        return int(o)
    if isinstance(o, numpy.floating):
        return float(o)
    if isinstance(o, numpy.ndarray):
        return o.tolist()
    if isinstance(o, (numpy.bool_,)):
        return bool(o)
    raise TypeError(f"checkpoint: cannot store a value of type {type(o).__name__}")


def writeCheckpoint(path, arrays, meta):
    """Write ``arrays`` (name -> host array or None) and ``meta`` (JSON-able) atomically."""
    import h5py
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            for name, a in arrays.items():
                if a is not None:
                    f.create_dataset(name, data=numpy.asarray(a))
            f.attrs["format"] = CHECKPOINT_FORMAT
            f.attrs["version"] = CHECKPOINT_VERSION
            f.attrs["meta"] = json.dumps(meta, default=_jsonDefault)
            f.flush()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename durable (POSIX); best effort elsewhere
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def readCheckpoint(path):
    """``(arrays, meta)`` of a checkpoint written by :func:`writeCheckpoint`."""
    import h5py
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint: no file {path!r}")
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint: {path!r} is not a meganet SGD checkpoint "
                             f"(format {fmt!r})")
        version = int(f.attrs.get("version", -1))
        if version != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint: {path!r} has version {version}; this meganet reads "
                             f"version {CHECKPOINT_VERSION}")
        meta = json.loads(f.attrs["meta"])
        arrays = {name: f[name][()] for name in f.keys()}
    return arrays, meta


def load_checkpoint(path):
    """Read an SGD checkpoint into one dict (for inspection).

    Returns
    -------
    dict
        The arrays (``x``, ``xOld``, ``v`` or ``mJ``/``vJ``, ``xOpt``, ``ids``, ``his``) as
        NumPy arrays and the scalars of the ``meta`` record (``epoch``, ``k``, ``it``,
        ``workUnits``, ``names``, ``options``, ``rngState``, ...).
    """
    arrays, meta = readCheckpoint(path)
    out = dict(meta)
    out.update(arrays)
    return out
