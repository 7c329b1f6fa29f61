"""Column-major (Meganet.m) and row-major (meganet) orderings of flat arrays.

MATLAB flattens arrays column-major (``A(:)`` runs fastest along the FIRST axis), NumPy
row-major (``A.ravel()`` runs fastest along the LAST axis). The same array of shape
``shape`` therefore has two flat vectors; for ``shape = (2, 3)``::

    A = [[a, b, c],          MATLAB A(:)  = [a, d, b, e, c, f]
         [d, e, f]]          NumPy ravel  = [a, b, c, d, e, f]

The helpers below convert between the two for one array (any shape) and check the
vectors that cross the boundary. They work on NumPy and device arrays alike (plain
reshapes and transposes).
"""
import math

import numpy

from .validation import fmtShape

__all__ = ["fromColumnMajor", "toColumnMajor", "columnMajorPermutation", "matlabVector"]


def _shape(shape):
    return tuple(int(s) for s in shape)


def fromColumnMajor(v, shape):
    """Row-major flattening of the array whose column-major flattening is ``v``.

    Parameters
    ----------
    v : array, shape (prod(shape),)
    shape : tuple of int

    Returns
    -------
    array, shape (prod(shape),)
        ``np.reshape(v, shape, order='F').ravel()`` (a new array).
    """
    shape = _shape(shape)
    return v.reshape(shape[::-1]).transpose().reshape(-1).copy()


def toColumnMajor(v, shape):
    """Column-major flattening of the array whose row-major flattening is ``v``, shape
    ``(prod(shape),)``: ``np.reshape(v, shape).ravel(order='F')``, the inverse of
    :func:`fromColumnMajor` (a new array)."""
    return v.reshape(_shape(shape)).transpose().reshape(-1).copy()


def columnMajorPermutation(shape):
    """Index ``p`` with ``rowMajor = colMajor[p]`` for arrays of ``shape``.

    Parameters
    ----------
    shape : tuple of int

    Returns
    -------
    numpy.ndarray of int, shape (prod(shape),)
        ``p[i]`` is the 0-based column-major position of the element at row-major position
        ``i``; ``numpy.argsort(p)`` is the inverse permutation.
    """
    shape = _shape(shape)
    return numpy.arange(math.prod(shape)).reshape(shape, order="F").reshape(-1)


def matlabVector(owner, name, v, n):
    """``v`` as a flat 1-D array of length ``n``; accepts ``(n,)``, ``(n, 1)`` and ``(1, n)``.

    Parameters
    ----------
    owner : str
        Who asks (named in the error messages).
    name : str
        What ``v`` is (named in the error messages).
    v : array
        A NumPy or device array with a real floating dtype.
    n : int
        Expected length.

    Returns
    -------
    array, shape (n,)
        A view of ``v`` (no copy, same backend and dtype).

    Raises
    ------
    TypeError
        ``v`` is not an array or not of a floating dtype.
    ValueError
        ``v`` is not a vector, or its length is not ``n`` (the message names ``owner``, the
        expected and the given length).
    """
    if not (hasattr(v, "shape") and hasattr(v, "dtype") and hasattr(v, "reshape")):
        raise TypeError(f"{owner}: {name} must be an array; got {type(v).__name__}")
    if not numpy.issubdtype(numpy.dtype(v.dtype), numpy.floating):
        raise TypeError(f"{owner}: {name} must have a real floating dtype; got {v.dtype}")
    shape = tuple(v.shape)
    if len(shape) > 2 or (len(shape) == 2 and min(shape) != 1 and math.prod(shape) > 0) or len(shape) == 0:
        raise ValueError(f"{owner}: {name} must be a vector of length {n} (shape ({n},), ({n}, 1) "
                         f"or (1, {n})); got shape {fmtShape(shape)}")
    m = math.prod(shape)
    if m != n:
        raise ValueError(f"{owner}: {name} must have length {n}; got length {m} "
                         f"(shape {fmtShape(shape)})")
    return v.reshape(-1)
