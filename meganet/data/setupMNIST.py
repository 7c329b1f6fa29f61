"""MNIST and Fashion-MNIST (Meganet.m's setupMNIST; Fashion-MNIST has the same files and layout)."""
from ._readerUtils import checkLabels, checkSameCount, setupImageData
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


_DOC = """{title}

    Reads the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped or not; Meganet.m's
    names ``train-images.idx3-ubyte``, ... are accepted too) from the first folder of the
    search order that holds all four: the ``data_dir`` argument (only there, when given), the
    ``MEGANET_DATA`` environment variable, the repository's ``data/`` folder{embeddedNote}, and
    ``{system}``, where Debian's dataset packages install their files
    (:func:`meganet.findDataset` tells which folder that is).

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all available ({sizes}). Fewer
        than available gives a class-balanced random subset (equally many of each class, the
        classes in turns, as Meganet.m's setupSTL); asking for more than available is an
        error. ``0`` returns empty arrays without reading that part.
    data_dir : str or os.PathLike, optional
        Folder that holds the files (or a parent with the usual sub-folder ``{folder}``).
    precision : {{'single', 'double'}}
    useGPU : bool
        Return device arrays (labels too when ``onehot``).
    onehot : bool
        One-hot labels ``(N, 10)`` in ``precision``; else int64 class indices 0..9.
    rng : seed or numpy.random.Generator, optional
        Draws the subsets.
    embedded : bool
        Accept the subset shipped in the repository's ``data/fashion-mnist`` (12,000 training
        and 2,000 test images); ``False`` insists on a full copy.

    Returns
    -------
    Ytrain : array, shape (nTrain, 28, 28, 1)
        Gray values scaled to [0, 1] (byte / 255, as Meganet.m's setupMNIST), upright.
    Ctrain : array, shape (nTrain, 10) one-hot, or ndarray of int64, shape (nTrain,)
    Ytest : array, shape (nTest, 28, 28, 1)
    Ctest : array, shape (nTest, 10) or (nTest,)

    Raises
    ------
    FileNotFoundError
        No folder holds the files; the message lists where it looked and how to obtain them.
    DataFileError
        A file is truncated or corrupt (a ``ValueError``; the message names the file).
    ValueError
        More examples asked than available, or bad options.
    """


def setupMNIST(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False, onehot=True,
               rng=None, embedded=True):
    return _setupIdx("mnist", nTrain, nTest, data_dir, precision, useGPU, onehot, rng, embedded)


def setupFashionMNIST(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False,
                      onehot=True, rng=None, embedded=True):
    return _setupIdx("fashion-mnist", nTrain, nTest, data_dir, precision, useGPU, onehot, rng, embedded)


setupMNIST.__doc__ = _DOC.format(
    title="MNIST hand-written digits: ``Ytrain, Ctrain, Ytest, Ctest = setupMNIST(nTrain, nTest)``.",
    embeddedNote="", system="/usr/share/datasets/mnist", sizes="60,000 and 10,000", folder="mnist")
setupFashionMNIST.__doc__ = _DOC.format(
    title="Fashion-MNIST: ``Ytrain, Ctrain, Ytest, Ctest = setupFashionMNIST(nTrain, nTest)``.\n\n"
          "    Ten classes of 28x28 gray clothing images: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress,\n"
          "    4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot.",
    embeddedNote=" (which ships a class-balanced subset of Fashion-MNIST in ``data/fashion-mnist``)",
    system="/usr/share/datasets/fashion-mnist", sizes="60,000 and 10,000 for the full set, 12,000 and "
    "2,000 for the embedded subset", folder="fashion-mnist")

