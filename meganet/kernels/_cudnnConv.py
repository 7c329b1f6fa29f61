"""Conv2D's device products through cuDNN (``cupyx.cudnn``) where the installed CuPy offers it (private).

Which engine runs the device convolutions
-----------------------------------------
Chosen once per process and device array module, on first use (:func:`convEngineInfo`
reports the choice):

* ``'cudnn'``: the device module offers cuDNN, i.e. CuPy's low-level bindings
  ``cupy.cuda.cudnn`` import and report ``available`` (CuPy 12 and 13 with the cuDNN
  library installed), and ``cupyx.cudnn`` imports. ``Conv2D``'s forward product, its
  transpose and its weight gradient then call ``convolution_forward``,
  ``convolution_backward_data`` and ``convolution_backward_filter``.
* ``'gemm'``: otherwise (CuPy 14 and later have no cuDNN; or no cuDNN library). The
  device runs ``Conv2D``'s matrix-product path (cuBLAS through CuPy's ``matmul``).

The environment variable ``MEGANET_CONV_ENGINE`` overrides the choice: ``'gemm'`` uses
the matrix products even where cuDNN is available (to compare the two on a GPU),
``'cudnn'`` makes a missing cuDNN an error, ``'auto'`` (the default) picks as above.

Layouts
-------
meganet's features are ``(N, H, W, C)`` (channels last), i.e. cuDNN's ``NHWC`` tensor
format, so the features go to cuDNN as they are (``d_layout=CUDNN_TENSOR_NHWC``). The
stencils ``K`` of shape ``(k1, k2, cin, cout)`` become a filter in cuDNN's ``NHWC``
filter format, shape ``(cout, k1, k2, cin)``: ``Wf = K.transpose(3, 0, 1, 2)``, a small
copy. There is no flip: cuDNN's convolution mode (``CUDNN_CROSS_CORRELATION``, the one
``cupyx.cudnn`` uses) is the cross-correlation ``Conv2D`` computes::

    Z[n, h, w, o] = sum_{i, j, c} K[i, j, c, o] Ypad[n, s h + i, s w + j, c]
                  = sum_{i, j, c} Wf[o, i, j, c] Ypad[n, s h + i, s w + j, c]

``convolution_backward_data`` with the same filter is the exact adjoint (``ATmv``; cuDNN
flips internally) and ``convolution_backward_filter`` returns ``dWf``, i.e.
``G = dWf.transpose(1, 2, 3, 0)`` (``JthetaTmv``). The padding ``((k1 - 1) / 2,
(k2 - 1) / 2)`` and the stride ``s`` give cuDNN's output size
``(H + 2 p1 - k1) // s + 1 = ceil(H / s)``, ``Conv2D``'s.

What stays on the matrix products
---------------------------------
The per-example weight gradient (``reduceDim=False``: cuDNN sums over the examples),
kernels built with ``algorithm='shifted'`` or ``'im2col'`` (an explicit request), and a
configuration cuDNN refuses: a ``RuntimeError`` from ``cupyx.cudnn`` (``CuDNNError``
such as ``CUDNN_STATUS_NOT_SUPPORTED``, or "No conv bwd filter algo available": CuPy's
own tests expect these for some NHWC backward products, e.g. float64 weight gradients,
depending on the cuDNN version). That configuration is recorded
(:func:`convEngineInfo`), a :class:`CudnnFallbackWarning` is issued once, and the matrix
products compute it from then on.

Options passed to cuDNN: ``auto_tune=False`` (cuDNN's heuristics choose the algorithm,
no benchmarking run per shape), ``deterministic=False`` (the fastest weight-gradient
algorithms may sum in a varying order), ``tensor_core='never'`` (meganet computes in
float32 or float64; on GPUs with TF32, cuDNN may still use TF32 for float32 unless
``NVIDIA_TF32_OVERRIDE=0`` is set).
"""
import importlib
import os
import warnings

import numpy

__all__ = ["convEngineInfo", "cudnnProduct", "CudnnFallbackWarning", "CONV_ENGINE_ENV"]

#: environment variable overriding the device engine: 'auto' (default), 'cudnn' or 'gemm'
CONV_ENGINE_ENV = "MEGANET_CONV_ENGINE"

