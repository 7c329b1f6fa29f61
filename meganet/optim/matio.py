"""MATLAB ``.mat`` export of optimization results (``save_mat`` / ``load_mat``).

Layout of the file written by :func:`save_mat` (load it in MATLAB with ``load(path)``):

``xc``, ``xOpt``
    Column vectors (``n x 1`` double or single); ``xOpt`` is empty (``[]``) when None.
``His``
    A struct with one field per history column, each an ``nRows x 1`` column vector.
    Field names are the column names made valid MATLAB identifiers: every character
    other than a letter, digit or underscore becomes ``_``, a name not starting with a
    letter gets the prefix ``c_``, names are cut to 63 characters and repeats get
    ``_2``, ``_3``, ... (e.g. ``'|x-xOld|'`` -> ``c__x_xOld_``, ``'train accuracy'`` ->
    ``train_accuracy``).
``HisNames``
    A cell array (row) of the original column names, in column order.
``HisMatrix``
    The ``nRows x nColumns`` matrix of all columns (Meganet.m's ``His.his``).
``HisStopReason``
    Why the optimizer stopped (string).
"""
import os
import re

import numpy

from ..backend import toHost
from .history import History

__all__ = ["save_mat", "load_mat"]

# the variables of a file written by save_mat
_FIELDS = ("xc", "xOpt", "His", "HisNames", "HisMatrix", "HisStopReason")


def _fieldNames(names):
    out, used = [], set()
    for n in names:
        f = re.sub(r"[^0-9A-Za-z_]", "_", str(n))
        if not f or not f[0].isalpha():
            f = "c_" + f
        f = f[:63]
        base, j = f, 2
        while f in used:
            suffix = f"_{j}"
            f = base[:63 - len(suffix)] + suffix
            j += 1
        used.add(f)
        out.append(f)
    return out


def save_mat(path, xc, His, xOpt=None):
    """Save ``(xc, His, xOpt)`` of an optimizer to a MATLAB ``.mat`` file.

    Parameters
    ----------
    path : str or os.PathLike
    xc : array, shape (n,)
        NumPy or device array (copied to the host).
    His : History
    xOpt : array, shape (n,), optional

    See the module docstring for the layout.
    """
    from scipy.io import savemat
    if not isinstance(His, History):
        raise TypeError(f"save_mat: His must be a History (as returned by solve); got "
                        f"{type(His).__name__}")
    names = list(His.names)
    fields = _fieldNames(names)
    hisStruct = {f: numpy.asarray(His[n], dtype=float).reshape(-1, 1) for f, n in zip(fields, names)}
    cell = numpy.empty((1, len(names)), dtype=object)
    for j, n in enumerate(names):
        cell[0, j] = n
    data = {
        "xc": toHost(xc).reshape(-1, 1),
        "xOpt": numpy.zeros((0, 0)) if xOpt is None else toHost(xOpt).reshape(-1, 1),
        "His": hisStruct,
        "HisNames": cell,
        "HisMatrix": His.his,
        "HisStopReason": str(getattr(His, "stopReason", "") or ""),
    }
    savemat(os.fspath(path), data, oned_as="column", long_field_names=True)


def load_mat(path):
    """Read a file written by :func:`save_mat`; returns ``(xc, His, xOpt)``.

    ``xc`` and ``xOpt`` are 1-D NumPy arrays (``xOpt`` is None when it was not saved),
    ``His`` a :class:`History` with the original column names.

    Raises
    ------
    ValueError
        The file is not a ``.mat`` file, or lacks fields of a meganet result (the
        message names the file and the missing fields).
    """
    from scipy.io import loadmat
    path = os.fspath(path)
    try:
        d = loadmat(path, squeeze_me=False)
    except (ValueError, TypeError, OSError, NotImplementedError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"load_mat: {path!r} is not a readable MATLAB .mat file "
                         f"({type(err).__name__}: {err})") from None
    missing = [k for k in _FIELDS if k not in d]
    if missing:
        raise ValueError(f"load_mat: {path!r} is not a meganet result written by save_mat: "
                         f"missing the fields {missing} (it has "
                         f"{sorted(k for k in d if not k.startswith('__'))})")
    xc = numpy.asarray(d["xc"]).reshape(-1)
    xOpt = numpy.asarray(d["xOpt"])
    xOpt = None if xOpt.size == 0 else xOpt.reshape(-1)
    names = [str(numpy.asarray(c).reshape(-1)[0]) if numpy.asarray(c).size else ""
             for c in numpy.asarray(d["HisNames"]).reshape(-1)]
    mat = numpy.asarray(d["HisMatrix"], dtype=float).reshape(-1, len(names)) if names else \
        numpy.zeros((0, 0))
    reason = d.get("HisStopReason")
    reason = str(numpy.asarray(reason).reshape(-1)[0]) if reason is not None and \
        numpy.asarray(reason).size else ""
    His = History(names, mat.tolist(), stopReason=reason)
    return xc, His, xOpt
