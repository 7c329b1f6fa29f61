"""CIFAR-10 (Meganet.m's setupCIFAR10): 32x32 colour images of 10 classes, 50,000 training
(five batches) and 10,000 test images."""
import numpy

from ._readerUtils import (checkLabels, checkSameCount, imagesFromRows, loadMat, loadPickle, readerDoc,
                           setupImageData)
from .dataPaths import datasetFiles

__all__ = ["setupCIFAR10"]

_KEY = "cifar10"
_SHAPE = (32, 32, 3)


def readCIFARBatch(path, fmt, labelName, nClasses, key):
    """Images ``(N, 32, 32, 3)`` uint8 and labels of one CIFAR file (``'mat'`` or ``'python'``)."""
    load = loadMat if fmt == "mat" else loadPickle
    v = load(path, ("data", labelName), key)
    Y = imagesFromRows(v["data"], _SHAPE, "planes", path, key)
    c = checkLabels(v[labelName], nClasses, path, key)
    checkSameCount(Y, c, path, path)
    return Y, c


def _readPart(info, part):
    names = [f"batch{k}" for k in range(1, 6)] if part == "train" else ["test"]
    parts = [readCIFARBatch(info["files"][n], info["format"], "labels", 10, _KEY) for n in names]
    Y = numpy.concatenate([p[0] for p in parts])
    c = numpy.concatenate([p[1] for p in parts])
    return Y, c, info["folder"]


@readerDoc
def setupCIFAR10(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False, onehot=True,
                 rng=None, embedded=True):
    """CIFAR-10: ``Ytrain, Ctrain, Ytest, Ctest = setupCIFAR10(nTrain, nTest)``.

    Reads either the MATLAB files Meganet.m loads (``data_batch_1.mat`` .. ``data_batch_5.mat``
    and ``test_batch.mat``: variables ``data``, one image per row as three row-major 32x32
    planes R, G, B, and ``labels``, 0..9) or the python version (the pickles ``data_batch_1``
    .. ``data_batch_5`` and ``test_batch``: dicts with the same ``data`` and ``labels``; only
    arrays and plain containers are unpickled), searching {search}. Sub-folders: ``CIFAR``,
    ``cifar10``, ``cifar-10-batches-mat``, ``cifar-10-batches-py``.

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all (50,000 and 10,000).
        {subset} (Meganet.m draws a plain random subset.)
    {options}

    Returns
    -------
    Ytrain : array, shape (nTrain, 32, 32, 3)
        RGB values 0..255 (not rescaled, as Meganet.m), upright, channels R, G, B; the five
        batches in order.
    Ctrain : array, shape (nTrain, 10), or ndarray of int64, shape (nTrain,)
    Ytest : array, shape (nTest, 32, 32, 3)
    Ctest : array, shape (nTest, 10), or ndarray of int64, shape (nTest,)

    {raises}
    """
    info = datasetFiles(_KEY, data_dir=data_dir, embedded=embedded)
    return setupImageData(info, _readPart, _SHAPE, nTrain, nTest, 10, 1.0, precision, useGPU, onehot, rng)
