"""Results of a training run (weights, history, settings, accuracy) in HDF5 and ``.mat`` files.

HDF5 layout written by :func:`saveResults` (read back by :func:`loadResults`):

``/xc``, ``/xOpt``
    Final weights and the weights the optimizer selected (``xOpt`` absent when not given).
``/history``
    The ``(nRows, nColumns)`` history matrix; attribute ``names`` (JSON list of the column
    names) and ``stopReason``.
``/arrays/<name>``
    Further arrays (predictions, labels, indices, ...).
``/normStates/<k>/runningMean``, ``.../runningVar``
    The running statistics of the network's normalization layers (``net`` given), the
    ``k``-th layer found by :func:`getNormStates`.
Root attributes
    ``settings`` (JSON object of the run's settings) and ``accuracy`` (JSON object, e.g.
    ``{"test": 91.2}``).

The ``.mat`` file (``mat=True``, same name with the suffix ``.mat``) holds ``xc``, ``xOpt``,
``HisMatrix``, ``HisNames``, the arrays under their names, ``settings`` and ``accuracy``
as structs.
"""

import json
import os

import numpy

from ..backend import toHost
from ..optim import History

__all__ = ["saveResults", "loadResults", "getNormStates", "setNormStates"]


def _stateful(el, seen):
    """Elements with running statistics inside ``el``, depth first, each once."""
    if id(el) in seen:
        return []
    seen.add(id(el))
    if hasattr(el, "runningMean") and hasattr(el, "runningVar"):
        return [el]
    out = []
    for v in vars(el).values():
        items = v if isinstance(v, (list, tuple)) else [v]
        for it in items:
            if hasattr(it, "forwardProp") and hasattr(it, "nTheta"):
                out += _stateful(it, seen)
    return out


def getNormStates(net):
    """Running statistics of the normalization layers in ``net`` (not part of ``theta``).

    Layers such as :class:`~meganet.layers.BatchNormLayer2` keep running means and
    variances that training updates and evaluation uses; to evaluate saved weights later
    they must be saved too.

    Returns
    -------
    states : list of (ndarray, ndarray)
        ``(runningMean, runningVar)`` per layer (host copies), in a fixed depth-first order.
    """
    return [
        (numpy.array(toHost(el.runningMean)), numpy.array(toHost(el.runningVar)))
        for el in _stateful(net, set())
    ]


def setNormStates(net, states):
    """Restore running statistics saved by :func:`getNormStates` into a network of the same structure."""
    layers = _stateful(net, set())
    if len(layers) != len(states):
        raise ValueError(
            f"setNormStates: the network has {len(layers)} layers with running statistics; "
            f"got {len(states)} states"
        )
    for el, (m, v) in zip(layers, states):
        if numpy.shape(m) != numpy.shape(toHost(el.runningMean)):
            raise ValueError(
                f"setNormStates: running mean of shape {numpy.shape(m)} for a layer with "
                f"{numpy.shape(toHost(el.runningMean))}"
            )
        el.runningMean = el.xp.asarray(m, dtype=el.dtype)
        el.runningVar = el.xp.asarray(v, dtype=el.dtype)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (numpy.integer,)):
        return int(v)
    if isinstance(v, (numpy.floating,)):
        return float(v)
    if isinstance(v, numpy.ndarray):
        return v.tolist()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return getattr(v, "__name__", None) or repr(v)


def _matStruct(d):
    return {k.replace(" ", "_"): ("" if v is None else v) for k, v in _jsonable(d).items()}


def saveResults(path, xc, His, xOpt=None, settings=None, accuracy=None, arrays=None, mat=False, net=None):
    """Write a training run's results to HDF5 (and to ``.mat`` on request).

    Parameters
    ----------
    path : str or os.PathLike
        HDF5 file (written atomically: to a temporary name, then renamed).
    xc : array, shape (n,)
        Final weights (NumPy or device array).
    His : History
        The optimizer's history.
    xOpt : array, shape (n,), optional
    settings : dict, optional
        JSON-serialisable settings (other objects are stored by name or ``repr``).
    accuracy : dict, optional
        E.g. ``{"test": 91.2, "train": 95.0}`` (percent).
    arrays : dict of str -> array, optional
    mat : bool
        Also write ``<path without suffix>.mat`` for MATLAB.
    net : element, optional
        Save the running statistics of its normalization layers (:func:`getNormStates`).

    Returns
    -------
    files : list of str
        The files written.
    """
    import h5py

    if not isinstance(His, History):
        raise TypeError(
            f"saveResults: His must be a History (as returned by solve); got {type(His).__name__}"
        )
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    arrays = {k: toHost(v) for k, v in (arrays or {}).items()}
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("xc", data=toHost(xc))
        if xOpt is not None:
            f.create_dataset("xOpt", data=toHost(xOpt))
        h = f.create_dataset("history", data=His.his)
        h.attrs["names"] = json.dumps(list(His.names))
        h.attrs["stopReason"] = str(getattr(His, "stopReason", "") or "")
        g = f.create_group("arrays")
        for k, v in arrays.items():
            g.create_dataset(k, data=v)
        if net is not None:
            ns = f.create_group("normStates")
            for k, (m, v) in enumerate(getNormStates(net)):
                ns.create_dataset(f"{k}/runningMean", data=m)
                ns.create_dataset(f"{k}/runningVar", data=v)
        f.attrs["settings"] = json.dumps(_jsonable(settings or {}))
        f.attrs["accuracy"] = json.dumps(_jsonable(accuracy or {}))
    os.replace(tmp, path)
    files = [path]
    if mat:
        from scipy.io import savemat

        names = numpy.empty((1, len(His.names)), dtype=object)
        names[0, :] = list(His.names)
        data = {"xc": toHost(xc).reshape(-1, 1), "xOpt": numpy.zeros((0,
                0)) if xOpt is None else toHost(xOpt).reshape(-1, 1), "HisMatrix": His.his, "HisNames": names,
                "settings": _matStruct(settings or {}), "accuracy": _matStruct(accuracy or {})}
        data.update(arrays)
        matPath = os.path.splitext(path)[0] + ".mat"
        savemat(matPath, data, oned_as="column")
        files.append(matPath)
    return files


def loadResults(path):
    """Read a file written by :func:`saveResults`.

    Returns
    -------
    res : dict
        ``xc``, ``xOpt`` (or None), ``His`` (:class:`~meganet.optim.History`), ``settings``,
        ``accuracy``, ``arrays`` (dict) and ``normStates`` (list for :func:`setNormStates`).
    """
    import h5py

    path = os.fspath(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise OSError(f"loadResults: cannot read {path!r} as an HDF5 results file: {err}") from err
    with f:
        for key in ("xc", "history"):
            if key not in f:
                raise ValueError(
                    f"loadResults: {path!r} has no {key!r} dataset; it was not written by saveResults"
                )
        h = f["history"]
        His = History(json.loads(h.attrs["names"]), h[()].tolist(), stopReason=h.attrs["stopReason"])
        return {
            "xc": f["xc"][()],
            "xOpt": f["xOpt"][()] if "xOpt" in f else None,
            "His": His,
            "settings": json.loads(f.attrs["settings"]),
            "accuracy": json.loads(f.attrs["accuracy"]),
            "arrays": {k: v[()] for k, v in f["arrays"].items()},
            "normStates": (
                [
                    (f[f"normStates/{k}/runningMean"][()], f[f"normStates/{k}/runningVar"][()])
                    for k in range(len(f["normStates"]))
                ]
                if "normStates" in f
                else []
            ),
        }