#: (low-level bindings, convolution API) through which a device array module offers cuDNN;
#: other device modules may declare them as their attribute ``cudnnModules``
_CUDNN_MODULES = {"cupy": ("cupy.cuda.cudnn", "cupyx.cudnn")}

_AUTO_TUNE = False
_DETERMINISTIC = False
_TENSOR_CORE = "never"

#: the engine chosen per device array module (name -> _Engine), once per process
_ENGINES = {}


class CudnnFallbackWarning(RuntimeWarning):
    """cuDNN refused a convolution configuration; the matrix products compute it instead."""


class _Engine:
    """The convolution engine of one device array module and what it fell back on."""

    def __init__(self, xp):
        self.module = xp.__name__
        self.lib = self.api = None
        request = os.environ.get(CONV_ENGINE_ENV, "auto")
        if request not in ("auto", "cudnn", "gemm"):
            raise ValueError(f"{CONV_ENGINE_ENV} must be 'auto', 'cudnn' or 'gemm'; got {request!r}")
        if request == "gemm":
            self.detail = f"matrix products ({CONV_ENGINE_ENV}=gemm)"
        else:
            self.lib, self.api, self.detail = _probe(xp)
            if request == "cudnn" and self.api is None:
                raise RuntimeError(f"{CONV_ENGINE_ENV}=cudnn, but cuDNN cannot be used: {self.detail}")
        self.name = "gemm" if self.api is None else "cudnn"
        self.nhwc = None if self.lib is None else self.lib.CUDNN_TENSOR_NHWC
        self.fallbacks = {}          # configuration -> cuDNN's error message


def _probe(xp):
    """``(lib, api, detail)``: cuDNN's modules for the device module ``xp``, or ``None`` and why not."""
    names = getattr(xp, "cudnnModules", None) or _CUDNN_MODULES.get(xp.__name__)
    if names is None:
        return None, None, f"matrix products (the device module {xp.__name__!r} offers no cuDNN)"
    libName, apiName = names
    try:
        lib = importlib.import_module(libName)
    except ImportError as err:
        return None, None, (f"matrix products ({libName} cannot be imported: {err}; CuPy 14 and "
                            "later have no cuDNN)")
    if not getattr(lib, "available", False):
        return None, None, f"matrix products ({libName}.available is False: no cuDNN library)"
    try:
        api = importlib.import_module(apiName)
    except ImportError as err:
        return None, None, f"matrix products ({apiName} cannot be imported: {err})"
    return lib, api, f"cuDNN {lib.getVersion()} through {apiName} (NHWC features and filters)"


def _engine(xp):
    eng = _ENGINES.get(xp.__name__)
    if eng is None:
        eng = _ENGINES[xp.__name__] = _Engine(xp)
    return eng


def convEngineInfo(useGPU=True):
    """Which engine computes ``Conv2D``'s products, and why.

    Parameters
    ----------
    useGPU : bool
        ``True``: the device array module's engine (chosen once per process, see
        ``meganet/kernels/_cudnnConv.py``); ``False``: the host's.

    Returns
    -------
    info : dict
        ``'engine'``: ``'cudnn'`` or ``'gemm'`` (matrix products: BLAS on the host,
        cuBLAS on the device); ``'module'``: the array module's name; ``'detail'``: a
        sentence saying why; ``'fallbacks'``: the configurations cuDNN refused (computed
        with matrix products instead), each ``(product, input shape, stencil shape,
        stride, dtype) -> error``.

    Raises
    ------
    RuntimeError
        ``useGPU=True`` without a usable device array module (as every ``useGPU=True``
        call), or ``MEGANET_CONV_ENGINE=cudnn`` without a usable cuDNN.
    ValueError
        ``MEGANET_CONV_ENGINE`` is not ``'auto'``, ``'cudnn'`` or ``'gemm'``.

    Examples
    --------
    >>> import meganet as mg
    >>> mg.convEngineInfo(useGPU=False)['engine']
    'gemm'
    """
    from ..backend import getArrayModule
    xp = getArrayModule(useGPU)
    if xp is numpy:
        return {"engine": "gemm", "module": "numpy", "fallbacks": {},
                "detail": "matrix products through NumPy/SciPy's BLAS (meganet/kernels/_flatConv.py)"}
    eng = _engine(xp)
    return {"engine": eng.name, "module": eng.module, "detail": eng.detail,
            "fallbacks": dict(eng.fallbacks)}


