"""Shared interface of the regularizers (Meganet.m's ``regularization/`` folder).

Call ``Sc, para, dS, d2S = reg.regularizer(x)`` (or ``reg(x)``) with ``x`` a flat 1-D weight
vector (NumPy or device array, float32 or float64):

``Sc``
    the value (0-d array on ``x``'s backend);
``para``
    1-D array on ``x``'s backend (``[Sc, alpha...]``; see each class); ``hisVals(para)``
    gives host values;
``dS``
    the gradient, shaped like ``x``;
``d2S``
    the Hessian (or its approximation, see :class:`L1Reg`) as a symmetric
    :class:`~meganet.linops.LinearOperator` with domain and range ``(nTheta,)``.

Operators ``B`` may be given as a :class:`~meganet.linops.LinearOperator` (any domain shape
with ``nTheta`` entries; ``x`` is reshaped to it), a 2-D matrix (wrapped with
``LinearOperator(B)``) or an int ``n`` (``opEye(n)``). The regularizers compute on the
backend and in the precision of ``x``; their ``useGPU``/``precision`` attributes (as in
Meganet.m) are pushed to the operators they hold.
"""
import math

import numpy

from ..backend import (checkPrecision, checkUseGPU, getArrayModuleOf, BackendMixin, backendChildren,
                       isDeviceArray, toHost)
from ..linops.linearOperator import LinearOperator
from ..linops.opEye import opEye
from ..validation import isArray

__all__ = ["AbstractRegularizer"]


def asOperator(B, owner, what):
    """``B`` as a LinearOperator (None stays None)."""
    if B is None:
        return None
    if isinstance(B, LinearOperator):
        return B
    if isinstance(B, (int, numpy.integer)) and not isinstance(B, bool):
        return opEye(int(B))
    if isArray(B) or (hasattr(B, "tocsr") and hasattr(B, "shape")):
        if len(B.shape) != 2:
            raise ValueError(f"{owner}: {what} must be a LinearOperator, a 2-D matrix or an int; "
                             f"got an array of shape {tuple(B.shape)}")
        return LinearOperator(B)
    raise TypeError(f"{owner}: {what} must be a LinearOperator, a 2-D matrix or an int; "
                    f"got {type(B).__name__}")


def domainSize(B):
    return int(math.prod(B.n))


def applyOp(B, u):
    """``B u`` for flat ``u`` (reshaped to ``B.n``), flattened."""
    return B.Amv(u.reshape(B.n)).reshape(-1)


def applyOpT(B, r):
    """``B^T r`` for flat ``r`` (reshaped to ``B.m``), flattened."""
    return B.ATmv(r.reshape(B.m)).reshape(-1)


def isEmpty(value):
    """True for ``None``, ``[]``, ``()`` and arrays without entries (MATLAB's ``[]``)."""
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return len(value) == 0
    return isArray(value) and value.size == 0


def checkAlpha(owner, alpha, count):
    """``alpha`` as a tuple of ``count`` finite non-negative floats (a scalar is repeated,
    as Meganet.m). A negative weight would make the objective unbounded below."""
    vals = numpy.atleast_1d(numpy.asarray(toHost(alpha) if isArray(alpha) else alpha))
    ok = vals.ndim == 1 and vals.dtype.kind in "iuf" and numpy.all(numpy.isfinite(vals))
    if ok and vals.size == 1:
        vals = numpy.repeat(vals, count)
    if not ok or vals.size != count:
        want = "a number" if count == 1 else f"a number or {count} numbers"
        raise ValueError(f"{owner}: alpha must be {want} (finite, >= 0); got {alpha!r}")
    if numpy.any(vals < 0):
        raise ValueError(f"{owner}: alpha must be >= 0 (a negative weight makes the objective "
                         f"unbounded below); got {alpha!r}")
    return tuple(float(v) for v in vals)


