import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


@pytest.mark.parametrize("nK", [(3, 5), (6, 6), (1, 4)])
def test_dense_derivatives(nK, useGPU):
    K = mg.Dense(nK, useGPU=useGPU)
    assertElementDerivatives(K, nEx=4)
    assertElementDerivatives(K, nEx=1)


def test_dense_forward_matches_matrix(rng):
    K = mg.Dense((3, 5))
    th = K.initTheta(rng=rng)
    Y = rng.standard_normal((7, 5))
    Z, _ = K.forwardProp(th, Y)
    np.testing.assert_allclose(Z, (th.reshape(3, 5) @ Y.T).T)
    assert K.nTheta() == 15 and K.sizeFeatIn() == (5,) and K.sizeFeatOut() == (3,)
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]


def test_dense_with_Q_and_antisym(useGPU):
    K = mg.getDenseAntiSym(4, useGPU=useGPU)
    assert K.nTheta() == 16
    th = K.initTheta(rng=1)
    M = mg.toHost(K.getMatrix(th))
    np.testing.assert_allclose(M + M.T, -2e-4 * np.eye(4), atol=1e-14)
    assertElementDerivatives(K, nEx=3)
    Q = np.random.default_rng(0).standard_normal((12, 5))
    assertElementDerivatives(mg.Dense((3, 4), Q=Q, useGPU=useGPU), nEx=2)
    Qop = mg.LinearOperator(12, 5, lambda x: x @ Q.T, lambda y: y @ Q)
    assertElementDerivatives(mg.Dense((3, 4), Q=Qop), nEx=2)


def test_dense_single_precision(useGPU):
    K = mg.Dense((3, 4), useGPU=useGPU, precision="single")
    th = K.initTheta(rng=0)
    assert th.dtype == np.float32
    Y = randn((5, 4), useGPU, "single", rng=1)
    Z, _ = K.forwardProp(th, Y)
    assert Z.dtype == np.float32
    ok, err = mg.checkAdjoint(K.getJYOp(th, Y), rng=0)
    assert ok


def test_dense_implicit_time_step(rng):
    K = mg.Dense((4, 4))
    th = K.initTheta(rng=rng)
    Y = rng.standard_normal((3, 4))
    Z = K.implicitTimeStep(th, Y, 0.5)
    M = th.reshape(4, 4)
    np.testing.assert_allclose(Z @ (0.5 * M.T @ M + np.eye(4)).T, Y, atol=1e-12)


def test_dense_bad_input(useGPU):
    K = mg.Dense((3, 4), useGPU=useGPU)
    th = K.initTheta(rng=0)
    Y = randn((2, 4), useGPU)
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(2, 4\); got \(2, 5\)"):
        K.forwardProp(th, randn((2, 5), useGPU))
    with pytest.raises(ValueError, match="theta must be a flat 1-D array of length nTheta=12; got shape"):
        K.forwardProp(th[:5], Y)
    with pytest.raises(TypeError, match="dtype float64"):
        K.forwardProp(th, randn((2, 4), useGPU, "single"))
    bad = th.copy()
    bad[0] = np.nan
    if useGPU:     # on the device the check would cost a host round-trip: NaN propagates
        Z, _ = K.forwardProp(bad, Y)
        assert not np.isfinite(mg.toHost(Z)).all()
    else:
        with pytest.raises(ValueError, match="non-finite"):
            K.forwardProp(bad, Y)
    with pytest.raises(ValueError, match=r"W must have shape"):
        K.JYTmv(randn((2, 4), useGPU), th, Y)
    with pytest.raises(ValueError, match="nK must be two positive integers"):
        mg.Dense((3, 0))
    with pytest.raises(ValueError, match="Q must be a matrix with 12 rows"):
        mg.Dense((3, 4), Q=np.ones((11, 2)))


def test_dense_host_device_mismatch(device):
    K = mg.Dense((3, 4), useGPU=True)
    th = K.initTheta(rng=0)
    with pytest.raises(TypeError, match="must be a device"):
        K.forwardProp(th, np.ones((2, 4)))
    Kc = mg.Dense((3, 4))
    with pytest.raises(TypeError, match="must be a numpy"):
        Kc.forwardProp(Kc.initTheta(rng=0), K.asArray(np.ones((2, 4))))


def test_backend_switch_moves_arrays(device):
    Q = np.random.default_rng(0).standard_normal((12, 5))
    K = mg.Dense((3, 4), Q=Q)
    K.useGPU = True
    K.precision = "single"
    th = K.initTheta(rng=0)
    Y = K.asArray(np.ones((2, 4)))
    Z, _ = K.forwardProp(th, Y)
    assert Z.dtype == np.float32 and mg.backend.isDeviceArray(Z)
