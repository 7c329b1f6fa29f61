"""Atomic, verified HDF5 checkpoints of the stochastic optimizer.

A checkpoint is one HDF5 file with

* datasets: the arrays of the optimizer state (``x``, momentum buffer ``v`` or the
  ADAM moments ``mJ``/``vJ``, ``xOld``, ``xOpt``, the current epoch's permutation ``ids``,
  the history matrix ``his``), stored as host NumPy arrays;
* the group ``state``: the network's state outside the weights (e.g. the running
  statistics of :class:`~meganet.layers.BatchNormLayer2`), one dataset per entry of the
  network's ``getState()`` dictionary;
* the attribute ``meta``: a JSON string with the scalars (epoch, mini-batches done in
  the epoch, iteration counter, work units, learning rate, best-iterate bookkeeping),
  the column names of the history, the options of the optimizer, the state of the
  NumPy random generator (``Generator.bit_generator.state``) and the *fingerprint* of
  what produced the checkpoint (see :func:`fingerprint`);
* the attributes ``format``, ``version`` and ``sha256``: the SHA-256 hash of every
  dataset (name, dtype, shape and bytes) and of ``meta``. :func:`readCheckpoint`
  recomputes it and refuses a file whose contents do not match (a flipped bit, a
  partial copy).

Files are written atomically: the data go to a temporary file
``<checkpoint>.XXXXXXXX.tmp`` in the same directory (created with the permissions the
umask allows, as any new file), which is flushed, synced to disk and then moved over
the old checkpoint with ``os.replace``. An interruption at any moment therefore leaves
either the old or the new checkpoint in place, never a partial one. Temporary files
left behind by a process killed during a write are removed after the next successful
write.
"""
import hashlib
import json
import math
import os
import re
import secrets

import numpy

from ..backend import hasBackend, toHost

__all__ = ["load_checkpoint", "CheckpointError"]

CHECKPOINT_FORMAT = "meganet.optim.SGD"
CHECKPOINT_VERSION = 2
STATE_GROUP = "state"


class CheckpointError(ValueError):
    """A file that is not a valid (complete, uncorrupted) meganet checkpoint."""


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


def _checksum(datasets, metaText):
    """SHA-256 of the datasets (sorted by name: name, dtype, shape, bytes) and of ``meta``."""
    h = hashlib.sha256()
    for name in sorted(datasets):
        a = numpy.ascontiguousarray(datasets[name])
        h.update(name.encode())
        h.update(str(a.dtype.str).encode())
        h.update(repr(tuple(a.shape)).encode())
        h.update(a.tobytes())
    h.update(metaText.encode())
    return h.hexdigest()


def _tmpPattern(path):
    base = os.path.basename(path)
    return re.compile(re.escape(base) + r"\.[A-Za-z0-9_]{8}\.tmp\Z")


def _newTmpFile(path):
    """Create ``<path>.XXXXXXXX.tmp`` exclusively, with mode ``0o666`` minus the umask."""
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(directory, f"{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"checkpoint: could not create a temporary file next to {path!r}")


def removeStaleTmpFiles(path):
    """Remove ``<path>.XXXXXXXX.tmp`` files left by writes that were killed."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _tmpPattern(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if pattern.match(name):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass


def checkWritable(path):
    """Raise an ``OSError`` naming ``path`` if a checkpoint cannot be written there.

    Creates the directory if needed and writes (and removes) a temporary file in it, as
    :func:`writeCheckpoint` does; an existing checkpoint must be replaceable.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path!r} is a directory")
        os.makedirs(directory, exist_ok=True)
        tmp = _newTmpFile(path)
        os.remove(tmp)
    except OSError as err:
        msg = f"cannot write the checkpoint {path!r} ({err.strerror or err}); choose a " \
              "writable location"
        try:
            new = type(err)(msg)          # keep the kind: PermissionError, NotADirectoryError
        except TypeError:
            new = OSError(msg)
        raise new from err


