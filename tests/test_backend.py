import numpy as np
import pytest

import meganet as mg
from meganet import backend
from meganet.testing import fakedevice as fd


def test_cpu_module_and_dtypes():
    assert backend.getArrayModule(False) is np
    assert backend.getDtype("single") == np.float32
    assert backend.getDtype("double") == np.float64


@pytest.mark.parametrize("bad", ["half", 32, None])
def test_bad_precision(bad):
    with pytest.raises(ValueError, match="precision must be 'single' or 'double'"):
        backend.getDtype(bad)


@pytest.mark.parametrize("bad", [2, "yes", 0.5])
def test_bad_useGPU(bad):
    with pytest.raises(ValueError, match="useGPU must be"):
        backend.getArrayModule(bad)


def test_useGPU_without_device_module_is_an_error(monkeypatch):
    monkeypatch.setenv(backend.DEVICE_MODULE_ENV, "meganet_no_such_device_module")
    with pytest.raises(RuntimeError, match="could not be imported"):
        backend.getArrayModule(True)
    with pytest.raises(RuntimeError, match="could not be imported"):
        mg.Dense((3, 4), useGPU=True)


def test_useGPU_with_unavailable_device_is_an_error(monkeypatch, tmp_path):
    (tmp_path / "nodevice_mod.py").write_text("def is_available():\n    return False\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(backend.DEVICE_MODULE_ENV, "nodevice_mod")
    with pytest.raises(RuntimeError, match="reports no usable GPU"):
        backend.getArrayModule(True)


def test_fakedevice_refuses_implicit_conversion():
    a = fd.asarray(np.arange(4.0))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        a + np.ones(4)
    with pytest.raises(TypeError):
        fd.concatenate([a, np.ones(2)])
    with pytest.raises(TypeError):
        np.concatenate([a, np.ones(2)])


def test_fakedevice_behaves_like_an_array_module():
    a = fd.asarray(np.arange(6.0).reshape(2, 3))
    b = fd.ones((2, 3))
    c = (a + b) * 2 - a / 2
    assert isinstance(c, fd.ndarray)
    np.testing.assert_allclose(c.get(), (np.arange(6.0).reshape(2, 3) + 1) * 2 - np.arange(6.0).reshape(2, 3) / 2)
    s = fd.sum(a)
    assert isinstance(s, fd.ndarray) and s.shape == ()
    assert float(s) == 15.0
    assert isinstance(a.sum(axis=0), fd.ndarray)
    assert isinstance(a.T @ b, fd.ndarray)
    assert isinstance(fd.fft.fft2(a), fd.ndarray)
    assert isinstance(np.tanh(a), fd.ndarray)
    a[0, 0] = 7.0
    assert float(a[0, 0]) == 7.0
    assert fd.get_array_module(a) is fd and fd.get_array_module(np.ones(1)) is np
    assert backend.isDeviceArray(a) and not backend.isDeviceArray(np.ones(1))


def test_gpuVar_and_toHost(device):
    x = np.arange(3.0)
    y = backend.gpuVar(True, "single", x)
    assert isinstance(y, fd.ndarray) and y.dtype == np.float32
    z = backend.toHost(y)
    assert isinstance(z, np.ndarray)
    np.testing.assert_array_equal(z, x.astype(np.float32))
    el = mg.Dense((2, 3))
    backend.gpuVar(True, "single", el)
    assert el.useGPU and el.precision == "single"
