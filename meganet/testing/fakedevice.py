"""A NumPy-backed array module that behaves like a device (CuPy-like) module.

Its purpose is to run the ``useGPU=True`` code paths on machines without a GPU and to
make host/device mixing bugs fail loudly, as they would on a real GPU:

* ``numpy.asarray(device_array)`` (and anything else that needs ``__array__``) raises
  ``TypeError``, like CuPy's "Implicit conversion to a NumPy array is not allowed".
* Mixing a device array with a ``numpy.ndarray`` in an operation or function call
  raises ``TypeError`` (CuPy refuses ``cupy_array + numpy_array``).
* Reductions return 0-d device arrays (as CuPy), not NumPy scalars.
* Explicit transfers are allowed: ``fakedevice.asarray(host)`` (host to device) and
  ``device_array.get()`` / ``fakedevice.asnumpy(device_array)`` (device to host).
* Inside :func:`transferLog` every transfer is recorded, and with
  ``forbidToHost=True`` every device-to-host transfer (``get``, ``asnumpy``,
  ``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``: on a GPU each one
  waits for the device) raises :class:`HostTransferError` where it happens. This is
  how the tests prove that code runs on the device without host round-trips.
* cuDNN: :data:`cudnnModules` names NumPy-backed stand-ins of CuPy's ``cupy.cuda.cudnn``
  and ``cupyx.cudnn`` (:mod:`meganet.testing.fakecudnnlib`,
  :mod:`meganet.testing.fakecudnn`), so the convolutions' cuDNN path runs here too.

Select it with ``MEGANET_DEVICE_MODULE=meganet.testing.fakedevice``; then
``useGPU=True`` elements compute through it.
"""
import contextlib
import sys
import traceback
import types

import numpy
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["ndarray", "asnumpy", "get_array_module", "is_available", "transferLog",
           "TransferLog", "HostTransferError", "cudnnModules"]

_ALLOW_HOST = {"asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray"}

#: the stand-ins of ``cupy.cuda.cudnn`` and ``cupyx.cudnn`` (low-level library, API)
cudnnModules = ("meganet.testing.fakecudnnlib", "meganet.testing.fakecudnn")

#: ndarray methods that copy to the host (proxied to NumPy by ``__getattr__``)
_TO_HOST_METHODS = {"item", "tolist", "tobytes", "tofile", "dump", "dumps"}


class DeviceMixingError(TypeError):
    """Raised when a host (NumPy) array meets a device array."""


def _hostError(where):
    return DeviceMixingError(
        f"{where}: a numpy.ndarray was mixed with device arrays; move it explicitly "
        "with xp.asarray(...) (as CuPy requires)")


class HostTransferError(Exception):
    """Raised inside ``transferLog(forbidToHost=True)`` when data leaves the device."""


class TransferLog:
    """The transfers recorded by :func:`transferLog`.

    Attributes
    ----------
    toHost, toDevice : list of str
        One entry per transfer: what transferred it (e.g. ``'ndarray.get'``,
        ``'float(ndarray)'``, ``'fakedevice.asarray'``) and the caller's source line.
    forbidToHost : bool
        Whether device-to-host transfers raise :class:`HostTransferError`.
    """

    def __init__(self, forbidToHost):
        self.forbidToHost = bool(forbidToHost)
        self.toHost = []
        self.toDevice = []


_logs = []


