"""Argument validation shared by every sub-package, and the switch that turns it off.

One function per check, one name per meaning. Each raises ``TypeError`` (wrong kind of
object) or ``ValueError`` (right kind, wrong value) with a message
``"{owner}: {name} must be {expected}; got {value!r}"`` that names the class or function
(``owner``), the argument (``name``), what was expected and what was given. Callers may
phrase ``expected`` themselves (``expected="a finite positive number"``) where their
documentation words it so.

Validation of the element protocol (``forwardProp``, ``Jmv``, ``JTmv``, ...) happens once,
where user code calls in: an element calling its children does not validate again (see
:mod:`meganet.element`). Users who want no validation at all turn it off::

    import meganet as mg
    mg.setValidation(False)          # process-wide; returns the previous setting
    with mg.validation(False):       # or only inside a block
        Z, tmp = net.forwardProp(theta, Y)

Checks of constructor arguments and options are always on (they run once per object).
"""
import contextlib
import math
import numbers
import threading

import numpy

from .backend import isDeviceArray

__all__ = ["setValidation", "getValidation", "validation"]


# ---------------------------------------------------------------------- the switch
class _ValidationState(threading.local):
    """Whether protocol calls validate (process-wide) and the protocol-call depth (per thread)."""

    depth = 0


_state = _ValidationState()
_enabled = [True]


def setValidation(flag):
    """Turn the validation of protocol-method arguments on or off; return the previous setting.

    Parameters
    ----------
    flag : bool
        True (default of the package): public protocol calls check their array
        arguments (backend, dtype, shape, finite ``theta`` on the host; on the device that
        check would cost a host round-trip per call and is left to the optimizers' checks
        of the objective and gradient). False: no checks.

    Returns
    -------
    bool
        The setting before the call.
    """
    previous = _enabled[0]
    _enabled[0] = checkBool("setValidation", "flag", flag)
    return previous


def getValidation():
    """True if protocol-method arguments are validated (see :func:`setValidation`)."""
    return _enabled[0]


@contextlib.contextmanager
def validation(flag):
    """Context manager: validation on (``True``) or off (``False``) inside the block."""
    previous = setValidation(flag)
    try:
        yield
    finally:
        setValidation(previous)


def enterProtocolCall():
    """True if this call is at the boundary (not nested in another protocol call) and
    validation is on; increments the call depth (pair with :func:`exitProtocolCall`)."""
    outer = _state.depth == 0
    _state.depth += 1
    return outer and _enabled[0]


def exitProtocolCall():
    _state.depth -= 1


# ---------------------------------------------------------------------- kinds
def isInt(v):
    """True for Python and NumPy integers (not bools)."""
    return isinstance(v, (numbers.Integral, numpy.integer)) and not isinstance(v, (bool, numpy.bool_))


def isArray(x):
    """True for NumPy arrays and device (CuPy-like) arrays."""
    return isinstance(x, numpy.ndarray) or isDeviceArray(x)


