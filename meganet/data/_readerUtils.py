"""What the image-data readers share: reading files with clear errors, class-balanced
selection, and turning uint8 images and integer labels into the arrays the readers return."""
import gzip
import zlib

import numpy

from ..backend import asArray, checkPrecision, checkUseGPU, getDtype
from .dataPaths import DATASETS


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
            raise corrupt(path, f"cannot decompress the gzip data ({type(err).__name__}: {err})", key) from err
    if path.endswith(".gz"):
        raise corrupt(path, "the name ends in .gz but the content is not gzip data", key)
    return raw


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
