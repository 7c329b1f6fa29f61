"""Data sets: synthetic problems and image-data readers (Meganet.m's data folder).

The image readers (:func:`setupMNIST`, :func:`setupFashionMNIST`, ...) find their files through
one search order (:mod:`meganet.data.dataPaths`): the ``data_dir`` argument, the ``MEGANET_DATA``
environment variable, the repository's ``data/`` folder and ``/usr/share/datasets``.
"""
from ._readerUtils import DataFileError
from .dataPaths import DATA_ENV, classNames, dataSearchPath, datasetFiles, embeddedDataDir, findDataset
from .loadMNIST import loadMNISTImages, loadMNISTLabels
from .setupCIFAR10 import setupCIFAR10
from .setupCIFAR100 import setupCIFAR100
from .setupMNIST import setupFashionMNIST, setupMNIST
from .setupSTL import setupSTL
from .toyData import peaks, setupCircle, setupPeaks, setupSwissRoll

__all__ = ["peaks", "setupPeaks", "setupSwissRoll", "setupCircle"]
__all__ += ["loadMNISTImages", "loadMNISTLabels", "setupMNIST", "setupFashionMNIST", "setupSTL",
            "setupCIFAR10", "setupCIFAR100"]
__all__ += ["findDataset", "datasetFiles", "dataSearchPath", "embeddedDataDir", "classNames", "DATA_ENV",
            "DataFileError"]
