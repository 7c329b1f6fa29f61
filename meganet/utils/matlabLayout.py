"""Converters between Meganet.m's layouts and meganet's: weights, features, matrices, ``W``.

Meganet.m keeps examples in the LAST dimension and flattens everything column-major;
meganet keeps examples along the FIRST axis and flattens row-major (C order). The
numbers are the same, their order differs:

=========================  ===================================  ====================================
what                       Meganet.m                            meganet
=========================  ===================================  ====================================
image features             ``H x W x C x N`` (or ``H*W*C x N``)  ``(N, H, W, C)``
vector features            ``n x N``                            ``(N, n)``
element weights            ``theta(:)``                         ``el.thetaFromMatlab(theta_m)``
matrix on flat features    rows/columns column-major            rows/columns C order
loss weights ``W``         ``nClass x (nFeat + 1)``, column-    the same matrix, C order, feature
                           major, features column-major         columns C order (bias still last)
=========================  ===================================  ====================================

Every converter has an inverse (``...ToMatlab``); the round trips are exact (the one
exception, the diagonal of ``getDenseAntiSym``'s weights, is documented there).
See docs/porting.md, "Converting weights and features".
"""
import math

import numpy

from ..backend import getArrayModuleOf
from ..columnMajor import columnMajorPermutation, matlabVector
from ..element import AbstractMeganetElement
from ..validation import fmtShape, isInt

__all__ = ["thetaFromMatlab", "thetaToMatlab", "featuresFromMatlab", "featuresToMatlab",
           "matrixFromMatlab", "matrixToMatlab", "WFromMatlab", "WToMatlab"]


def _element(owner, element):
    if not isinstance(element, AbstractMeganetElement):
        raise TypeError(f"{owner}: element must be a meganet element (kernel, layer, block, "
                        f"network); got {type(element).__name__}")
    return element


def thetaFromMatlab(element, theta_m):
    """Weights of ``element`` in meganet's order from Meganet.m's ``theta(:)``.

    Parameters
    ----------
    element : AbstractMeganetElement
        The element built here as it was built in Meganet.m (same sizes and options).
    theta_m : array, shape (n,), (n, 1) or (1, n) with ``n = element.nThetaMatlab()``

    Returns
    -------
    array, shape (element.nTheta(),)
        On the element's backend and in its precision.

    Raises
    ------
    ValueError
        Wrong length (the message names the element, the expected and the given length).

    Examples
    --------
    >>> import numpy as np, meganet as mg
    >>> K = mg.Dense((2, 3))
    >>> theta_m = np.array([1., 2., 3., 4., 5., 6.])      # MATLAB: K = [1 3 5; 2 4 6]
    >>> K.getMatrix(mg.thetaFromMatlab(K, theta_m))
    array([[1., 3., 5.],
           [2., 4., 6.]])
    """
    return _element("thetaFromMatlab", element).thetaFromMatlab(theta_m)


def thetaToMatlab(element, theta):
    """Meganet.m's ``theta(:)`` of ``element`` from meganet's weights.

    Parameters
    ----------
    element : AbstractMeganetElement
    theta : array, shape (element.nTheta(),) (or an (n, 1) / (1, n) vector)

    Returns
    -------
    array, shape (element.nThetaMatlab(),)
        On the element's backend (``meganet.toHost`` copies it to NumPy, e.g. for
        ``scipy.io.savemat``).
    """
    return _element("thetaToMatlab", element).thetaToMatlab(theta)


def _sizeFeat(owner, sizeFeat):
    if isInt(sizeFeat):
        sizeFeat = (sizeFeat,)
    try:
        s = tuple(sizeFeat)
    except TypeError:
        raise TypeError(f"{owner}: sizeFeat must be a tuple of positive ints (the shape of one "
                        f"example, e.g. (H, W, C) or (n,)); got {sizeFeat!r}") from None
    if not s or not all(isInt(v) and v >= 1 for v in s):
        raise ValueError(f"{owner}: sizeFeat must be a tuple of positive ints (the shape of one "
                         f"example, e.g. (H, W, C) or (n,)); got {sizeFeat!r}")
    return tuple(int(v) for v in s)


