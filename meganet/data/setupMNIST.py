"""MNIST and Fashion-MNIST (Meganet.m's setupMNIST; Fashion-MNIST has the same files and layout)."""
from ._readerUtils import checkLabels, checkSameCount, readerDoc, setupImageData
from .dataPaths import datasetFiles
from .loadMNIST import IMAGES_MAGIC, LABELS_MAGIC, readIdx

__all__ = ["setupMNIST", "setupFashionMNIST"]


def _idxPart(key):
    def readPart(info, part):
        pathY, pathC = info["files"][part + "Images"], info["files"][part + "Labels"]
        Y = readIdx(pathY, IMAGES_MAGIC, key)
        c = checkLabels(readIdx(pathC, LABELS_MAGIC, key), 10, pathC, key)
        checkSameCount(Y, c, pathY, pathC)
        return Y[..., None], c, f"{pathY}"
    return readPart


def _setupIdx(key, nTrain, nTest, data_dir, precision, useGPU, onehot, rng, embedded):
    info = datasetFiles(key, data_dir=data_dir, embedded=embedded)
    return setupImageData(info, _idxPart(key), (28, 28, 1), nTrain, nTest, 10, 1.0 / 255.0,
                          precision, useGPU, onehot, rng)


@readerDoc
def setupMNIST(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False, onehot=True,
               rng=None, embedded=True):
    """MNIST hand-written digits: ``Ytrain, Ctrain, Ytest, Ctest = setupMNIST(nTrain, nTest)``.

    Reads the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped or not; Meganet.m's
    names ``train-images.idx3-ubyte``, ... are accepted too) from the first folder that holds
    all four, searching {search}. Sub-folders: ``mnist``, ``MNIST``.

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all (60,000 and 10,000).
        {subset}
    {options}

    Returns
    -------
    Ytrain : array, shape (nTrain, 28, 28, 1)
        Gray values scaled to [0, 1] (byte / 255, as Meganet.m's setupMNIST), upright.
    Ctrain : array, shape (nTrain, 10) one-hot, or ndarray of int64, shape (nTrain,)
    Ytest : array, shape (nTest, 28, 28, 1)
    Ctest : array, shape (nTest, 10) or (nTest,)

    {raises}
    """
    return _setupIdx("mnist", nTrain, nTest, data_dir, precision, useGPU, onehot, rng, embedded)


@readerDoc
def setupFashionMNIST(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False,
                      onehot=True, rng=None, embedded=True):
    """Fashion-MNIST: ``Ytrain, Ctrain, Ytest, Ctest = setupFashionMNIST(nTrain, nTest)``.

    Ten classes of 28x28 gray images of clothing (:func:`meganet.classNames`): 0 T-shirt/top,
    1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
    Same files and layout as MNIST (see :func:`setupMNIST`), read from the first folder that
    holds all four, searching {search}. Sub-folders: ``fashion-mnist``, ``fashion_mnist``,
    ``FashionMNIST``. The repository's ``data/fashion-mnist`` holds a class-balanced subset
    (12,000 training and 2,000 test images, see ``data/README.md``) and comes before
    ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``): pass
    ``embedded=False`` to read the full set there. ``meganet.datasetFiles('fashion-mnist')``
    tells whether the embedded subset is read.

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all available (60,000 and
        10,000 in the full set, 12,000 and 2,000 in the embedded subset).
        {subset}
    {options}

    Returns
    -------
    Ytrain : array, shape (nTrain, 28, 28, 1)
        Gray values scaled to [0, 1] (byte / 255, as Meganet.m's setupMNIST), upright.
    Ctrain : array, shape (nTrain, 10) one-hot, or ndarray of int64, shape (nTrain,)
    Ytest : array, shape (nTest, 28, 28, 1)
    Ctest : array, shape (nTest, 10) or (nTest,)

    {raises}
    """
    return _setupIdx("fashion-mnist", nTrain, nTest, data_dir, precision, useGPU, onehot, rng, embedded)
