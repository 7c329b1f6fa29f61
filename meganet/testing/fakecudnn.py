"""A NumPy stand-in for CuPy's ``cupyx.cudnn`` convolutions, on :mod:`meganet.testing.fakedevice` arrays.

The three functions have the signatures and the layout semantics of CuPy's (CuPy 12 and
13, ``cupyx/cudnn.pyx``)::

    convolution_forward(x, W, b, y, pad, stride, dilation, groups, *,
                        auto_tune, tensor_core, d_layout=NCHW, w_layout=NCHW)
    convolution_backward_data(W, x, b, y, pad, stride, dilation, groups, *,
                              deterministic, auto_tune, tensor_core, d_layout=NCHW, w_layout=NCHW)
    convolution_backward_filter(x, gy, gW, pad, stride, dilation, groups, *,
                                deterministic, auto_tune, tensor_core, d_layout=NCHW, w_layout=NCHW)

Each writes its result into the preallocated, C-contiguous output (``y``, ``y``, ``gW``)
and returns ``None``. cuDNN's convolution mode is cross-correlation: with data layout
``NHWC`` (``x`` of shape ``(N, H, W, C)``; ``NCHW``: ``(N, C, H, W)``) and filter layout
``NHWC`` (``W`` of shape ``(K, kh, kw, C)``; ``NCHW``: ``(K, C, kh, kw)``)::

    forward:          y[n, p, q, k]  = sum_{i, j, c} W[k, i, j, c] xpad[n, s0 p + i, s1 q + j, c]
    backward data:    y = the adjoint of the forward map applied to x (here x has the
                      output's shape and y the input's)
    backward filter:  gW[k, i, j, c] = sum_{n, p, q} xpad[n, s0 p + i, s1 q + j, c] gy[n, p, q, k]

with ``xpad`` the input padded by ``pad = (p0, p1)`` zeros on each side and the output
size ``(H + 2 p0 - kh) // s0 + 1`` by ``(W + 2 p1 - kw) // s1 + 1``. The products are
computed here by a route of their own (windows of the padded input and ``einsum``;
the adjoint by scattering into the padded input), not by meganet's ``Conv2D``, so that
comparing the two checks layouts and orientation.

As in cuDNN, a wrong shape or dtype combination raises
:class:`~meganet.testing.fakecudnnlib.CuDNNError` (``CUDNN_STATUS_BAD_PARAM``); a
non-contiguous output raises ``ValueError`` and host arrays ``TypeError`` (as CuPy).
Dilation other than 1 and groups other than 1 are not implemented here
(``NotImplementedError``); meganet does not use them.

Test aids: :data:`calls` counts the calls per function; setting :data:`refuse` to a
function ``refuse(name, dtype)`` makes the calls for which it returns ``True`` fail with
``CuDNNError`` (``CUDNN_STATUS_NOT_SUPPORTED``), as a cuDNN without a kernel for a
configuration does, and those for which it returns a string fail with a plain
``RuntimeError`` of that message (as CuPy's "No conv bwd filter algo available with
workspace size ...").
"""
import collections

import numpy
from numpy.lib.stride_tricks import sliding_window_view

from . import fakecudnnlib as lib
from .fakedevice import ndarray

__all__ = ["convolution_forward", "convolution_backward_data", "convolution_backward_filter",
           "calls", "refuse"]

#: number of calls per function name
calls = collections.Counter()

#: ``None`` or ``refuse(name, dtype)``: True or a message for the calls to refuse
refuse = None

_TENSOR_CORE = ("auto", "always", "never")


# ---------------------------------------------------------------------- argument checks
def _device(name, a, func):
    if not isinstance(a, ndarray):
        raise TypeError(f"{func}: argument '{name}' has incorrect type (expected "
                        f"cupy.ndarray, got {type(a).__name__})")
    if a.dtype.char not in "fd":
        raise TypeError(f"{func}: dtype {a.dtype} of '{name}' is not implemented by this "
                        "stand-in (float32 and float64 are)")
    if a.ndim != 4:
        raise NotImplementedError(f"{func}: only 4-D (2-D convolution) tensors are implemented "
                                  f"by this stand-in; '{name}' has shape {a.shape}")
    return numpy.ascontiguousarray(a._a)


