"""STL-10 (Meganet.m's setupSTL): 96x96 colour images of 10 classes, 5,000 training and 8,000
test images."""
import numpy

from ._readerUtils import (checkLabels, checkSameCount, corrupt, imagesFromRows, loadMat, readBytes,
                           readerDoc, setupImageData)
from .dataPaths import datasetFiles

__all__ = ["setupSTL"]

_KEY = "stl10"
_SHAPE = (96, 96, 3)


def _readPart(info, part):
    files = info["files"]
    if info["format"] == "mat":
        path = files[part]
        v = loadMat(path, ("X", "y"), _KEY)
        Y = imagesFromRows(v["X"], _SHAPE, "F", path, _KEY)
        c = checkLabels(v["y"], 10, path, _KEY, offset=1)
        checkSameCount(Y, c, path, path)
        return Y, c, path
    pathX, pathY = files[part + "X"], files[part + "Y"]
    raw = readBytes(pathX, _KEY)
    n = int(numpy.prod(_SHAPE))
    if len(raw) % n:
        raise corrupt(pathX, f"{len(raw)} bytes is not a whole number of 96x96x3 images ({n} bytes each)",
                      _KEY)
    Y = imagesFromRows(numpy.frombuffer(raw, dtype=numpy.uint8).reshape(-1, n), _SHAPE, "F", pathX, _KEY)
    c = checkLabels(numpy.frombuffer(readBytes(pathY, _KEY), dtype=numpy.uint8), 10, pathY, _KEY, offset=1)
    checkSameCount(Y, c, pathX, pathY)
    return Y, c, pathX


@readerDoc
def setupSTL(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False, onehot=True,
             rng=None, embedded=True):
    """STL-10: ``Ytrain, Ctrain, Ytest, Ctest = setupSTL(nTrain, nTest)``.

    Reads either the MATLAB files Meganet.m loads (``stl10-train.mat`` / ``stl10-test.mat``,
    or their names in the official archive, ``train.mat`` / ``test.mat``: variables ``X``,
    one image per row as a column-major 96x96x3 array, and ``y``, labels 1..10; version 7.3
    files too) or the official binary files (``train_X.bin``, ``train_y.bin``, ``test_X.bin``,
    ``test_y.bin``: the same column-major bytes per image, one label byte 1..10 per image),
    searching {search}. Sub-folders: ``STL10``, ``stl10``, ``stl10_matlab``, ``stl10_binary``.

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all (5,000 and 8,000).
        {subset} (Meganet.m's default ``nTest = ceil(nTrain/5)`` is not applied.)
    {options}

    Returns
    -------
    Ytrain : array, shape (nTrain, 96, 96, 3)
        RGB values 0..255 (not rescaled, as Meganet.m; its drivers call
        :func:`meganet.normalizeData`), upright: ``Y[n, i, j, :]`` is row ``i`` from the top,
        column ``j`` from the left.
    Ctrain : array, shape (nTrain, 10), or ndarray of int64, shape (nTrain,)
        File label ``k`` (1..10) is class ``k - 1``.
    Ytest : array, shape (nTest, 96, 96, 3)
    Ctest : array, shape (nTest, 10), or ndarray of int64, shape (nTest,)

    {raises}
    """
    info = datasetFiles(_KEY, data_dir=data_dir, embedded=embedded)
    return setupImageData(info, _readPart, _SHAPE, nTrain, nTest, 10, 1.0, precision, useGPU, onehot, rng)

