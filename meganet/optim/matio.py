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

``load_mat(path, net=net)`` reads a results file of Meganet.m instead (variables
``theta`` and/or ``W``, or ``xc = [theta; W]`` as ``dnnObjFctn`` concatenates them, and
Meganet.m's ``His`` struct with the fields ``str`` and ``his``) and converts the weights to
meganet's layout with :func:`meganet.thetaFromMatlab` and :func:`meganet.WFromMatlab`.
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


def _readMat(path):
    from scipy.io import loadmat
    try:
        return loadmat(path, squeeze_me=False)
    except (ValueError, TypeError, OSError, NotImplementedError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"load_mat: {path!r} is not a readable MATLAB .mat file "
                         f"({type(err).__name__}: {err})") from None


def _cellStrings(c):
    return [str(numpy.asarray(x).reshape(-1)[0]) if numpy.asarray(x).size else ""
            for x in numpy.asarray(c).reshape(-1)]


def _matlabHistory(path, d):
    """Meganet.m's ``His`` struct (fields ``str``, ``his``), or save_mat's history, or None."""
    if "HisNames" in d and "HisMatrix" in d:
        return _savedHistory(d)
    if "His" not in d:
        return None
    His = numpy.asarray(d["His"])
    fields = His.dtype.names or ()
    if His.size != 1 or "str" not in fields or "his" not in fields:
        raise ValueError(f"load_mat: {path!r}: His must be Meganet.m's history struct with the "
                         f"fields 'str' and 'his'; got fields {list(fields)}")
    His = His.reshape(-1)[0]
    names = _cellStrings(His["str"])
    mat = numpy.asarray(His["his"], dtype=float)
    mat = mat.reshape(-1, len(names)) if names else numpy.zeros((0, 0))
    return History(names, mat.tolist())


def _loadMatlabResults(path, d, net, sizeFeat, addBias):
    from ..element import AbstractMeganetElement
    from ..utils.matlabLayout import WFromMatlab
    if not isinstance(net, AbstractMeganetElement):
        raise TypeError(f"load_mat: net must be a meganet element (the network the weights belong "
                        f"to); got {type(net).__name__}")
    have = sorted(k for k in d if not k.startswith("__"))
    nth = net.nThetaMatlab()
    theta_m = W_m = None
    if "theta" in d:
        theta_m = numpy.asarray(d["theta"], dtype=float).reshape(-1)
    if "W" in d:
        W_m = numpy.asarray(d["W"], dtype=float).reshape(-1)
    if theta_m is None:
        if "xc" not in d:
            raise ValueError(f"load_mat: {path!r} holds no weights of the network: expected a "
                             f"variable 'theta' or 'xc' ([theta; W]); it has {have}")
        xc = numpy.asarray(d["xc"], dtype=float).reshape(-1)
        if xc.size < nth:
            raise ValueError(f"load_mat: {path!r}: xc has {xc.size} entries, fewer than the "
                             f"{nth} weights of the network ({type(net).__name__}.nThetaMatlab())")
        theta_m = xc[:nth]
        if W_m is None and xc.size > nth:
            W_m = xc[nth:]
    theta = net.thetaFromMatlab(theta_m)
    W = None
    if W_m is not None and W_m.size:
        W = WFromMatlab(W_m, net.sizeFeatOut() if sizeFeat is None else sizeFeat, addBias)
    return theta, W, _matlabHistory(path, d)


def load_mat(path, net=None, sizeFeat=None, addBias=True):
    """Read a file written by :func:`save_mat`, or Meganet.m's results given the network.

    Parameters
    ----------
    path : str or os.PathLike
    net : AbstractMeganetElement, optional
        The network (or any element) the weights in the file belong to, built here as in
        Meganet.m. Given: the file is read as Meganet.m's results and converted.
    sizeFeat : tuple of int, optional
        Shape of one example of the loss's input (default ``net.sizeFeatOut()``); for ``W``.
    addBias : bool, default True
        The loss's ``addBias`` (Meganet.m's default); for ``W``.

    Returns
    -------
    (xc, His, xOpt)
        Without ``net``: ``xc`` and ``xOpt`` 1-D NumPy arrays (``xOpt`` None when it was not
        saved), ``His`` a :class:`History` with the original column names.
    (theta, W, His)
        With ``net``: ``theta`` (``(net.nTheta(),)``, on the network's backend and precision)
        from the variable ``theta``, or from the first ``net.nThetaMatlab()`` entries of
        ``xc``; ``W`` (``(nClass * (prod(sizeFeat) + addBias),)``, NumPy) from the variable
        ``W`` or the rest of ``xc`` (None if there is none); ``His`` a :class:`History`
        from Meganet.m's ``His`` struct (``His.str`` names, ``His.his`` values; None if
        absent).

    Raises
    ------
    ValueError
        The file is not a ``.mat`` file, lacks fields of a meganet result (the
        message names the file and the missing fields), or (with ``net``) holds no
        weights of the right length.
    """
    path = os.fspath(path)
    d = _readMat(path)
    if net is not None:
        return _loadMatlabResults(path, d, net, sizeFeat, addBias)
    missing = [k for k in _FIELDS if k not in d]
    if missing:
        raise ValueError(f"load_mat: {path!r} is not a meganet result written by save_mat: "
                         f"missing the fields {missing} (it has "
                         f"{sorted(k for k in d if not k.startswith('__'))})")
    xc = numpy.asarray(d["xc"]).reshape(-1)
    xOpt = numpy.asarray(d["xOpt"])
    xOpt = None if xOpt.size == 0 else xOpt.reshape(-1)
    return xc, _savedHistory(d), xOpt


def _savedHistory(d):
    """The History of a file written by save_mat."""
    names = _cellStrings(d["HisNames"])
    mat = numpy.asarray(d["HisMatrix"], dtype=float).reshape(-1, len(names)) if names else \
        numpy.zeros((0, 0))
    reason = d.get("HisStopReason")
    reason = str(numpy.asarray(reason).reshape(-1)[0]) if reason is not None and \
        numpy.asarray(reason).size else ""
    return History(names, mat.tolist(), stopReason=reason)
