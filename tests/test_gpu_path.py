"""The device path without a GPU: Conv2D through (stand-in) cuDNN, and no host round-trips.

The device-like backend (:mod:`meganet.testing.fakedevice`) names NumPy stand-ins of
CuPy's ``cupy.cuda.cudnn`` and ``cupyx.cudnn`` (:mod:`meganet.testing.fakecudnnlib`,
:mod:`meganet.testing.fakecudnn`), which compute the convolutions by a route of their
own; comparing them with the host ``Conv2D`` checks the dispatch, the NHWC layouts and
the orientation of the stencils.
"""
import warnings

import numpy as np
import pytest

import meganet as mg
from meganet.kernels import _cudnnConv
from meganet.testing import fakecudnn, fakecudnnlib
from meganet.testing import fakedevice as fd
from helpers import assertElementDerivatives
from test_conv2d import CONFIGS   # 1x1, 3x3, 3x5, 5x3 stencils, cin != cout, strides 1 to 3


@pytest.fixture
def fresh(device, monkeypatch):
    """The device-like backend with the engine choice not yet made (as in a new process)."""
    monkeypatch.setattr(_cudnnConv, "_ENGINES", {})
    monkeypatch.delenv(_cudnnConv.CONV_ENGINE_ENV, raising=False)
    monkeypatch.setattr(fakecudnn, "refuse", None)


def products(K, th, Y, W):
    """Host arrays of ``K``'s forward product, transpose and weight gradient."""
    return [mg.toHost(v) for v in (K.Amv(th, Y), K.ATmv(th, W), K.JthetaTmv(W, th, Y))]


def pair(nImg, sK, stride, precision, rng):
    """A host and a device Conv2D and the same data ``(th, Y, W)`` for both."""
    host = mg.Conv2D(nImg, sK, stride=stride, precision=precision)
    dev = mg.Conv2D(nImg, sK, stride=stride, precision=precision, useGPU=True)
    dtype = host.dtype
    th = rng.standard_normal(host.nTheta()).astype(dtype)
    Y = rng.standard_normal((3,) + host.nImgIn()).astype(dtype)
    W = rng.standard_normal((3,) + host.nImgOut()).astype(dtype)
    return host, dev, (th, Y, W), tuple(mg.asArray(v, True, precision) for v in (th, Y, W))




# ---------------------------------------------------------------------- the choice
def test_engine_chosen_once_and_reported(fresh):
    info = mg.convEngineInfo(useGPU=True)
    assert info["engine"] == "cudnn" and info["module"] == "meganet.testing.fakedevice"
    assert "meganet.testing.fakecudnn" in info["detail"] and info["fallbacks"] == {}
    assert mg.Conv2D((4, 4), (3, 3, 2, 2), useGPU=True).engine == "cudnn"
    assert mg.Conv2D((4, 4), (3, 3, 2, 2)).engine == "gemm"
    # an explicit algorithm is honoured on the device
    assert mg.Conv2D((4, 4), (3, 3, 2, 2), algorithm="shifted", useGPU=True).engine == "gemm"
    assert mg.convEngineInfo(useGPU=False)["engine"] == "gemm"
    # chosen once per process: later changes of the library do not switch engines
    fakecudnnlib.available = False
    try:
        assert mg.convEngineInfo(useGPU=True)["engine"] == "cudnn"
    finally:
        fakecudnnlib.available = True


