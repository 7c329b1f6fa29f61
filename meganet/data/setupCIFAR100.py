"""CIFAR-100 (Meganet.m's setupCIFAR100): 32x32 colour images of 100 classes (grouped into 20
superclasses), 50,000 training and 10,000 test images."""
from ._readerUtils import readerDoc, setupImageData
from .dataPaths import datasetFiles
from .setupCIFAR10 import readCIFARBatch

__all__ = ["setupCIFAR100"]

_KEY = "cifar100"
_LABELS = {"fine": ("fine_labels", 100), "coarse": ("coarse_labels", 20)}


@readerDoc
def setupCIFAR100(nTrain=None, nTest=None, *, data_dir=None, precision="single", useGPU=False, onehot=True,
                  rng=None, embedded=True, labels="fine"):
    """CIFAR-100: ``Ytrain, Ctrain, Ytest, Ctest = setupCIFAR100(nTrain, nTest)``.

    Reads either the MATLAB files Meganet.m loads (``cifar100-train.mat`` and
    ``cifar100-test.mat``, or their names in the official archive, ``train.mat`` and
    ``test.mat``) or the python version (the pickles ``train`` and ``test``): ``data``, one
    image per row as three row-major 32x32 planes R, G, B, ``fine_labels`` (0..99) and
    ``coarse_labels`` (0..19), searching {search}. Sub-folders: ``CIFAR``, ``cifar100``,
    ``cifar-100-matlab``, ``cifar-100-python``. The class names are in the meta file
    (``meta.mat`` / ``cifar100-meta.mat`` / ``meta``), which is not needed here.

    Parameters
    ----------
    nTrain, nTest : int or None
        Number of training and test examples; ``None`` means all (50,000 and 10,000).
        {subset} (Meganet.m draws a plain random subset.)
    {options}
    labels : {{'fine', 'coarse'}}
        The 100 fine classes (as Meganet.m) or the 20 coarse superclasses.

    Returns
    -------
    Ytrain : array, shape (nTrain, 32, 32, 3)
        RGB values 0..255 (not rescaled, as Meganet.m), upright, channels R, G, B.
    Ctrain : array, shape (nTrain, 100) (fine) or (nTrain, 20) (coarse), or int64 (nTrain,)
    Ytest : array, shape (nTest, 32, 32, 3)
    Ctest : array, shape (nTest, 100) or (nTest, 20), or int64 (nTest,)

    {raises}
    """
    if labels not in _LABELS:
        raise ValueError(f"setupCIFAR100: labels must be 'fine' or 'coarse'; got {labels!r}")
    labelName, nClasses = _LABELS[labels]

    def readPart(info, part):
        path = info["files"][part]
        Y, c = readCIFARBatch(path, info["format"], labelName, nClasses, _KEY)
        return Y, c, path

    info = datasetFiles(_KEY, data_dir=data_dir, embedded=embedded)
    return setupImageData(info, readPart, (32, 32, 3), nTrain, nTest, nClasses, 1.0, precision, useGPU,
                          onehot, rng)
