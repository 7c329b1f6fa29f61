"""What the image-data readers share: reading files with clear errors, class-balanced
selection, and turning uint8 images and integer labels into the arrays the readers return."""
import gzip
import io
import pickle
import zlib

import numpy

from ..backend import asArray, checkPrecision, checkUseGPU, getDtype
from .dataPaths import DATASETS


#: Shared pieces of the readers' docstrings (filled in by :func:`readerDoc`).
_DOC_PIECES = {
    "subset": ("Fewer than available gives a class-balanced random subset (every class\n"
               "        shuffled, the classes taken in turns, as Meganet.m's setupSTL); more than\n"
               "        available is an error; ``0`` returns empty arrays without reading that part."),
    "options": ("data_dir : str or os.PathLike, optional\n"
                "        Look only here: the folder with the files, or a parent of it with one of the\n"
                "        usual sub-folders.\n"
                "    precision : {'single', 'double'}\n"
                "    useGPU : bool\n"
                "        Return device arrays (the one-hot labels too).\n"
                "    onehot : bool\n"
                "        One-hot labels ``(N, nClasses)`` in ``precision``; else int64 class indices.\n"
                "    rng : seed or numpy.random.Generator, optional\n"
                "        Draws the subsets.\n"
                "    embedded : bool\n"
                "        Accept the subset embedded in the repository's ``data/`` (only Fashion-MNIST has\n"
                "        one); ``False`` insists on a full copy. Every reader takes it, so callers can\n"
                "        pass it whatever the data set."),
    "search": ("the ``data_dir`` argument (only there, when given), the ``MEGANET_DATA``\n"
               "    environment variable, the repository's ``data/`` folder and ``/usr/share/datasets``\n"
               "    (where Debian's dataset packages install their files), each directly or in a usual\n"
               "    sub-folder; :func:`meganet.findDataset` tells which folder is read"),
    "raises": ("Raises\n"
               "    ------\n"
               "    FileNotFoundError\n"
               "        No folder holds the files; the message lists where it looked and how to\n"
               "        obtain them.\n"
               "    DataFileError\n"
               "        A file is truncated, corrupt or not in the expected layout (a ``ValueError``;\n"
               "        the message names the file).\n"
               "    ValueError\n"
               "        More examples asked than available, or bad options."),
}


def readerDoc(func):
    """Fill the shared pieces ``{subset}``, ``{options}``, ``{search}``, ``{raises}`` into a
    reader's docstring."""
    if func.__doc__:                      # None under python -OO
        func.__doc__ = func.__doc__.format(**_DOC_PIECES)
    return func


class DataFileError(ValueError):
    """A data file exists but cannot be read: truncated, corrupt or not the expected format."""


def obtainHint(key):
    """How to obtain data set ``key`` (a sentence fragment for error messages)."""
    return DATASETS[key]["obtain"]


def corrupt(path, what, key):
    """A :class:`DataFileError` naming the file, what is wrong and how to get a good copy."""
    return DataFileError(f"{path}: {what}. The file is truncated, corrupt or not the expected format; "
                         f"to obtain a good copy, {obtainHint(key)}.")