# ---------------------------------------------------------------------- scalars
def checkBool(owner, name, value):
    """``value`` (bool or 0/1) as a bool."""
    if isinstance(value, (bool, numpy.bool_)) or (isInt(value) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{owner}: {name} must be True/False (or 0/1); got {value!r}")


def checkInt(owner, name, value, low=None, allowInf=False, integralFloat=False, expected=None):
    """``value`` as an int ``>= low`` (or ``inf`` if ``allowInf``).

    ``integralFloat`` also accepts floats with an integer value (``1e3``), as MATLAB-style
    option values.
    """
    if allowInf and isinstance(value, (float, numpy.floating)) and value == math.inf:
        return math.inf
    ok = isInt(value)
    if not ok and integralFloat and isinstance(value, (float, numpy.floating)) \
            and math.isfinite(value) and float(value).is_integer():
        value, ok = int(value), True
    if not ok or (low is not None and value < low):
        if expected is None:
            expected = f"an integer >= {low}" if low is not None else "an integer"
            if allowInf:
                expected += " (or inf)"
        raise ValueError(f"{owner}: {name} must be {expected}; got {value!r}")
    return int(value)


def checkFloat(owner, name, value, low=None, high=None, lowOpen=False, highOpen=False,
               allowInf=False, expected=None):
    """``value`` (a real number, not a bool or string) as a float in the given interval."""
    try:
        v = float(value)
        ok = not isinstance(value, (bool, numpy.bool_, str))
    except (TypeError, ValueError):
        ok = False
    if ok:
        if math.isnan(v) or (math.isinf(v) and not allowInf):
            ok = False
        elif low is not None and (v < low or (lowOpen and v == low)):
            ok = False
        elif high is not None and (v > high or (highOpen and v == high)):
            ok = False
    if not ok:
        if expected is None:
            lo = "" if low is None else ("(" if lowOpen else "[") + f"{low}"
            hi = "" if high is None else f"{high}" + (")" if highOpen else "]")
            rng = f" in {lo}, {hi}" if (low is not None and high is not None) else (
                f" {'>' if lowOpen else '>='} {low}" if low is not None else (
                    f" {'<' if highOpen else '<='} {high}" if high is not None else ""))
            expected = f"a {'' if allowInf else 'finite '}number{rng}"
        raise ValueError(f"{owner}: {name} must be {expected}; got {value!r}")
    return v


def checkCallable(owner, name, value):
    """``value`` must be callable."""
    if not callable(value):
        raise TypeError(f"{owner}: {name} must be callable; got {type(value).__name__}")
    return value


def checkShape(owner, name, value, minDims=1, maxDims=None):
    """``value`` (an int or a sequence of ints) as a tuple of positive ints."""
    if isInt(value):
        value = (value,)
    try:
        shape = tuple(value)
    except TypeError:
        shape = None
    ok = shape is not None and all(isInt(v) and v >= 1 for v in shape)
    ok = ok and len(shape) >= minDims and (maxDims is None or len(shape) <= maxDims)
    if not ok:
        dims = f"{minDims}" if maxDims == minDims else (
            f"{minDims} to {maxDims}" if maxDims else f"at least {minDims}")
        raise ValueError(f"{owner}: {name} must be {dims} positive integer(s); got {value!r}")
    return tuple(int(v) for v in shape)


def checkNData(owner, nData, minDims=1):
    """``nData`` as a tuple of positive ints (an int ``n`` means ``(n,)``)."""
    vals = (nData,) if isInt(nData) else nData
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if vals is None or len(vals) < minDims or not all(isInt(v) and v >= 1 for v in vals):
        what = ("a tuple of positive ints (the feature shape of one example, channels last), "
                "e.g. (H, W, C), (nPix, C) or (n,)")
        if minDims > 1:
            what = (f"a tuple of at least {minDims} positive ints (the feature shape of one "
                    "example with at least one pixel axis, channels last), e.g. (H, W, C) or (nPix, C)")
        raise ValueError(f"{owner}: nData must be {what}; got {nData!r}")
    return tuple(int(v) for v in vals)


def checkFlags(owner, name, value, n=3):
    """A flag vector of length ``n`` (entries bool or 0/1), returned as a tuple of bools."""
    try:
        vals = tuple(numpy.asarray(value).reshape(-1).tolist()) if not isinstance(value, str) else None
    except (TypeError, ValueError):
        vals = None
    if vals is None or len(vals) != n or not all(
            isinstance(v, bool) or (isInt(v) and v in (0, 1)) for v in vals):
        raise ValueError(f"{owner}: {name} must be {n} flags (0/1 or bool) in the order "
                         f"(pixels, channels, examples); got {value!r}")
    return tuple(bool(v) for v in vals)


# ---------------------------------------------------------------------- arrays
def fmtShape(shape):
    """``shape`` printed as a tuple (``(3,)``, ``(2, 4)``)."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def checkVector(owner, x, name="x0"):
    """``x`` must be a flat 1-D floating array (NumPy or device)."""
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(f"{owner}: {name} must be a 1-D array; got {type(x).__name__}")
    if len(shape) != 1:
        raise ValueError(f"{owner}: {name} must be a flat 1-D array; got shape {tuple(shape)}")
    if not numpy.issubdtype(numpy.dtype(dtype), numpy.floating):
        raise TypeError(f"{owner}: {name} must have a floating dtype; got {dtype}")
    return x


def checkBackendArray(where, name, v, owner):
    """``v`` must be an array of ``owner``'s backend (``owner.xp``) with ``owner.dtype``."""
    if not isinstance(v, owner.xp.ndarray):
        kind = "device (useGPU=True)" if owner.useGPU else "numpy (useGPU=False)"
        got = "a device array" if isDeviceArray(v) else type(v).__name__
        raise TypeError(f"{where}: {name} must be a {kind} array; got {got}")
    if v.dtype != owner.dtype:
        raise TypeError(f"{where}: {name} must have dtype {numpy.dtype(owner.dtype).name} "
                        f"(precision={owner.precision!r}); got {v.dtype}")
    return v


def checkFeatures(where, name, v, owner, featShape, N=None, which=None):
    """``v``: a backend array of shape ``(N, *featShape)``; returns ``N``.

    ``which`` names where ``featShape`` comes from (e.g. ``"sizeFeatIn"``) in the message.
    """
    checkBackendArray(where, name, v, owner)
    feat = tuple(featShape)
    if v.ndim != len(feat) + 1 or tuple(v.shape[1:]) != feat or (N is not None and v.shape[0] != N):
        lead = f"(N,) + {which}() = " if which else ""
        raise ValueError(f"{where}: {name} must have shape {lead}"
                         f"({N if N is not None else 'N'}, {', '.join(map(str, feat))}); "
                         f"got {fmtShape(v.shape)}")
    return v.shape[0]


# ---------------------------------------------------------------------- elements
_ELEMENT_METHODS = ("forwardProp", "JTmv", "Jmv", "nTheta", "sizeFeatIn", "sizeFeatOut", "initTheta")


def checkElement(owner, name, obj):
    """``obj`` must implement the element protocol."""
    missing = [m for m in _ELEMENT_METHODS if not hasattr(obj, m)]
    if missing:
        raise TypeError(f"{owner}: {name} must be a meganet element (with "
                        f"{', '.join(_ELEMENT_METHODS)}); got {type(obj).__name__} without "
                        f"{', '.join(missing)}")
    return obj
