"""Array backend: maps ``useGPU`` / ``precision`` to an array module and a dtype.

All numerical code in meganet asks this module (or :func:`getArrayModule`) for the
array namespace ``xp`` instead of importing numpy directly, so the same code runs on
NumPy (CPU) and on CuPy (GPU).

``useGPU=True`` loads the device array module named by the environment variable
``MEGANET_DEVICE_MODULE`` (default ``"cupy"``). The test suite points it at
:mod:`meganet.testing.fakedevice`, a NumPy-backed module that behaves like CuPy in
the ways that matter for correctness (it refuses implicit conversion of its arrays
to NumPy and refuses to mix host and device arrays), so that host/device bugs are
caught on machines without a GPU. There is never a silent fallback to the CPU: if
the device module cannot be imported or reports no usable device, a
:class:`RuntimeError` says so.
"""
import importlib
import os

import numpy

__all__ = [
    "PRECISIONS", "checkPrecision", "checkUseGPU", "getArrayModule", "getDtype",
    "getArrayModuleOf", "isDeviceArray", "hasBackend", "backendChildren", "BackendMixin", "gpuVar", "toHost", "asArray",
    "resolveBackend", "inheritBackend",
]

PRECISIONS = {"single": numpy.float32, "double": numpy.float64}

DEVICE_MODULE_ENV = "MEGANET_DEVICE_MODULE"


def checkPrecision(precision):
    """Return ``precision`` if it is ``'single'`` or ``'double'``; raise otherwise."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(
            f"precision must be 'single' or 'double'; got {precision!r}")
    return precision


def checkUseGPU(useGPU):
    """Return ``useGPU`` as a bool; accepts True/False and 0/1 (as Meganet.m)."""
    if isinstance(useGPU, (bool, numpy.bool_)):
        return bool(useGPU)
    if isinstance(useGPU, (int, numpy.integer)) and useGPU in (0, 1):
        return bool(useGPU)
    raise ValueError(f"useGPU must be True/False (or 0/1); got {useGPU!r}")


def _deviceModuleName():
    return os.environ.get(DEVICE_MODULE_ENV, "cupy")


def _loadDeviceModule():
    name = _deviceModuleName()
    try:
        mod = importlib.import_module(name)
    except Exception as err:  # ImportError, CUDA driver errors, ...
        raise RuntimeError(
            f"useGPU=True needs the device array module {name!r}, which could not be "
            f"imported ({type(err).__name__}: {err}). Install the 'gpu' extra "
            "(pip install meganet[gpu]) on a machine with a CUDA device, or use useGPU=False."
        ) from err
    available = getattr(mod, "is_available", None)
    ok = False
    if callable(available):
        try:
            ok = bool(available())
        except Exception:  # pragma: no cover - depends on the driver
            ok = False
    if not ok:
        raise RuntimeError(
            f"useGPU=True but the device array module {name!r} reports no usable GPU. "
            "Use useGPU=False to compute on the CPU.")
    return mod


def getArrayModule(useGPU=False):
    """Return the array module (``numpy`` or the device module) for ``useGPU``."""
    if checkUseGPU(useGPU):
        return _loadDeviceModule()
    return numpy


def getDtype(precision="double"):
    """Return ``numpy.float32`` for ``'single'`` and ``numpy.float64`` for ``'double'``."""
    return PRECISIONS[checkPrecision(precision)]


def isDeviceArray(x):
    """True if ``x`` is an array of a device module (not a NumPy array)."""
    if isinstance(x, numpy.ndarray) or x is None:
        return False
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "get")


def getArrayModuleOf(*arrays):
    """Like ``cupy.get_array_module``: the module that owns the given arrays."""
    for a in arrays:
        if isDeviceArray(a):
            return _loadDeviceModule()
    return numpy


def toHost(x):
    """Return ``x`` as a NumPy array (explicit device-to-host copy when needed)."""
    if isDeviceArray(x):
        return x.get()
    return numpy.asarray(x)


def asArray(x, useGPU=False, precision="double"):
    """Return ``x`` on the requested backend with the requested precision (explicit transfer)."""
    xp = getArrayModule(useGPU)
    dtype = getDtype(precision)
    if checkUseGPU(useGPU):
        return xp.asarray(x, dtype=dtype)
    return numpy.asarray(toHost(x), dtype=dtype)


def hasBackend(obj):
    """True for objects (elements, operators) with settable ``useGPU``/``precision``."""
    cls = type(obj)
    return (not isinstance(obj, type) and isinstance(getattr(cls, "useGPU", None), property)
            and isinstance(getattr(cls, "precision", None), property))


def backendChildren(obj):
    """Elements and operators among ``obj``'s attributes (and inside list/tuple attributes)."""
    out = []
    for val in vars(obj).values():
        if isinstance(val, (list, tuple)):
            out.extend(v for v in val if hasBackend(v))
        elif hasBackend(val):
            out.append(val)
    return out


class BackendMixin:
    """``useGPU``/``precision`` properties shared by elements, operators and regularizers.

    The owner sets ``_useGPU``/``_precision`` in its constructor; assigning the properties
    validates the value and calls ``_onBackendChange()``. ``_pushBackend()`` hands the
    settings to the children found by :func:`backendChildren`.
    """

    @property
    def useGPU(self):
        """Whether to compute on the device array module (CuPy) instead of NumPy."""
        return self._useGPU

    @useGPU.setter
    def useGPU(self, value):
        self._useGPU = checkUseGPU(value)
        self._onBackendChange()

    @property
    def precision(self):
        """'single' or 'double'."""
        return self._precision

    @precision.setter
    def precision(self, value):
        self._precision = checkPrecision(value)
        self._onBackendChange()

    @property
    def dtype(self):
        """The floating point dtype for ``precision``."""
        return getDtype(self._precision)

    def _onBackendChange(self):
        """Hook: react to a change of ``useGPU`` or ``precision``."""

    def _pushBackend(self):
        for child in backendChildren(self):
            if child.useGPU != self._useGPU:
                child.useGPU = self._useGPU
            if child.precision != self._precision:
                child.precision = self._precision


def gpuVar(useGPU, precision, *arrays):
    """Move arrays to the backend/precision given (Meganet.m's ``gpuVar``).

    Elements (anything with ``useGPU``/``precision`` attributes) get those attributes
    set instead; ``None`` passes through. Returns one value for one input, else a tuple.
    """
    out = []
    for a in arrays:
        if a is None:
            out.append(None)
        elif hasBackend(a):
            if useGPU is not None:
                a.useGPU = useGPU
            if precision is not None:
                a.precision = precision
            out.append(a)
        else:
            out.append(asArray(a, useGPU=bool(useGPU),
                               precision=precision if precision is not None else "double"))
    return out[0] if len(out) == 1 else tuple(out)


def resolveBackend(useGPU, precision, children, owner):
    """Backend of a container: the given settings, else the children's, which must agree.

    Used by the blocks and networks (their children are peers). Returns ``(useGPU, precision)``.
    """
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


def inheritBackend(useGPU, precision, first):
    """Backend of a layer: the given settings, else those of its (first) kernel ``first``.

    Used by the kernel layers, whose other parts (biases, normalization layers) follow the
    kernel. Returns ``(useGPU, precision)``.
    """
    useGPU = first.useGPU if useGPU is None else checkUseGPU(useGPU)
    precision = first.precision if precision is None else checkPrecision(precision)
    return useGPU, precision