def _stripOnes(shape):
    shape = tuple(shape)
    while len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def featuresFromMatlab(Y_m, sizeFeat):
    """Features in meganet's layout from Meganet.m's.

    Parameters
    ----------
    Y_m : array
        Meganet.m's features of ``nEx`` examples: the matrix ``(prod(sizeFeat), nEx)``
        (column-major flattening of each ``H x W x C`` example), or the array
        ``(*sizeFeat, nEx)`` (trailing singleton dimensions may be missing, as MATLAB
        drops them: ``H x W x nEx`` for ``sizeFeat = (H, W, 1)``), or one example
        ``sizeFeat`` exactly (``nEx = 1``).
    sizeFeat : tuple of int
        Shape of one example, ``(H, W, C)`` or ``(n,)`` (an element's ``sizeFeatIn()``).

    Returns
    -------
    array, shape (nEx, *sizeFeat)
        A new C-contiguous array on the backend of ``Y_m``, with its dtype.

    Raises
    ------
    ValueError
        ``Y_m`` has none of the accepted shapes.
    """
    owner = "featuresFromMatlab"
    sizeFeat = _sizeFeat(owner, sizeFeat)
    shape = tuple(getattr(Y_m, "shape", ()))
    if not hasattr(Y_m, "reshape") or not hasattr(Y_m, "dtype"):
        raise TypeError(f"{owner}: Y_m must be an array; got {type(Y_m).__name__}")
    nFeat = math.prod(sizeFeat)
    if len(shape) == 2 and shape[0] == nFeat:
        nEx = shape[1]
    elif _stripOnes(shape) == _stripOnes(sizeFeat) and len(shape) <= len(sizeFeat):
        nEx = 1
    elif len(shape) >= 1 and _stripOnes(shape[:-1]) == _stripOnes(sizeFeat):
        nEx = shape[-1]
    else:
        raise ValueError(f"{owner}: Y_m must have shape ({nFeat}, nEx) (prod(sizeFeat) x nEx), "
                         f"{fmtShape(sizeFeat + ('nEx',))} or {fmtShape(sizeFeat)} for "
                         f"sizeFeat={sizeFeat}; got {fmtShape(shape)}")
    xp = getArrayModuleOf(Y_m)
    # reversing the axes of MATLAB's (sizeFeat..., nEx) array gives a C-order array with the
    # same memory order as (nEx, ...reversed sizeFeat); reverse the feature axes back
    A = Y_m.transpose().reshape((nEx,) + sizeFeat[::-1])
    axes = (0,) + tuple(range(len(sizeFeat), 0, -1))
    return xp.ascontiguousarray(A.transpose(axes))


def featuresToMatlab(Y):
    """Meganet.m's features, ``(prod(sizeFeat), nEx)``, from meganet's ``(nEx, *sizeFeat)``.

    Parameters
    ----------
    Y : array, shape (nEx, *sizeFeat)

    Returns
    -------
    array, shape (prod(sizeFeat), nEx)
        Column ``n`` is the column-major flattening of example ``n`` (as MATLAB holds
        ``reshape(Y, [], nEx)``); same backend and dtype as ``Y``.
    """
    if not hasattr(Y, "ndim") or Y.ndim < 2:
        raise ValueError(f"featuresToMatlab: Y must be an array of shape (nEx, *sizeFeat) with at "
                         f"least 2 dimensions; got "
                         f"{fmtShape(Y.shape) if hasattr(Y, 'shape') else type(Y).__name__}")
    nEx = Y.shape[0]
    axes = (0,) + tuple(range(Y.ndim - 1, 0, -1))
    return getArrayModuleOf(Y).ascontiguousarray(Y.transpose(axes).reshape(nEx, -1).T)


def _perm(owner, what, size, n, like):
    if size is None:
        return None
    size = _sizeFeat(owner, size)
    if math.prod(size) != n:
        raise ValueError(f"{owner}: the matrix has {n} {what} but {what[:-1]}Size={size} has "
                         f"{math.prod(size)} entries")
    return getArrayModuleOf(like).asarray(columnMajorPermutation(size))


def _matrix(owner, B):
    if not hasattr(B, "ndim") or B.ndim != 2:
        raise ValueError(f"{owner}: the matrix must be a 2-D array; got "
                         f"{fmtShape(B.shape) if hasattr(B, 'shape') else type(B).__name__}")
    return B


def matrixFromMatlab(B_m, rowSize=None, colSize=None):
    """A matrix acting on flattened features, from Meganet.m's order to meganet's.

    For explicit matrices whose rows (outputs) and/or columns (inputs) index the entries of
    one flattened example: ``Bin``/``Bout`` of the layers (rows: features ``sizeFeatOut``
    of the kernel resp. ``sizeFeatIn``, columns: bias weights), ``B`` of ``HamiltonianNN``,
    ``K`` of ``Connector`` (rows: ``sizeFeatOut``, columns: ``sizeFeatIn``), a ``Q`` of a
    kernel (rows: ``sK`` or ``nK``). Meganet.m numbers these entries column-major, meganet
    row-major.

    Parameters
    ----------
    B_m : array, shape (m, n)
    rowSize : tuple of int, optional
        Shape whose entries the rows index (``prod(rowSize) == m``); None: rows unchanged.
    colSize : tuple of int, optional
        The same for the columns; None: columns unchanged.

    Returns
    -------
    array, shape (m, n)
        ``B[i, j] = B_m[p[i], q[j]]`` with ``p``/``q`` from
        :func:`meganet.columnMajor.columnMajorPermutation`; same backend and dtype.
    """
    owner = "matrixFromMatlab"
    B = _matrix(owner, B_m)
    p = _perm(owner, "rows", rowSize, B.shape[0], B)
    q = _perm(owner, "cols", colSize, B.shape[1], B)
    if p is not None:
        B = B[p]
    if q is not None:
        B = B[:, q]
    return B.copy() if p is None and q is None else B