def _output(name, a, func):
    _device(name, a, func)
    if not a._a.flags.c_contiguous:
        raise ValueError("cupyx.cudnn supports c-contiguous arrays only")
    return a._a


def _pair(name, v, func):
    if not isinstance(v, tuple):
        raise TypeError(f"{func}: argument '{name}' has incorrect type (expected tuple, "
                        f"got {type(v).__name__})")
    if len(v) != 2:
        raise lib.CuDNNError(lib.CUDNN_STATUS_BAD_PARAM, f"{func}: {name}={v!r} is not 2-D")
    return int(v[0]), int(v[1])


def _options(func, pad, stride, dilation, groups, tensor_core, d_layout, w_layout):
    pad = _pair("pad", pad, func)
    stride = _pair("stride", stride, func)
    if dilation is not None and _pair("dilation", dilation, func) != (1, 1):
        raise NotImplementedError(f"{func}: dilation {dilation} is not implemented by this stand-in")
    if groups != 1:
        raise NotImplementedError(f"{func}: groups={groups} is not implemented by this stand-in")
    if tensor_core not in _TENSOR_CORE:
        raise ValueError('tensor_code_mode must be either of "always", "auto", or "never".')
    for name, layout in (("d_layout", d_layout), ("w_layout", w_layout)):
        if layout not in (lib.CUDNN_TENSOR_NCHW, lib.CUDNN_TENSOR_NHWC):
            raise ValueError(f"unknown cudnnTensorFormat: {layout} ({name})")
    if min(pad) < 0 or min(stride) < 1:
        raise lib.CuDNNError(lib.CUDNN_STATUS_BAD_PARAM, f"{func}: pad={pad}, stride={stride}")
    return pad, stride


def _nhwc(a, layout):
    """A data tensor in NHWC order (a view)."""
    return a if layout == lib.CUDNN_TENSOR_NHWC else a.transpose(0, 2, 3, 1)


def _filterKHWC(a, layout):
    """A filter in (K, kh, kw, C) order (a view)."""
    return a if layout == lib.CUDNN_TENSOR_NHWC else a.transpose(0, 2, 3, 1)


def _checkShapes(func, x, w, y, pad, stride, dtypes):
    """``x`` (N, H, W, C), ``w`` (K, kh, kw, C), ``y`` (N, Ho, Wo, K), all NHWC views."""
    if len(set(dtypes)) != 1:
        raise lib.CuDNNError(lib.CUDNN_STATUS_BAD_PARAM, f"{func}: mixed dtypes {dtypes}")
    N, H, W, C = x.shape
    K, kh, kw, Cw = w.shape
    Ho = (H + 2 * pad[0] - kh) // stride[0] + 1
    Wo = (W + 2 * pad[1] - kw) // stride[1] + 1
    if Cw != C or y.shape != (N, Ho, Wo, K) or Ho < 1 or Wo < 1:
        raise lib.CuDNNError(
            lib.CUDNN_STATUS_BAD_PARAM,
            f"{func}: input (NHWC) {x.shape}, filter (K, kh, kw, C) {w.shape}, pad {pad}, "
            f"stride {stride} need an output (NHWC) {(N, Ho, Wo, K)}; got {y.shape}")


def _enter(func, dtype):
    calls[func] += 1
    answer = None if refuse is None else refuse(func, numpy.dtype(dtype))
    if isinstance(answer, str):
        raise RuntimeError(answer)
    if answer:
        raise lib.CuDNNError(lib.CUDNN_STATUS_NOT_SUPPORTED,
                             f"{func}: no kernel for this configuration ({numpy.dtype(dtype)})")


def _windows(x, kh, kw, pad, stride, Ho, Wo):
    """``(N, Ho, Wo, C, kh, kw)``: the window of every output pixel in the padded input."""
    xp = numpy.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)))
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))
    return win[:, ::stride[0], ::stride[1]][:, :Ho, :Wo]


