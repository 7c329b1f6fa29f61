"""Projection onto a box (Meganet.m's ``projBound``)."""
import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost

__all__ = ["projBound", "ProjBound"]


def _bound(b, x, name, owner):
    """``b`` as a scalar or an array on the backend/dtype of ``x`` with ``x``'s shape."""
    if numpy.isscalar(b) or (hasattr(b, "shape") and b.shape == ()):
        return float(b)
    xp = getArrayModuleOf(x)
    if tuple(b.shape) != tuple(x.shape):
        raise ValueError(f"{owner}: {name} must be a scalar or have the shape of x {tuple(x.shape)}; "
                         f"got shape {tuple(b.shape)}")
    if isDeviceArray(x) and not isDeviceArray(b):
        return xp.asarray(b, dtype=x.dtype)
    if not isDeviceArray(x) and isDeviceArray(b):
        return toHost(b).astype(x.dtype)
    return b.astype(x.dtype, copy=False)


def projBound(xc, xlow, xhigh):
    """Project ``xc`` onto the box ``xlow <= x <= xhigh`` (entry-wise).

    Parameters
    ----------
    xc : array
    xlow, xhigh : float or array of the shape of ``xc``
        Bounds (``-inf``/``inf`` allowed); arrays on the host are moved to the backend
        of ``xc``.

    Returns
    -------
    array : ``min(max(xc, xlow), xhigh)``, same shape, dtype and backend as ``xc``.
    """
    xp = getArrayModuleOf(xc)
    lo = _bound(xlow, xc, "xlow", "projBound")
    hi = _bound(xhigh, xc, "xhigh", "projBound")
    return xp.minimum(xp.maximum(xc, lo), hi)


class ProjBound:
    """The box projection as a callable ``x -> P(x)``, e.g. ``SGD(P=ProjBound(-1, 1))``.

    The default box ``|x_i| <= 1`` is the constraint on the weights used for training in
    Ruthotto & Haber, "Deep Neural Networks Motivated by Partial Differential Equations".

    Parameters
    ----------
    low, up : float or 1-D array, default -1 and 1
        Lower and upper bounds, scalars or one per entry of ``x`` (``-inf``/``inf``
        allowed); ``low <= up`` is required.
    """

    def __init__(self, low=-1.0, up=1.0):
        self.low = self._check(low, "low")
        self.up = self._check(up, "up")
        lo, hi = self._host(self.low), self._host(self.up)
        if numpy.any(numpy.asarray(lo) > numpy.asarray(hi)):
            raise ValueError("ProjBound: need low <= up entry-wise; got "
                             f"low={lo if numpy.ndim(lo) == 0 else '(array)'}, "
                             f"up={hi if numpy.ndim(hi) == 0 else '(array)'}")
        self._cache = {}

    @staticmethod
    def _check(b, name):
        if isinstance(b, (bool, numpy.bool_)):
            raise TypeError(f"ProjBound: {name} must be a number or a 1-D array; got {b!r}")
        if numpy.isscalar(b):
            v = float(b)
            if numpy.isnan(v):
                raise ValueError(f"ProjBound: {name} must not be NaN")
            return v
        if not hasattr(b, "shape") or len(b.shape) != 1:
            raise ValueError(f"ProjBound: {name} must be a number or a 1-D array; got "
                             f"{getattr(b, 'shape', type(b).__name__)}")
        if numpy.any(numpy.isnan(toHost(b))):
            raise ValueError(f"ProjBound: {name} must not contain NaN")
        return b

    @staticmethod
    def _host(b):
        return b if numpy.isscalar(b) else toHost(b)

    def _on(self, b, x, name):
        if numpy.isscalar(b):
            return b
        key = (name, isDeviceArray(x), str(x.dtype))
        if key not in self._cache or tuple(b.shape) != tuple(x.shape):
            self._cache[key] = _bound(b, x, name, "ProjBound")   # checks the shape
        return self._cache[key]

    def __call__(self, x):
        xp = getArrayModuleOf(x)
        return xp.minimum(xp.maximum(x, self._on(self.low, x, "low")), self._on(self.up, x, "up"))

    def __repr__(self):
        def show(b):
            return repr(b) if numpy.isscalar(b) else f"array(shape={tuple(b.shape)})"
        return f"ProjBound(low={show(self.low)}, up={show(self.up)})"