def matrixToMatlab(B, rowSize=None, colSize=None):
    """The inverse of :func:`matrixFromMatlab` (same arguments)."""
    owner = "matrixToMatlab"
    B = _matrix(owner, B)
    xp = getArrayModuleOf(B)
    p = _perm(owner, "rows", rowSize, B.shape[0], B)
    q = _perm(owner, "cols", colSize, B.shape[1], B)
    if p is not None:
        B = B[xp.argsort(p)]
    if q is not None:
        B = B[:, xp.argsort(q)]
    return B.copy() if p is None and q is None else B


def _WColumns(owner, sizeFeat, addBias):
    sizeFeat = _sizeFeat(owner, sizeFeat)
    if not isinstance(addBias, (bool, numpy.bool_)) and addBias not in (0, 1):
        raise ValueError(f"{owner}: addBias must be True/False (the loss's addBias); got {addBias!r}")
    nFeat = math.prod(sizeFeat)
    cols = columnMajorPermutation(sizeFeat)
    if addBias:
        cols = numpy.concatenate([cols, [nFeat]])
    return cols


def _WClasses(owner, name, W, nCols):
    """Number of classes of a flat ``W`` with ``nCols`` columns per class."""
    v = matlabVector(owner, name, W, getattr(W, "size", 0))
    if v.size == 0 or v.size % nCols:
        raise ValueError(f"{owner}: {name} must have nClass * {nCols} entries (nClass x "
                         f"(prod(sizeFeat) + addBias)); got {v.size} entries")
    return v, v.size // nCols


def WFromMatlab(W_m, sizeFeat, addBias=True):
    """Loss weights ``W`` (``SoftmaxLoss``, ``RegressionLoss``, ...) from Meganet.m's layout.

    Meganet.m reshapes ``W`` column-major to ``nClass x (nFeat + addBias)``, its feature
    columns numbering the flattened features column-major and the bias column last;
    meganet views ``W`` as the C-order matrix of the same shape, feature columns in
    C order, bias column last (see :mod:`meganet.loss.abstractLoss`).

    Parameters
    ----------
    W_m : array
        Meganet.m's ``W(:)`` (shape ``(n,)``, ``(n, 1)`` or ``(1, n)``, ``n = nClass
        (prod(sizeFeat) + addBias)``) or the matrix ``(nClass, prod(sizeFeat) + addBias)``.
    sizeFeat : tuple of int
        Shape of one example of the loss's input features, i.e. the network's
        ``sizeFeatOut()`` (``(H, W, C)`` if the classifier acts on image features).
    addBias : bool
        The loss's ``addBias`` (Meganet.m's default: 1).

    Returns
    -------
    array, shape (nClass * (prod(sizeFeat) + addBias),)
        Same backend and dtype as ``W_m``.
    """
    owner = "WFromMatlab"
    cols = _WColumns(owner, sizeFeat, addBias)
    xp = getArrayModuleOf(W_m)
    if getattr(W_m, "ndim", 0) == 2 and W_m.shape[0] > 1 and W_m.shape[1] == cols.size:
        M = W_m                                   # the nClass x nCols matrix itself
    else:                                         # W(:), column-major
        v, nClass = _WClasses(owner, "W_m", W_m, cols.size)
        M = v.reshape(cols.size, nClass).T
    return xp.ascontiguousarray(M[:, xp.asarray(cols)]).reshape(-1)


def WToMatlab(W, sizeFeat, addBias=True):
    """Meganet.m's ``W(:)`` from meganet's loss weights; the inverse of :func:`WFromMatlab`.

    Parameters
    ----------
    W : array, shape (nClass * (prod(sizeFeat) + addBias),) (or an (n, 1) / (1, n) vector)
    sizeFeat, addBias :
        As :func:`WFromMatlab`.

    Returns
    -------
    array, shape (nClass * (prod(sizeFeat) + addBias),)
        The column-major flattening of Meganet.m's ``nClass x (nFeat + addBias)`` matrix.
    """
    owner = "WToMatlab"
    cols = _WColumns(owner, sizeFeat, addBias)
    v, nClass = _WClasses(owner, "W", W, cols.size)
    xp = getArrayModuleOf(v)
    M = v.reshape(nClass, cols.size)[:, xp.asarray(numpy.argsort(cols))]
    return xp.ascontiguousarray(M.T).reshape(-1)
