"""Readers of IDX files, the format of MNIST and Fashion-MNIST (Meganet.m's loadMNISTImages,
loadMNISTLabels).

An IDX file is a big-endian header -- the magic number (two zero bytes, the type code
``0x08`` for unsigned bytes, the number of dimensions) and one 32-bit size per dimension --
followed by the values in row-major (C) order. Image files have magic number 2051
(``N x rows x cols``), label files 2049 (``N``). Both readers accept gzipped (``.gz``) and
uncompressed files.
"""
import os

import numpy

from ._readerUtils import corrupt, readBytes

__all__ = ["loadMNISTImages", "loadMNISTLabels"]

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def readIdx(filename, magic, key="mnist"):
    """The uint8 array of an IDX file; ``key`` names the data set in error messages."""
    if not isinstance(filename, (str, os.PathLike)):
        raise ValueError(f"filename must be a path (str or os.PathLike); got {filename!r}")
    filename = os.fspath(filename)
    raw = readBytes(filename, key)
    ndim = magic & 0xFF
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise corrupt(filename, f"{len(raw)} bytes, shorter than the {header}-byte IDX header", key)
    head = numpy.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if int(head[0]) != magic:
        raise corrupt(filename, f"bad magic number {int(head[0])}, expected {magic} "
                      f"({'images' if magic == IMAGES_MAGIC else 'labels'} file)", key)
    shape = tuple(int(s) for s in head[1:])
    expected = int(numpy.prod(shape))
    body = len(raw) - header
    if body != expected:
        raise corrupt(filename, f"header announces {'x'.join(map(str, shape))} = {expected} values but "
                      f"the file holds {body}", key)
    return numpy.frombuffer(raw, dtype=numpy.uint8, offset=header).reshape(shape)


def loadMNISTImages(filename, raw=False):
    """Images of an IDX image file.

    Parameters
    ----------
    filename : str or os.PathLike
        ``train-images-idx3-ubyte[.gz]`` or ``t10k-images-idx3-ubyte[.gz]`` (gzip is detected
        from the content).
    raw : bool
        Return the stored bytes instead of values scaled to [0, 1].

    Returns
    -------
    images : ndarray, shape (N, rows, cols)
        float64 in [0, 1] (value / 255, as Meganet.m), or uint8 with ``raw=True``. Image
        ``images[n]`` is upright: ``images[n, i, j]`` is row ``i`` (from the top), column
        ``j`` (from the left). (Meganet.m returns the same numbers as a ``rows*cols x N``
        matrix of column-major images.)

    Raises
    ------
    FileNotFoundError, DataFileError
        Missing file; truncated, corrupt or wrong-type file (the message names it).
    """
    images = readIdx(filename, IMAGES_MAGIC)
    if raw:
        return images.copy()
    return images / 255.0


def loadMNISTLabels(filename):
    """Labels of an IDX label file.

    Parameters
    ----------
    filename : str or os.PathLike
        ``train-labels-idx1-ubyte[.gz]`` or ``t10k-labels-idx1-ubyte[.gz]``.

    Returns
    -------
    labels : ndarray of int64, shape (N,)
        The stored class indices (0..9 for MNIST and Fashion-MNIST).
    """
    return readIdx(filename, LABELS_MAGIC).astype(numpy.int64)