def writeCheckpoint(path, arrays, meta, state=None):
    """Write ``arrays`` and ``state`` (name -> host array or None) and ``meta`` atomically."""
    import h5py
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    datasets = {name: numpy.asarray(a) for name, a in arrays.items() if a is not None}
    for name, a in (state or {}).items():
        datasets[f"{STATE_GROUP}/{name}"] = numpy.asarray(a)
    metaText = json.dumps(meta, default=_jsonDefault)
    tmp = _newTmpFile(path)
    try:
        with h5py.File(tmp, "w") as f:
            f.create_group(STATE_GROUP)
            for name, a in datasets.items():
                f.create_dataset(name, data=a)
            f.attrs["format"] = CHECKPOINT_FORMAT
            f.attrs["version"] = CHECKPOINT_VERSION
            f.attrs["meta"] = metaText
            f.attrs["sha256"] = _checksum(datasets, metaText)
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
    removeStaleTmpFiles(path)


def _attrText(v):
    return v.decode() if isinstance(v, bytes) else v


def readCheckpoint(path):
    """``(arrays, state, meta)`` of a checkpoint written by :func:`writeCheckpoint`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CheckpointError
        The file is not an HDF5 file, not a meganet checkpoint, of another version, or
        its contents do not match the stored checksum (corrupted).
    """
    import h5py
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint: no file {path!r}")

    def invalid(why):
        return CheckpointError(f"checkpoint: {path!r} is not a valid meganet checkpoint ({why})")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise invalid(f"it cannot be read as an HDF5 file: {err}") from None
    try:
        with f:
            fmt = _attrText(f.attrs.get("format"))
            if fmt != CHECKPOINT_FORMAT:
                raise invalid(f"format mark {fmt!r}, expected {CHECKPOINT_FORMAT!r}")
            version = int(f.attrs.get("version", -1))
            if version != CHECKPOINT_VERSION:
                raise invalid(f"version {version}; this meganet reads version "
                              f"{CHECKPOINT_VERSION}")
            metaText = _attrText(f.attrs.get("meta"))
            stored = _attrText(f.attrs.get("sha256"))
            if not isinstance(metaText, str) or not isinstance(stored, str):
                raise invalid("the meta record or the checksum is missing")
            datasets = {}
            f.visititems(lambda name, obj: datasets.__setitem__(name, obj[()])
                         if isinstance(obj, h5py.Dataset) else None)
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise invalid(f"it cannot be read: {type(err).__name__}: {err}") from None
    if _checksum(datasets, metaText) != stored:
        raise CheckpointError(f"checkpoint: {path!r} is corrupted: its contents do not match "
                              "the checksum stored when it was written; it is not a valid "
                              "meganet checkpoint (use an older copy or start again)")
    try:
        meta = json.loads(metaText)
    except ValueError as err:
        raise invalid(f"the meta record is not valid JSON: {err}") from None
    if not isinstance(meta, dict):
        raise invalid("the meta record is not a dictionary")
    prefix = STATE_GROUP + "/"
    arrays = {k: v for k, v in datasets.items() if not k.startswith(prefix)}
    state = {k[len(prefix):]: v for k, v in datasets.items() if k.startswith(prefix)}
    return arrays, state, meta


def load_checkpoint(path):
    """Read an SGD checkpoint into one dict (for inspection).

    The checksum is verified (see :mod:`meganet.optim.checkpoint`).

    Returns
    -------
    dict
        The arrays (``x``, ``xOld``, ``v`` or ``mJ``/``vJ``, ``xOpt``, ``ids``, ``his``) as
        NumPy arrays, the network state under ``'state'`` (a dict name -> array) and the
        scalars of the ``meta`` record (``epoch``, ``k``, ``it``, ``workUnits``, ``names``,
        ``options``, ``rngState``, ``fingerprint``, ...).

    Raises
    ------
    FileNotFoundError, CheckpointError
    """
    arrays, state, meta = readCheckpoint(path)
    out = dict(meta)
    out.update(arrays)
    out["state"] = state
    return out


