"""Shared fixtures.

``useGPU`` runs a test twice: on NumPy and through the device-like test backend
(:mod:`meganet.testing.fakedevice`), which refuses implicit host conversion and
host/device mixing as CuPy does.
"""
import numpy as np
import pytest

from meganet.backend import DEVICE_MODULE_ENV

FAKE_DEVICE = "meganet.testing.fakedevice"


@pytest.fixture(params=[False, True], ids=["cpu", "device"])
def useGPU(request, monkeypatch):
    if request.param:
        monkeypatch.setenv(DEVICE_MODULE_ENV, FAKE_DEVICE)
    return request.param


@pytest.fixture
def device(monkeypatch):
    """Select the device-like backend for useGPU=True (for tests that use both)."""
    monkeypatch.setenv(DEVICE_MODULE_ENV, FAKE_DEVICE)


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)