def readBytes(path, key):
    """The content of ``path``, decompressed when it is gzip data (``.gz`` files)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found; to obtain it, {obtainHint(key)}.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            what = f"cannot decompress the gzip data ({type(err).__name__}: {err})"
            raise corrupt(path, what, key) from err
    if path.endswith(".gz"):
        raise corrupt(path, "the name ends in .gz but the content is not gzip data", key)
    return raw


def loadMat(path, names, key):
    """Variables ``names`` of a MATLAB MAT-file, as NumPy arrays in MATLAB's shape.

    Version 5/7 files are read with :func:`scipy.io.loadmat`, version 7.3 (HDF5) files with
    h5py (whose datasets hold the transpose of MATLAB's arrays; they are transposed back).
    """
    import scipy.io

    try:
        try:
            content = scipy.io.loadmat(path, variable_names=list(names))
        except NotImplementedError:          # v7.3: an HDF5 file
            import h5py

            with h5py.File(path, "r") as f:
                content = {n: numpy.asarray(f[n]).T for n in names if n in f}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found; to obtain it, {obtainHint(key)}.") from None
    except Exception as err:   # scipy and h5py raise many types for damaged files
        raise corrupt(path, f"cannot read it as a MAT-file ({type(err).__name__}: {err})", key) from err
    missing = [n for n in names if n not in content]
    if missing:
        raise corrupt(path, f"the MAT-file lacks the variable(s) {', '.join(missing)} "
                      f"(expected {', '.join(names)})", key)
    return {n: content[n] for n in names}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only plain containers and NumPy arrays (no other code can run)."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                ("_codecs", "encode")}     # protocol-2 pickles from Python 3 encode bytes with it

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays, lists and "
                                         "dicts are expected in a data-set pickle")
        if module.startswith("numpy.core.") and hasattr(numpy, "_core"):
            module = "numpy._core." + module[len("numpy.core."):]
        return super().find_class(module, name)


def loadPickle(path, names, key):
    """Entries ``names`` of a pickled dict (the python versions of CIFAR), keys bytes or str.

    Pickles written by Python 2 are read with ``encoding='bytes'``. Only NumPy arrays and
    plain containers are unpickled; anything else is refused.
    """
    raw = readBytes(path, key)
    try:
        content = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:
        raise corrupt(path, f"cannot unpickle it ({type(err).__name__}: {err})", key) from err
    if not isinstance(content, dict):
        raise corrupt(path, f"expected a pickled dict, found {type(content).__name__}", key)
    content = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in content.items()}
    missing = [n for n in names if n not in content]
    if missing:
        raise corrupt(path, f"the pickle lacks the entries {', '.join(missing)} "
                      f"(expected {', '.join(names)})", key)
    return {n: numpy.asarray(content[n]) for n in names}


def imagesFromRows(X, pixelShape, order, path, key):
    """uint8 images ``(N, H, W, C)`` from one flattened image per row of ``X``.

    ``order='F'``: each row is a column-major ``H x W x C`` array (STL-10); ``order='planes'``:
    each row holds ``C`` row-major ``H x W`` planes one after the other (CIFAR).
    """
    H, W, C = pixelShape
    X = numpy.asarray(X)
    if X.ndim != 2 or X.shape[1] != H * W * C:
        raise corrupt(path, f"expected images as rows of {H * W * C} = {H}x{W}x{C} values, found an array of "
                      f"shape {X.shape}", key)
    if X.dtype != numpy.uint8:
        if X.size and (X.min() < 0 or X.max() > 255 or not numpy.all(X == numpy.round(X))):
            raise corrupt(path, f"expected byte-valued pixels 0..255, found {X.dtype} values "
                          f"{X.min()}..{X.max()}", key)
        X = X.astype(numpy.uint8)
    if order == "F":
        return numpy.ascontiguousarray(X.reshape(-1, C, W, H).transpose(0, 3, 2, 1))
    return numpy.ascontiguousarray(X.reshape(-1, C, H, W).transpose(0, 2, 3, 1))


def checkSameCount(Y, c, pathY, pathC):
    if Y.shape[0] != c.shape[0]:
        raise ValueError(f"{pathY} holds {Y.shape[0]} images but {pathC} holds {c.shape[0]} labels; "
                         "they do not belong together")


def checkCount(n, available, what, where):
    """``n`` as an int (``None`` -> ``available``); a clear error if more are asked than there are."""
    if n is None:
        return available
    if isinstance(n, (bool, numpy.bool_)) or not isinstance(n, (int, numpy.integer)) or n < 0:
        raise ValueError(f"{what} must be None (all) or a non-negative integer; got {n!r}")
    if n > available:
        raise ValueError(f"{what}={int(n)} but only {available} examples are available in {where}; "
                         f"pass {what}=None to use all of them")
    return int(n)


def balancedSubset(labels, n, rng):
    """Indices of ``n`` examples, as equally many of each class as possible.

    Every class is shuffled (by ``rng``) and the classes are taken in turns: the first of
    each class, then the second of each class, ... (classes that run out drop out). With
    ``n`` equal to the number of examples, all are returned in file order.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
    n : int, 0 <= n <= N
    rng : seed or numpy.random.Generator

    Returns
    -------
    idx : ndarray of int, shape (n,)
    """
    N = labels.shape[0]
    if n >= N:
        return numpy.arange(N)
    rng = numpy.random.default_rng(rng)
    rank = numpy.empty(N, dtype=numpy.int64)
    for k in numpy.unique(labels):
        members = numpy.flatnonzero(labels == k)
        rank[members[rng.permutation(members.size)]] = numpy.arange(members.size)
    order = numpy.lexsort((labels, rank))
    return order[:n]


def checkLabels(labels, nClasses, path, key, offset=0):
    """Labels as int64 class indices ``0..nClasses-1`` (file values minus ``offset``)."""
    labels = numpy.asarray(labels).reshape(-1).astype(numpy.int64) - offset
    if labels.size and (labels.min() < 0 or labels.max() >= nClasses):
        raise corrupt(path, f"labels must lie in {offset}..{nClasses - 1 + offset}; found values "
                      f"{labels.min() + offset}..{labels.max() + offset}", key)
    return labels


def checkOptions(precision, useGPU, onehot):
    checkPrecision(precision)
    checkUseGPU(useGPU)
    if not isinstance(onehot, (bool, numpy.bool_)):
        raise ValueError(f"onehot must be True or False; got {onehot!r}")


def imagesAndLabels(Y, c, idx, nClasses, scale, precision, useGPU, onehot):
    """Selected examples as returned by the readers.

    Parameters
    ----------
    Y : ndarray of uint8, shape (N, H, W, C)
    c : ndarray of int, shape (N,)
    idx : ndarray of int, shape (n,)
    scale : float
        The images are multiplied by it (``1/255`` maps to [0, 1]).

    Returns
    -------
    Y : array, shape (n, H, W, C), in ``precision`` on the requested backend
    C : array, shape (n, nClasses) one-hot in ``precision`` (``onehot=True``), else
        ndarray of int64, shape (n,)
    """
    dtype = getDtype(precision)
    Ysel = Y[idx].astype(dtype)
    if scale != 1:
        Ysel *= dtype(scale)
    csel = c[idx]
    if onehot:
        C = numpy.zeros((idx.size, nClasses), dtype=dtype)
        C[numpy.arange(idx.size), csel] = 1
        return asArray(Ysel, useGPU, precision), asArray(C, useGPU, precision)
    return asArray(Ysel, useGPU, precision), csel.copy()


def setupImageData(info, readPart, imageShape, nTrain, nTest, nClasses, scale, precision, useGPU, onehot,
                   rng):
    """The common body of the ``setup*`` readers.

    ``readPart(info, part)`` with part ``'train'`` or ``'test'`` returns ``(Y, c, where)``:
    uint8 images ``(N, H, W, C)``, int64 labels ``(N,)`` in ``0..nClasses-1`` and a description
    of the files read (for messages). A part asked with ``0`` examples is not read: it comes
    back empty, with images of shape ``(0,) + imageShape``.
    """
    checkOptions(precision, useGPU, onehot)
    for n, what in ((nTrain, "nTrain"), (nTest, "nTest")):
        if n is not None:
            checkCount(n, n, what, "")
    rng = numpy.random.default_rng(rng)
    out = []
    for part, n, what in (("train", nTrain, "nTrain"), ("test", nTest, "nTest")):
        if n == 0:
            Y = numpy.zeros((0,) + tuple(imageShape), dtype=numpy.uint8)
            c = numpy.zeros(0, dtype=numpy.int64)
        else:
            Y, c, where = readPart(info, part)
            n = checkCount(n, Y.shape[0], what, where)
        idx = balancedSubset(c, n if n is not None else Y.shape[0], rng)
        out.extend(imagesAndLabels(Y, c, idx, nClasses, scale, precision, useGPU, onehot))
    return tuple(out)