def _setUp(func, named, out, pad, stride, dilation, groups, tensor_core, d_layout, w_layout):
    """Check a call's arguments; return ``(x, w, y, pad, stride)`` as NHWC / (K, kh, kw, C) views.

    ``named`` lists ``(argument name, array, role)`` with role ``'x'`` (input-shaped data),
    ``'w'`` (filter) or ``'y'`` (output-shaped data); ``out`` names the argument written to.
    """
    pad, stride = _options(func, pad, stride, dilation, groups, tensor_core, d_layout, w_layout)
    views, dtypes = {}, []
    for name, a, role in named:
        raw = _output(name, a, func) if name == out else _device(name, a, func)
        views[role] = _filterKHWC(raw, w_layout) if role == "w" else _nhwc(raw, d_layout)
        dtypes.append(raw.dtype)
    _checkShapes(func, views["x"], views["w"], views["y"], pad, stride, dtypes)
    _enter(func, dtypes[0])
    return views["x"], views["w"], views["y"], pad, stride


def _withBias(res, b, func):
    if b is None:
        return res
    return res + _device("b", b.reshape(1, 1, 1, -1), func).reshape(-1)


# ---------------------------------------------------------------------- the three products
def convolution_forward(x, W, b, y, pad, stride, dilation, groups, *, auto_tune, tensor_core,
                        d_layout=lib.CUDNN_TENSOR_NCHW, w_layout=lib.CUDNN_TENSOR_NCHW):
    """``y = conv(W, x) (+ b)``, written into ``y`` (see the module docstring)."""
    func = "convolution_forward"
    xv, wv, yv, pad, stride = _setUp(func, (("x", x, "x"), ("W", W, "w"), ("y", y, "y")), "y",
                                     pad, stride, dilation, groups, tensor_core, d_layout, w_layout)
    K, kh, kw, _ = wv.shape
    win = _windows(xv, kh, kw, pad, stride, yv.shape[1], yv.shape[2])
    yv[...] = _withBias(numpy.einsum("npqcij,kijc->npqk", win, wv), b, func)


def convolution_backward_data(W, x, b, y, pad, stride, dilation, groups, *, deterministic,
                              auto_tune, tensor_core, d_layout=lib.CUDNN_TENSOR_NCHW,
                              w_layout=lib.CUDNN_TENSOR_NCHW):
    """``y = conv(W, .)^T x (+ b)``, written into ``y`` (``x``: output-shaped, ``y``: input-shaped)."""
    func = "convolution_backward_data"
    gx, wv, gy, pad, stride = _setUp(func, (("W", W, "w"), ("x", x, "y"), ("y", y, "x")), "y",
                                     pad, stride, dilation, groups, tensor_core, d_layout, w_layout)
    N, H, Wd, C = gx.shape
    K, kh, kw, _ = wv.shape
    Ho, Wo = gy.shape[1:3]
    gpad = numpy.zeros((N, H + 2 * pad[0], Wd + 2 * pad[1], C), dtype=gx.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride[0] * (Ho - 1) + 1, stride[0])
            cols = slice(j, j + stride[1] * (Wo - 1) + 1, stride[1])
            gpad[:, rows, cols, :] += numpy.einsum("npqk,kc->npqc", gy, wv[:, i, j, :])
    gx[...] = _withBias(gpad[:, pad[0]:pad[0] + H, pad[1]:pad[1] + Wd, :], b, func)


def convolution_backward_filter(x, gy, gW, pad, stride, dilation, groups, *, deterministic,
                                auto_tune, tensor_core, d_layout=lib.CUDNN_TENSOR_NCHW,
                                w_layout=lib.CUDNN_TENSOR_NCHW):
    """``gW = d<gy, conv(W, x)>/dW``, written into ``gW`` (see the module docstring)."""
    func = "convolution_backward_filter"
    xv, wv, gv, pad, stride = _setUp(func, (("x", x, "x"), ("gy", gy, "y"), ("gW", gW, "w")), "gW",
                                     pad, stride, dilation, groups, tensor_core, d_layout, w_layout)
    K, kh, kw, _ = wv.shape
    win = _windows(xv, kh, kw, pad, stride, gv.shape[1], gv.shape[2])
    wv[...] = numpy.einsum("npqcij,npqk->kijc", win, gv)