# ------------------------------------------------------------------ fingerprints
# element attributes that choose how (not what) is computed: they may change on resume
_HOW_NOT_WHAT = ("storeStates", "storeInterm", "algorithm")


def _describeValue(v):
    """A JSON-able description of an attribute value, or None to leave it out."""
    if v is None or isinstance(v, (bool, numpy.bool_, str)):
        return v if not isinstance(v, numpy.bool_) else bool(v)
    if isinstance(v, (int, numpy.integer)):
        return int(v)
    if isinstance(v, (float, numpy.floating)):
        return float(v)
    if isinstance(v, (tuple, list)) and all(isinstance(w, (int, float, str, bool, numpy.integer,
                                                           numpy.floating)) for w in v):
        return [_describeValue(w) for w in v]
    if isinstance(v, numpy.ndarray) or hasattr(v, "__cuda_array_interface__") or (
            hasattr(v, "shape") and hasattr(v, "dtype") and not hasBackend(v)):
        return f"array{tuple(int(s) for s in v.shape)}"
    if callable(v) and hasattr(v, "__name__") and not hasBackend(v):
        return f"function {getattr(v, '__module__', '')}.{v.__name__}"
    return None


def describe(obj, prefix="", out=None, seen=None):
    """Flat description ``path -> value`` of an element (or operator) tree.

    Records every element's and operator's class, its sizes (``sizeFeatIn``,
    ``sizeFeatOut``, ``nTheta`` when it has them) and its public scalar options (e.g.
    ``nt``, ``h``, ``eps``, ``momentum``, activation functions by name, shapes of
    arrays), recursively for the children (``blocks[0].layer.K.sK``). State that
    changes during training (``getState()``) and the backend are not part of it.
    """
    out = {} if out is None else out
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return out
    seen.add(id(obj))
    here = prefix or "net"
    out[here] = type(obj).__name__
    for m in ("sizeFeatIn", "sizeFeatOut", "nTheta"):
        fn = getattr(obj, m, None)
        if callable(fn):
            try:
                val = fn()
            except Exception:  # noqa: BLE001 - a size the object cannot tell is left out
                continue
            out[f"{here}.{m}()"] = _describeValue(tuple(val) if isinstance(val, (list, tuple))
                                                  else val)
    stateNames = set(getattr(obj, "stateAttributes", ()))
    for name, val in vars(obj).items():
        if name.startswith("_") or name in stateNames or name in _HOW_NOT_WHAT:
            continue
        key = f"{prefix}.{name}" if prefix else name
        items = val if isinstance(val, (list, tuple)) and any(hasBackend(v) for v in val) \
            else None
        if items is not None:
            out[f"{key}.len"] = len(items)
            for i, v in enumerate(items):
                if hasBackend(v):
                    describe(v, f"{key}[{i}]", out, seen)
                else:
                    out[f"{key}[{i}]"] = _describeValue(v)
        elif hasBackend(val):
            describe(val, key, out, seen)
        else:
            d = _describeValue(val)
            if d is not None or val is None:
                out[key] = d
    return out


def fingerprintDiff(stored, current, tol=1e-9):
    """Human-readable differences between two flat fingerprints (empty list: equal).

    Numbers are compared with the relative tolerance ``tol`` (a network built in single
    precision may store its step size with another rounding).
    """
    diffs = []
    for key in list(stored) + [k for k in current if k not in stored]:
        a, b = stored.get(key, "<missing>"), current.get(key, "<missing>")
        if not _same(a, b, tol):
            diffs.append(f"{key}: {a!r} in the checkpoint, {b!r} now")
    return diffs


def _same(a, b, tol):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, tol) for x, y in zip(a, b))
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or abs(a - b) <= tol * max(abs(a), abs(b))
    return a == b


def toHostState(state):
    """A ``getState()`` dictionary with host NumPy arrays (for writing)."""
    return {k: toHost(v) for k, v in state.items()}
