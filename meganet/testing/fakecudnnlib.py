"""A stand-in for CuPy's low-level cuDNN bindings ``cupy.cuda.cudnn``, for the device-like backend.

Only what meganet's convolutions read from ``cupy.cuda.cudnn`` is here: the ``available``
flag (``False`` in CuPy when the cuDNN library cannot be loaded), the tensor-format
constants (cuDNN's values: ``CUDNN_TENSOR_NCHW = 0``, ``CUDNN_TENSOR_NHWC = 1``),
``getVersion()`` and the ``CuDNNError`` exception (a ``RuntimeError`` carrying the cuDNN
status). The convolutions themselves are in :mod:`meganet.testing.fakecudnn` (the
stand-in for ``cupyx.cudnn``); :data:`meganet.testing.fakedevice.cudnnModules` names
both.

Tests set ``available = False`` (with ``monkeypatch``) to run the device code as on a
CuPy without cuDNN (CuPy 14 and later, or no cuDNN library).
"""

__all__ = ["available", "getVersion", "CuDNNError", "CUDNN_TENSOR_NCHW", "CUDNN_TENSOR_NHWC",
           "CUDNN_STATUS_SUCCESS", "CUDNN_STATUS_BAD_PARAM", "CUDNN_STATUS_NOT_SUPPORTED"]

#: whether the (stand-in) cuDNN library is usable
available = True

CUDNN_TENSOR_NCHW = 0
CUDNN_TENSOR_NHWC = 1

CUDNN_STATUS_SUCCESS = 0
CUDNN_STATUS_BAD_PARAM = 3
CUDNN_STATUS_NOT_SUPPORTED = 9

_STATUS_NAMES = {CUDNN_STATUS_SUCCESS: "CUDNN_STATUS_SUCCESS",
                 CUDNN_STATUS_BAD_PARAM: "CUDNN_STATUS_BAD_PARAM",
                 CUDNN_STATUS_NOT_SUPPORTED: "CUDNN_STATUS_NOT_SUPPORTED"}

#: the version ``getVersion()`` reports (cuDNN's encoding: major 1000 + minor 100 + patch)
VERSION = 90000


class CuDNNError(RuntimeError):
    """A cuDNN call returned a status other than ``CUDNN_STATUS_SUCCESS``."""

    def __init__(self, status, detail=""):
        self.status = status
        name = _STATUS_NAMES.get(status, f"cuDNN status {status}")
        super().__init__(f"{name}: {detail}" if detail else name)


def getVersion():
    """The cuDNN version number (here :data:`VERSION`)."""
    return VERSION
