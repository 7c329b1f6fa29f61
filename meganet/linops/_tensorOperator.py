"""Common machinery of meganet's structured operators (opEye, opDiag, opTimeDer, ...).

Input shapes. An operator with domain shape ``n`` and range shape ``m`` accepts

* ``x`` of shape ``n``                    -> result of shape ``m``;
* a flat ``x`` of shape ``(prod(n),)``    -> flat result of shape ``(prod(m),)``;

and, when the operator is *batched* (``op.batched``; true for every structured operator
whose parts allow it), a leading example axis:

* ``X`` of shape ``(N, *n)``              -> ``(N, *m)``;
* ``X`` of shape ``(N, prod(n))``         -> ``(N, prod(m))``.

The first matching rule wins (so for a 1-D ``n`` the two single-input rules agree). The
adjoint follows the same rules with ``m`` and ``n`` exchanged. Anything else raises a
``ValueError`` naming the accepted shapes.

Backends. Operators act on the backend (NumPy or device module) and precision of their
input. Constant arrays an operator needs (diagonals, DCT matrices, ...) are kept on the
host and copied once per backend and dtype on first use.
"""
import math

import numpy

from ..backend import getArrayModuleOf
from ..validation import isArray
from .linearOperator import LinearOperator

__all__ = []


def _prod(shape):
    return int(math.prod(shape))


def applyShaped(name, x, inShape, outShape, fn, batched, what="input"):
    """Apply ``fn`` (acting on ``(B, *inShape)`` arrays) to ``x`` by the shape rules above."""
    if not isArray(x):
        raise TypeError(f"{name}: {what} must be an array (NumPy or device); got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating point array; got dtype {x.dtype}")
    shp = tuple(x.shape)
    nIn, nOut = _prod(inShape), _prod(outShape)
    if shp == inShape:
        return fn(x.reshape((1,) + inShape)).reshape(outShape)
    if x.ndim == 1 and x.shape[0] == nIn:
        return fn(x.reshape((1,) + inShape)).reshape(nOut)
    if batched and x.ndim >= 1:
        N = shp[0]
        if shp[1:] == inShape:
            return fn(x)
        if x.ndim == 2 and shp[1] == nIn:
            return fn(x.reshape((N,) + inShape)).reshape(N, nOut)
    accepted = f"{inShape} or flat ({nIn},)"
    if batched:
        accepted += f", or (N, *{inShape}) / (N, {nIn}) for N examples"
    raise ValueError(f"{name}: {what} must have shape {accepted}; got {shp}")


class TensorOperator(LinearOperator):
    """Base of the structured operators: shape rules, batching and cached constants.

    Subclasses call ``super().__init__(m, n, useGPU, precision)`` and implement
    ``_forward(X)`` (``X`` of shape ``(B, *n)`` -> ``(B, *m)``) and ``_adjoint(Y)``
    (``(B, *m)`` -> ``(B, *n)``).
    """

    batched = True

    def __init__(self, m, n, useGPU=False, precision="double"):
        super().__init__(m, n, self._applyForward, self._applyAdjoint,
                         useGPU=useGPU, precision=precision)
        self._host = {}
        self._constCache = {}

    # -- shape dispatch ---------------------------------------------------------------
    def _applyForward(self, x):
        return applyShaped(type(self).__name__, x, self.n, self.m, self._forward, self.batched)

    def _applyAdjoint(self, y):
        return applyShaped(type(self).__name__ + " adjoint", y, self.m, self.n, self._adjoint,
                           self.batched)

    def _forward(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _adjoint(self, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- constants --------------------------------------------------------------------
    def _setConst(self, name, value):
        """Store a host constant (float arrays follow the input's dtype when used)."""
        self._host[name] = numpy.asarray(value)
        for key in [k for k in self._constCache if k[0] == name]:
            del self._constCache[key]

    def _const(self, name, like):
        """The constant ``name`` on ``like``'s backend (floats in ``like``'s dtype)."""
        xp = getArrayModuleOf(like)
        host = self._host[name]
        if host.dtype.kind == "f":
            dtype = like.dtype if like.dtype.kind == "f" else numpy.dtype(numpy.float64)
        else:
            dtype = host.dtype
        key = (name, xp.__name__, numpy.dtype(dtype).str)
        val = self._constCache.get(key)
        if val is None:
            val = host.astype(dtype, copy=False)
            if xp is not numpy:
                val = xp.asarray(val)
            self._constCache[key] = val
        return val


def solveOperator(op, fn):
    """A symmetric LinearOperator on ``op``'s domain applying ``fn`` (for ``getPCop``)."""
    return LinearOperator(op.n, op.n, fn, fn, useGPU=op.useGPU, precision=op.precision)


def safeReciprocal(den):
    """``1/den`` elementwise with zero where ``den == 0`` (minimum-norm solves).

    Works on NumPy and device arrays without division warnings.
    """
    nz = den != 0
    xp = getArrayModuleOf(den)
    return nz.astype(den.dtype) / xp.where(nz, den, xp.ones_like(den))
