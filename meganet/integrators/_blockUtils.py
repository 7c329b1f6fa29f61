"""Shared pieces of the integrators: argument checks, backend inheritance, layer calls."""
import numbers

import numpy

from ..backend import checkPrecision, checkUseGPU, isDeviceArray

__all__ = []


def checkElement(obj, owner, name):
    """``obj`` must implement the element protocol."""
    needed = ("forwardProp", "JTmv", "Jmv", "nTheta", "sizeFeatIn", "sizeFeatOut", "initTheta")
    missing = [m for m in needed if not hasattr(obj, m)]
    if missing:
        raise TypeError(f"{owner}: {name} must be a meganet element (with {', '.join(needed)}); "
                        f"got {type(obj).__name__} without {', '.join(missing)}")
    return obj


def checkNt(nt, owner, name="nt"):
    """A number of time steps: an integer >= 1."""
    if isinstance(nt, bool) or not isinstance(nt, numbers.Integral) or int(nt) < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1; got {nt!r}")
    return int(nt)


def checkH(h, owner, name="h"):
    """A time step: a finite real number > 0."""
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not numpy.isfinite(h) or h <= 0:
        raise ValueError(f"{owner}: {name} must be a finite number > 0; got {h!r}")
    return float(h)


def checkSquareLayer(layer, owner, name="layer"):
    """A residual layer maps features to features of the same shape."""
    fi, fo = tuple(layer.sizeFeatIn()), tuple(layer.sizeFeatOut())
    if fi != fo:
        raise ValueError(f"{owner}: {name}.sizeFeatIn() must equal {name}.sizeFeatOut() "
                         f"(the step adds the layer's output to its input); got {fi} and {fo}")


def resolveBackend(useGPU, precision, children, owner):
    """Backend of a composite: the given settings, else the children's (which must agree)."""
    if useGPU is None:
        vals = {bool(c.useGPU) for c in children}
        if len(vals) > 1:
            raise ValueError(f"{owner}: the children disagree on useGPU ({sorted(vals)}); "
                             "pass useGPU=... explicitly to set it for all of them")
        useGPU = vals.pop() if vals else False
    else:
        useGPU = checkUseGPU(useGPU)
    if precision is None:
        vals = {c.precision for c in children}
        if len(vals) > 1:
            raise ValueError(f"{owner}: the children disagree on precision ({sorted(vals)}); "
                             "pass precision=... explicitly to set it for all of them")
        precision = vals.pop() if vals else "double"
    else:
        precision = checkPrecision(precision)
    return useGPU, precision


def layerForward(layer, theta, Y, doDerivative=True, storeInterm=None):
    """``layer.forwardProp(theta, Y)``, asking for its intermediates if ``storeInterm``.

    Layers with a ``storeInterm`` option (SingleLayer, DoubleLayer, DoubleSymLayer) return
    ``tmp = None`` unless it is set; the recomputing integrators evaluate a layer and its
    derivative at the same point right away, so they ask for the intermediates of this
    call (``storeInterm=True``) to avoid evaluating the layer twice. ``None`` leaves the
    layer's own setting.
    """
    if storeInterm is not None and hasattr(layer, "storeInterm"):
        return layer.forwardProp(theta, Y, doDerivative=doDerivative, storeInterm=storeInterm)
    return layer.forwardProp(theta, Y, doDerivative=doDerivative)


def checkState(el, where, name, X, shape, N=None):
    """Validate an array argument of the non-protocol methods (``inverse``)."""
    xp = el.xp
    if not isinstance(X, xp.ndarray):
        kind = "device (useGPU=True)" if el.useGPU else "numpy (useGPU=False)"
        got = "a device array" if isDeviceArray(X) else type(X).__name__
        raise TypeError(f"{where}: {name} must be a {kind} array; got {got}")
    if X.dtype != el.dtype:
        raise TypeError(f"{where}: {name} must have dtype {numpy.dtype(el.dtype).name} "
                        f"(precision={el.precision!r}); got {X.dtype}")
    shape = tuple(shape)
    if X.ndim != len(shape) + 1 or tuple(X.shape[1:]) != shape or (N is not None and X.shape[0] != N):
        raise ValueError(f"{where}: {name} must have shape ({N if N is not None else 'N'}, "
                         f"{', '.join(map(str, shape))}); got {tuple(X.shape)}")
    return X.shape[0]