def test_without_cudnn_the_matrix_products_run(fresh, monkeypatch, rng):
    monkeypatch.setattr(fakecudnnlib, "available", False)
    info = mg.convEngineInfo(useGPU=True)
    assert info["engine"] == "gemm" and "available is False" in info["detail"]
    host, dev, data, ddata = pair((6, 5), (3, 3, 2, 3), 1, "double", rng)
    assert dev.engine == "gemm"
    before = sum(fakecudnn.calls.values())
    for a, b in zip(products(host, *data), products(dev, *ddata)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    assert sum(fakecudnn.calls.values()) == before


def test_engine_override_and_probe_reasons(fresh, monkeypatch):
    monkeypatch.setenv(_cudnnConv.CONV_ENGINE_ENV, "gemm")
    assert mg.convEngineInfo(useGPU=True)["engine"] == "gemm"
    assert mg.Conv2D((4, 4), (3, 3, 2, 2), useGPU=True).engine == "gemm"
    monkeypatch.setattr(_cudnnConv, "_ENGINES", {})
    monkeypatch.setenv(_cudnnConv.CONV_ENGINE_ENV, "cudnn")
    monkeypatch.setattr(fakecudnnlib, "available", False)
    with pytest.raises(RuntimeError, match="MEGANET_CONV_ENGINE=cudnn, but cuDNN cannot be used"):
        mg.convEngineInfo(useGPU=True)
    monkeypatch.setenv(_cudnnConv.CONV_ENGINE_ENV, "fast")
    with pytest.raises(ValueError, match="must be 'auto', 'cudnn' or 'gemm'; got 'fast'"):
        mg.convEngineInfo(useGPU=True)

    class Module:
        __name__ = "otherdevice"
    assert "offers no cuDNN" in _cudnnConv._probe(Module())[2]
    Module.cudnnModules = ("meganet_no_such_cudnn_lib", "meganet_no_such_cudnn_api")
    lib, api, detail = _cudnnConv._probe(Module())
    assert lib is None and api is None and "cannot be imported" in detail


# ---------------------------------------------------------------------- numbers
@pytest.mark.parametrize("precision,tol", [("double", 1e-12), ("single", 2e-5)])
@pytest.mark.parametrize("nImg,sK,stride", CONFIGS)
def test_cudnn_products_match_host(fresh, nImg, sK, stride, precision, tol, rng):
    host, dev, data, ddata = pair(nImg, sK, stride, precision, rng)
    assert dev.engine == "cudnn"
    before = fakecudnn.calls.copy()
    got = products(dev, *ddata)
    for name in ("convolution_forward", "convolution_backward_data", "convolution_backward_filter"):
        assert fakecudnn.calls[name] == before[name] + 1, name
    for what, a, b in zip(("Amv", "ATmv", "JthetaTmv"), products(host, *data), got):
        assert b.dtype == host.dtype and b.shape == a.shape, what
        scale = np.abs(a).max()
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * scale, err_msg=what)


@pytest.mark.parametrize("nImg,sK,stride", CONFIGS[:5])
def test_cudnn_derivatives(fresh, nImg, sK, stride):
    K = mg.Conv2D(nImg, sK, stride=stride, useGPU=True)
    before = sum(fakecudnn.calls.values())
    assertElementDerivatives(K, nEx=3)
    th = K.initTheta(rng=0)
    for op in (K.getOp(th), K.getJthetaOp(th, mg.asArray(np.ones((2,) + K.nImgIn()), True))):
        ok, err = mg.checkAdjoint(op, rng=1, tol=1e-13)
        assert ok, err
    assert sum(fakecudnn.calls.values()) > before


def test_layer_derivatives_through_cudnn(fresh):
    K = mg.Conv2D((6, 5), (3, 3, 3, 4), useGPU=True)
    nL = mg.InstNormLayer((6, 5, 4), isWeight=True, useGPU=True)
    layer = mg.DoubleSymLayer(K, activation=mg.tanhActivation, normLayer1=nL)
    before = fakecudnn.calls.copy()
    assertElementDerivatives(mg.ResNN(layer, 2, 0.5), nEx=2)
    for name in ("convolution_forward", "convolution_backward_data", "convolution_backward_filter"):
        assert fakecudnn.calls[name] > before[name], name


def test_per_example_gradient_on_the_device(fresh, rng):
    host, dev, (th, Y, W), (dth, dY, dW) = pair((5, 6), (3, 3, 2, 3), 1, "double", rng)
    np.testing.assert_allclose(mg.toHost(dev.JthetaTmv(dW, dth, dY, reduceDim=False)),
                               host.JthetaTmv(W, th, Y, reduceDim=False), rtol=1e-12, atol=1e-12)


def test_no_examples_skip_cudnn(fresh):
    K = mg.Conv2D((4, 4), (3, 3, 2, 3), useGPU=True)
    th = K.initTheta(rng=0)
    Y, W = (mg.asArray(np.zeros((0, 4, 4, c)), True) for c in (2, 3))
    before = sum(fakecudnn.calls.values())
    assert K.Amv(th, Y).shape == (0, 4, 4, 3) and K.ATmv(th, W).shape == (0, 4, 4, 2)
    np.testing.assert_array_equal(mg.toHost(K.JthetaTmv(W, th, Y)), np.zeros(54))
    assert sum(fakecudnn.calls.values()) == before