def usesCudnn(conv):
    """Whether ``conv`` (a ``Conv2D``) computes its products through cuDNN."""
    xp = conv.xp
    return xp is not numpy and conv.algorithm == "auto" and _engine(xp).api is not None


# ---------------------------------------------------------------------- the products
def _filter(xp, K):
    """Stencils ``(k1, k2, cin, cout)`` -> cuDNN filter ``(cout, k1, k2, cin)`` (NHWC format)."""
    return xp.ascontiguousarray(K.transpose(3, 0, 1, 2))


def _forward(eng, conv, K, Y):
    xp = conv.xp
    Ho, Wo, cout = conv.nImgOut()
    Z = xp.empty((Y.shape[0], Ho, Wo, cout), dtype=Y.dtype)
    eng.api.convolution_forward(
        Y, _filter(xp, K), None, Z, conv.pad, (conv.stride,) * 2, (1, 1), 1,
        auto_tune=_AUTO_TUNE, tensor_core=_TENSOR_CORE, d_layout=eng.nhwc, w_layout=eng.nhwc)
    return Z


def _transpose(eng, conv, K, Z):
    xp = conv.xp
    dY = xp.empty((Z.shape[0],) + conv.nImgIn(), dtype=Z.dtype)
    eng.api.convolution_backward_data(
        _filter(xp, K), Z, None, dY, conv.pad, (conv.stride,) * 2, (1, 1), 1,
        deterministic=_DETERMINISTIC, auto_tune=_AUTO_TUNE, tensor_core=_TENSOR_CORE,
        d_layout=eng.nhwc, w_layout=eng.nhwc)
    return dY


def _filterGradient(eng, conv, W, Y):
    xp = conv.xp
    k1, k2, cin, cout = conv.sK
    dWf = xp.empty((cout, k1, k2, cin), dtype=Y.dtype)
    eng.api.convolution_backward_filter(
        Y, W, dWf, conv.pad, (conv.stride,) * 2, (1, 1), 1,
        deterministic=_DETERMINISTIC, auto_tune=_AUTO_TUNE, tensor_core=_TENSOR_CORE,
        d_layout=eng.nhwc, w_layout=eng.nhwc)
    return xp.ascontiguousarray(dWf.transpose(1, 2, 3, 0)).reshape(-1)


_PRODUCTS = {"Amv": _forward, "ATmv": _transpose, "JthetaTmv": _filterGradient}


def cudnnProduct(conv, product, A, B):
    """One of ``conv``'s products through cuDNN, or ``None`` if cuDNN does not compute it.

    Parameters
    ----------
    conv : Conv2D
    product : {'Amv', 'ATmv', 'JthetaTmv'}
        ``'Amv'``: ``A`` stencils ``(k1, k2, cin, cout)``, ``B`` images ``(N, H, W, cin)``
        -> ``(N, Ho, Wo, cout)``; ``'ATmv'``: ``A`` stencils, ``B`` ``(N, Ho, Wo, cout)``
        -> ``(N, H, W, cin)``; ``'JthetaTmv'``: ``A`` ``(N, Ho, Wo, cout)``, ``B`` images
        -> the stencil gradient summed over the examples, flat ``(k1 k2 cin cout,)``.
    A, B : device arrays

    Returns
    -------
    result : device array or None
        ``None`` when ``conv`` does not use cuDNN (host, ``'gemm'`` engine, an explicit
        ``algorithm``), for no examples (cuDNN refuses empty tensors) or when cuDNN refused
        this configuration; the caller then computes the product with matrix products.
    """
    if not usesCudnn(conv) or B.shape[0] == 0:
        return None
    eng = _engine(conv.xp)
    key = (product, tuple(B.shape), conv.sK, conv.stride, numpy.dtype(B.dtype).name)
    if key in eng.fallbacks:
        return None
    try:
        return _PRODUCTS[product](eng, conv, A, B)
    except RuntimeError as err:         # CuDNNError is one; so is "no algorithm available"
        eng.fallbacks[key] = str(err)
        warnings.warn(f"Conv2D: cuDNN refused {product} for input {key[1]}, stencils {conv.sK}, "
                      f"stride {conv.stride}, {key[4]} ({err}); computing this configuration "
                      "with matrix products from now on", CudnnFallbackWarning, stacklevel=3)
        return None