def _caller():
    """``file:line`` of the first frame outside this module."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if frame.filename != __file__:
            return f"{frame.filename}:{frame.lineno}"
    return "?"


def _recordTransfer(direction, what):
    """Record a transfer in the active logs; raise if a log forbids it."""
    if not _logs:
        return
    entry = f"{what} at {_caller()}"
    for log in _logs:
        getattr(log, direction).append(entry)
    if direction == "toHost" and any(log.forbidToHost for log in _logs):
        raise HostTransferError(
            f"device-to-host transfer inside transferLog(forbidToHost=True): {entry}")


@contextlib.contextmanager
def transferLog(forbidToHost=False):
    """Record the host/device transfers made inside the ``with`` block.

    Parameters
    ----------
    forbidToHost : bool
        Raise :class:`HostTransferError` at the first device-to-host transfer
        (``get``, ``asnumpy``, ``float``/``int``/``bool``/``complex`` of a device array,
        ``item``, ``tolist``, ...), with the offending source line in the message.

    Yields
    ------
    log : TransferLog
        ``log.toHost`` and ``log.toDevice`` list the transfers (host-to-device: a
        ``numpy.ndarray`` passed to ``asarray``/``array``/..., assigned into or used to
        index a device array).

    Examples
    --------
    >>> import numpy
    >>> from meganet.testing import fakedevice as fd
    >>> a = fd.asarray(numpy.arange(3.0))
    >>> with fd.transferLog() as log:
    ...     s = float(fd.sum(a))
    >>> len(log.toHost)
    1
    """
    log = TransferLog(forbidToHost)
    _logs.append(log)
    try:
        yield log
    finally:
        _logs.remove(log)


def _unwrap(obj, where, allowHost=False):
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, numpy.ndarray):
        if allowHost:
            _recordTransfer("toDevice", where)
            return obj
        raise _hostError(where)
    if isinstance(obj, (list, tuple)):
        vals = [_unwrap(o, where, allowHost) for o in obj]
        return type(obj)(vals) if isinstance(obj, tuple) else vals
    if isinstance(obj, dict):
        return {k: _unwrap(v, where, allowHost) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, numpy.ndarray):
        return ndarray(obj)
    if isinstance(obj, numpy.generic) and not isinstance(obj, (numpy.str_, numpy.bytes_)):
        return ndarray(numpy.asarray(obj))
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # namedtuple results (e.g. linalg.svd)
            return type(obj)(*[_wrap(o) for o in obj])
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class ndarray(NDArrayOperatorsMixin):
    """Device array: wraps a NumPy array and refuses implicit host conversion."""

    __slots__ = ("_a",)
    __array_priority__ = 1000

    def __init__(self, a):
        if not isinstance(a, numpy.ndarray):
            raise TypeError(f"fakedevice.ndarray wraps numpy.ndarray, got {type(a).__name__}")
        object.__setattr__(self, "_a", a)

    # -- explicit transfers ------------------------------------------------------------
    def get(self):
        """Copy to the host (as ``cupy.ndarray.get``)."""
        _recordTransfer("toHost", "ndarray.get")
        return self._a.copy()

    # -- refusal of implicit conversion ------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
            "to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"ufunc {ufunc.__name__}.{method}"
        raw = _unwrap(inputs, where)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], where)
        return _wrap(getattr(ufunc, method)(*raw, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        where = f"numpy.{func.__name__}"
        return _wrap(func(*_unwrap(args, where), **_unwrap(kwargs, where)))

    # -- basic attributes --------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))
    real = property(lambda self: _wrap(self._a.real))
    imag = property(lambda self: _wrap(self._a.imag))

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ & co.: no implicit conversion
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args, **kwargs):
                where = f"ndarray.{name}"
                if name in _TO_HOST_METHODS:
                    _recordTransfer("toHost", where)
                return _wrap(attr(*_unwrap(args, where), **_unwrap(kwargs, where)))
            return method
        return _wrap(attr)

    # -- indexing ----------------------------------------------------------------------
    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "ndarray.__getitem__", allowHost=True)])

    def __setitem__(self, key, value):
        # host -> device assignment is an explicit (allowed) transfer in CuPy
        self._a[_unwrap(key, "ndarray.__setitem__", allowHost=True)] = _unwrap(
            value, "ndarray.__setitem__", allowHost=True)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        for row in self._a:
            yield _wrap(row)

    # -- scalar conversion (synchronising, allowed for size-1 arrays as in CuPy) --------
    def __float__(self):
        _recordTransfer("toHost", "float(ndarray)")
        return float(self._a)

    def __int__(self):
        _recordTransfer("toHost", "int(ndarray)")
        return int(self._a)

    def __bool__(self):
        _recordTransfer("toHost", "bool(ndarray)")
        return bool(self._a)

    def __complex__(self):
        _recordTransfer("toHost", "complex(ndarray)")
        return complex(self._a)

    def __repr__(self):
        return "fakedevice." + repr(self._a)

    def __str__(self):
        return str(self._a)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (ndarray, (self._a.copy(),))


def asnumpy(a):
    """Copy a device array to the host (``cupy.asnumpy``)."""
    if isinstance(a, ndarray):
        _recordTransfer("toHost", "fakedevice.asnumpy")
        return a._a.copy()
    return numpy.asarray(a)


def get_array_module(*args):
    """``cupy.get_array_module``: this module if any argument is a device array."""
    for a in args:
        if isinstance(a, ndarray):
            return sys.modules[__name__]
    return numpy


def is_available():
    """The fake device is always available."""
    return True


def _wrapFunction(fn, name, allowHost):
    def wrapped(*args, **kwargs):
        where = f"fakedevice.{name}"
        res = fn(*_unwrap(args, where, allowHost), **_unwrap(kwargs, where, allowHost))
        return _wrap(res)
    wrapped.__name__ = name
    wrapped.__doc__ = getattr(fn, "__doc__", None)
    return wrapped


def _wrapAttribute(source, name, prefix=""):
    obj = getattr(source, name)
    if isinstance(obj, types.ModuleType):
        return _SubModule(obj, prefix + name + ".")
    if isinstance(obj, type) or not callable(obj):
        return obj  # dtypes, constants (pi, inf, newaxis), classes
    return _wrapFunction(obj, prefix + name, allowHost=(name in _ALLOW_HOST and not prefix))


class _SubModule:
    """Wraps numpy sub-modules (fft, linalg, random) in the same way."""

    def __init__(self, mod, prefix):
        self._mod = mod
        self._prefix = prefix

    def __getattr__(self, name):
        return _wrapAttribute(self._mod, name, self._prefix)


def __getattr__(name):  # PEP 562: every other numpy name, wrapped
    if name.startswith("__"):
        raise AttributeError(name)
    return _wrapAttribute(numpy, name)