class AbstractRegularizer(BackendMixin):
    """Base class of meganet's regularizers; see the module docstring for the interface."""

    def __init__(self, useGPU=None, precision=None):
        first = next(iter(self._backendChildren()), None)
        if useGPU is None:
            useGPU = first.useGPU if first is not None else False
        if precision is None:
            precision = first.precision if first is not None else "double"
        self._useGPU = checkUseGPU(useGPU)
        self._precision = checkPrecision(precision)
        self._xrefCache = {}
        self._push()

    # ------------------------------------------------------------------ weight
    #: number of weights in ``alpha`` (None: the regularizer has no weight of its own)
    _alphaCount = None

    @property
    def alpha(self):
        """The weight (a float, or a tuple for two-term regularizers); validated, >= 0."""
        if self._alphaCount is None:
            raise AttributeError(f"{self._name()} has no weight alpha")
        return self._alpha

    @alpha.setter
    def alpha(self, value):
        if self._alphaCount is None:
            raise AttributeError(f"{self._name()} has no weight alpha")
        if isEmpty(value):     # Meganet.m's alpha = []: the default weight 1
            value = 1.0
        vals = checkAlpha(self._name(), value, self._alphaCount)
        self._alpha = vals[0] if self._alphaCount == 1 else vals

    # ------------------------------------------------------------------ backend
    def _backendChildren(self):
        return backendChildren(self)

    def _push(self):
        self._pushBackend()

    def _onBackendChange(self):
        self._pushBackend()

    # ------------------------------------------------------------------ helpers
    def _name(self):
        return type(self).__name__

    def nTheta(self):
        """Number of weights the regularizer acts on (None if any length is accepted)."""
        raise NotImplementedError

    def _checkX(self, x):
        name = self._name()
        if not isArray(x):
            raise TypeError(f"{name}: x must be an array (NumPy or device); got {type(x).__name__}")
        if x.dtype not in (numpy.float32, numpy.float64):
            raise TypeError(f"{name}: x must be float32 or float64; got dtype {x.dtype}")
        n = self.nTheta()
        if x.ndim != 1 or (n is not None and x.shape[0] != n):
            want = f"({n},)" if n is not None else "(n,)"
            raise ValueError(f"{name}: x must be a flat vector of shape {want} (nTheta = {n}, the "
                             f"size of the operator's domain); got shape {tuple(x.shape)}")

    def _setXref(self, xref):
        if isEmpty(xref):      # Meganet.m's xref = []: no reference, 0
            xref = 0.0
        if isArray(xref):
            host = numpy.asarray(toHost(xref), dtype=numpy.float64)
            n = self.nTheta()
            if host.ndim != 1 or (n is not None and host.shape[0] != n):
                raise ValueError(f"{self._name()}: xref must be a number or a flat vector of "
                                 f"nTheta = {n} entries; got shape {tuple(host.shape)}")
            self.xref = host
        else:
            try:
                self.xref = float(xref)
            except (TypeError, ValueError):
                raise ValueError(f"{self._name()}: xref must be a number or a flat vector; "
                                 f"got {xref!r}") from None
        self._xrefCache = {}

    def _u(self, x):
        """``x - xref`` on x's backend."""
        if not isinstance(self.xref, numpy.ndarray):
            return x - self.xref if self.xref != 0 else x
        if self.xref.shape != x.shape:
            raise ValueError(f"{self._name()}: xref has shape {self.xref.shape} but x has "
                             f"{tuple(x.shape)}")
        xp = getArrayModuleOf(x)
        key = (xp.__name__, x.dtype.str)
        if key not in self._xrefCache:
            r = self.xref.astype(x.dtype)
            self._xrefCache[key] = r if xp is numpy else xp.asarray(r)
        return x - self._xrefCache[key]

    @staticmethod
    def _para(x, *vals):
        xp = getArrayModuleOf(x)
        return xp.stack([xp.asarray(v, dtype=x.dtype).reshape(()) for v in vals])

    @staticmethod
    def _symOp(n, mv, x):
        """Symmetric LinearOperator on ``(n,)`` (inputs of shape ``(n,)``)."""
        def apply(v):
            if not isArray(v) or v.ndim != 1 or v.shape[0] != n:
                raise ValueError(f"regularizer Hessian: input must be a flat vector of shape ({n},); "
                                 f"got {tuple(getattr(v, 'shape', ())) or type(v).__name__}")
            return mv(v)
        return LinearOperator((n,), (n,), apply, apply, useGPU=isDeviceArray(x),
                              precision="single" if x.dtype == numpy.float32 else "double")

    # ------------------------------------------------------------------ interface
    def regularizer(self, x):
        """``(Sc, para, dS, d2S)`` at ``x``."""
        raise NotImplementedError

    def __call__(self, x):
        return self.regularizer(x)

    def hisNames(self):
        """``(names, formats)`` of the history columns."""
        return ["R", "alpha"], ["%-12.2e", "%-12.2e"]

    def hisVals(self, para):
        """History values (host) from ``para``."""
        return toHost(para).astype(numpy.float64)

    def __repr__(self):
        return f"{type(self).__name__}(nTheta={self.nTheta()})"