@pytest.mark.parametrize("answer,message", [
    (True, "CUDNN_STATUS_NOT_SUPPORTED"),
    ("No conv bwd filter algo available with workspace size less equal 0", "No conv bwd filter algo")])
def test_refused_configuration_falls_back_once(fresh, monkeypatch, rng, answer, message):
    monkeypatch.setattr(fakecudnn, "refuse", lambda name, dtype: (
        answer if name == "convolution_backward_filter" and dtype == np.float64 else False))
    host, dev, data, ddata = pair((6, 5), (3, 3, 2, 3), 1, "double", rng)
    with pytest.warns(_cudnnConv.CudnnFallbackWarning, match="cuDNN refused JthetaTmv"):
        G = dev.JthetaTmv(ddata[2], ddata[0], ddata[1])
    np.testing.assert_allclose(mg.toHost(G), host.JthetaTmv(data[2], data[0], data[1]),
                               rtol=1e-12, atol=1e-12)
    (key, msg), = mg.convEngineInfo(useGPU=True)["fallbacks"].items()
    assert key == ("JthetaTmv", (3, 6, 5, 2), (3, 3, 2, 3), 1, "float64")
    assert message in msg
    before = fakecudnn.calls["convolution_backward_filter"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dev.JthetaTmv(ddata[2], ddata[0], ddata[1])       # no second warning, no second try
        dev.Amv(ddata[0], ddata[1])                       # the other products still use cuDNN
    assert fakecudnn.calls["convolution_backward_filter"] == before
    assert dev.engine == "cudnn"


# ---------------------------------------------------------------------- the stand-in itself
def test_fake_cudnn_layouts_agree(device, rng):
    """NCHW and NHWC calls of the stand-in compute the same products (layout semantics)."""
    x = rng.standard_normal((2, 7, 6, 3))
    w = rng.standard_normal((4, 3, 5, 3))              # (K, kh, kw, C)
    gy = rng.standard_normal((2, 4, 3, 4))
    nchw, nhwc = fakecudnnlib.CUDNN_TENSOR_NCHW, fakecudnnlib.CUDNN_TENSOR_NHWC
    kw = dict(auto_tune=False, tensor_core="auto")
    args = ((1, 2), (2, 2), (1, 1), 1)

    def run(layout, f):
        y = fd.empty(f(np.zeros((2, 4, 3, 4))).shape)
        fakecudnn.convolution_forward(fd.asarray(f(x)), fd.asarray(f(w)), None, y, *args, **kw,
                                      d_layout=layout, w_layout=layout)
        gx = fd.empty(f(x).shape)
        fakecudnn.convolution_backward_data(fd.asarray(f(w)), fd.asarray(f(gy)), None, gx, *args,
                                            deterministic=False, **kw, d_layout=layout, w_layout=layout)
        gw = fd.empty(f(w).shape)
        fakecudnn.convolution_backward_filter(fd.asarray(f(x)), fd.asarray(f(gy)), gw, *args,
                                              deterministic=False, **kw, d_layout=layout, w_layout=layout)
        return y.get(), gx.get(), gw.get()

    def toNCHW(a):
        return np.ascontiguousarray(a.transpose(0, 3, 1, 2))
    a, b = run(nhwc, lambda a: a), run(nchw, toNCHW)
    for u, v in zip(a, b):
        np.testing.assert_allclose(toNCHW(u), v, rtol=1e-12, atol=1e-12)
    # adjointness of the stand-in: <conv(x), gy> = <x, conv^T gy>, <conv(x), gy> = <w, dW>
    y, gx, gw = a
    assert np.isclose(np.vdot(y, gy), np.vdot(x, gx)) and np.isclose(np.vdot(y, gy), np.vdot(w, gw))


def test_fake_cudnn_refuses_bad_arguments(device):
    x, w = fd.ones((1, 4, 4, 2)), fd.ones((3, 3, 3, 2))
    kw = dict(auto_tune=False, tensor_core="never", d_layout=1, w_layout=1)
    with pytest.raises(TypeError, match="expected cupy.ndarray"):
        fakecudnn.convolution_forward(np.ones((1, 4, 4, 2)), w, None, fd.empty((1, 4, 4, 3)),
                                      (1, 1), (1, 1), (1, 1), 1, **kw)
    with pytest.raises(ValueError, match="c-contiguous"):
        fakecudnn.convolution_forward(x, w, None, fd.empty((1, 4, 3, 4)).transpose(0, 1, 3, 2),
                                      (1, 1), (1, 1), (1, 1), 1, **kw)
    with pytest.raises(fakecudnnlib.CuDNNError, match="CUDNN_STATUS_BAD_PARAM"):
        fakecudnn.convolution_forward(x, w, None, fd.empty((1, 4, 4, 2)), (1, 1), (1, 1), (1, 1), 1, **kw)
    with pytest.raises(TypeError, match="expected tuple"):
        fakecudnn.convolution_forward(x, w, None, fd.empty((1, 4, 4, 3)), [1, 1], (1, 1), (1, 1), 1, **kw)
    with pytest.raises(TypeError):     # the options are keyword-only and required, as in CuPy
        fakecudnn.convolution_forward(x, w, None, fd.empty((1, 4, 4, 3)), (1, 1), (1, 1), (1, 1), 1)


# ---------------------------------------------------------------------- no host round-trips
def test_transfer_log(device):
    a = fd.asarray(np.arange(4.0))
    with fd.transferLog() as log:
        b = fd.asarray(np.ones(4))                 # host -> device
        float(fd.sum(a * b))
        a.get()
        a.sum().item()
    assert len(log.toDevice) == 1 and len(log.toHost) == 3
    assert "test_gpu_path.py" in log.toHost[0]
    with fd.transferLog(forbidToHost=True):
        c = fd.tanh(a) + 1.0                       # device work only
        with pytest.raises(fd.HostTransferError, match="bool\\(ndarray\\)"):
            bool((c > 0).all())
        with pytest.raises(fd.HostTransferError, match="fakedevice.asnumpy"):
            fd.asnumpy(c)
    float(fd.sum(c))                                # allowed again outside the block


@pytest.mark.parametrize("engine", ["cudnn", "gemm"])
@pytest.mark.parametrize("dynamic", ["parabolic", "hamiltonian", "leapfrog"])
def test_network_forward_and_gradient_stay_on_the_device(fresh, monkeypatch, dynamic, engine):
    """An STL-10-style network (opening conv + batch norm + ReLU; PDE blocks of symmetric
    layers with instance normalization; 1x1 connectors with batch norm + ReLU and
    pooling): forwardProp and JTmv make no device-to-host transfer and no upload, with
    the convolutions through cuDNN and through the matrix products."""
    monkeypatch.setenv(_cudnnConv.CONV_ENGINE_ENV, engine)
    net, _ = mg.pdeCNN((8, 8), 3, [4, 8, 8, 8], dynamic, nt=2, h=0.5, normLayer=mg.BatchNormLayer,
                       pdeNormLayer=mg.InstNormLayer, useGPU=True, precision="double")
    th = net.initTheta(rng=0)
    Y = mg.asArray(np.random.default_rng(1).standard_normal((3, 8, 8, 3)), useGPU=True)
    W = mg.asArray(np.random.default_rng(2).standard_normal((3,) + net.sizeFeatOut()), useGPU=True)
    before = sum(fakecudnn.calls.values())
    with mg.validation(False), fd.transferLog(forbidToHost=True) as log:
        Z, tmp = net.forwardProp(th, Y)
        dth, dY = net.JTmv(W, th, Y, tmp)
    assert log.toHost == [] and log.toDevice == []
    # the convolutions ran through cuDNN, or not at all through it
    assert (sum(fakecudnn.calls.values()) > before) == (engine == "cudnn")
    # with validation on (shapes, dtypes, backend) there is no transfer either
    with fd.transferLog(forbidToHost=True) as log:
        Z2, tmp = net.forwardProp(th, Y)
        net.JTmv(W, th, Y, tmp)
    assert log.toHost == [] and log.toDevice == []
    assert mg.backend.isDeviceArray(dth) and mg.backend.isDeviceArray(dY)
    np.testing.assert_array_equal(mg.toHost(Z2), mg.toHost(Z))
