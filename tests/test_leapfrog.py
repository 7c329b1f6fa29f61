"""LeapFrogNN: derivatives, values, reversibility, time basis, multilevel, bad input."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


def _cubicBasis(nt):
    t = np.linspace(0, 1, nt)
    Q, _ = np.linalg.qr(np.vander(t, 4, increasing=True))
    return Q.T


def _layer(kind, useGPU, n=4):
    if kind == "single":
        return mg.SingleLayer(mg.Dense((n, n), useGPU=useGPU), Bin=np.ones((n, 1)))
    if kind == "double":
        return mg.DoubleLayer(mg.Dense((5, n), useGPU=useGPU), mg.Dense((n, 5), useGPU=useGPU))
    if kind == "doublesym":
        return mg.DoubleSymLayer(mg.Dense((3, n), useGPU=useGPU), activation=mg.tanhActivation)
    if kind == "doublesym-relu":
        return mg.DoubleSymLayer(mg.Dense((6, n), useGPU=useGPU), activation=mg.reluActivation)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["single", "double", "doublesym", "doublesym-relu"])
@pytest.mark.parametrize("nt", [1, 4])
def test_leapfrog_derivatives_dense(kind, nt, useGPU):
    net = mg.LeapFrogNN(_layer(kind, useGPU), nt, 0.5)
    assertElementDerivatives(net, nEx=3)
    if kind != "doublesym-relu":  # one relu example may have no active unit: F == 0
        assertElementDerivatives(net, nEx=1)


@pytest.mark.parametrize("basis", ["random2x4", "cubic"])
def test_leapfrog_derivatives_time_basis(basis, useGPU):
    nt = 4 if basis == "random2x4" else 6
    A = np.random.default_rng(3).random((2, 4)) if basis == "random2x4" else _cubicBasis(nt)
    net = mg.LeapFrogNN(_layer("doublesym", useGPU), nt, 0.4, A=A)
    assertElementDerivatives(net, nEx=3)


@pytest.mark.parametrize("kernel", ["Conv2D", "ConvFFT"])
def test_leapfrog_derivatives_conv_tvnorm(kernel, useGPU):
    nImg, c = (4, 6), 2
    K = getattr(mg, kernel)(nImg, (3, 3, c, c), useGPU=useGPU)
    layer = mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=mg.opCNNBias(nImg + (c,)),
                              normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU))
    net = mg.LeapFrogNN(layer, 3, 0.5)
    assertElementDerivatives(net, nEx=2)


def test_leapfrog_values_and_tmp(rng):
    n, nt, h = 4, 5, 0.3
    layer = mg.DoubleSymLayer(mg.Dense((3, n)), activation=mg.tanhActivation)
    net = mg.LeapFrogNN(layer, nt, h)
    th = rng.standard_normal(net.nTheta())
    Y0 = rng.standard_normal((3, n))
    Ys = [Y0, Y0]  # Y_{-1} = Y_0
    for j in range(nt):
        K = th[j * 12:(j + 1) * 12].reshape(3, n)
        F = -np.tanh(Ys[-1] @ K.T) @ K
        Ys.append(2 * Ys[-1] - Ys[-2] + h ** 2 * F)
    Z, tmp = net.forwardProp(th, Y0)
    np.testing.assert_allclose(Z, Ys[-1], rtol=1e-13)
    assert tmp[0] is Z
    np.testing.assert_allclose(tmp[1], Ys[-2], rtol=1e-13)
    assert net.forwardProp(th, Y0, doDerivative=False)[1] is None
    # inverse: from (Y_N, Y_{N-1}) back to Y_0
    np.testing.assert_allclose(net.inverse(th, *tmp), Y0, rtol=1e-10, atol=1e-12)
    # tmp=None recomputes
    W = rng.standard_normal(Z.shape)
    for a, b in zip(net.JTmv(W, th, Y0, tmp), net.JTmv(W, th, Y0)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_leapfrog_time_basis_values(rng):
    n, nt, h = 3, 4, 0.2
    A = rng.random((2, nt))
    layer = mg.DoubleSymLayer(mg.Dense((n, n)))
    net = mg.LeapFrogNN(layer, nt, h, A=A)
    th = rng.standard_normal(net.nTheta())
    full = mg.LeapFrogNN(layer, nt, h)
    thFull = (A.T @ th.reshape(2, -1)).ravel()
    Y0 = rng.standard_normal((2, n))
    Z = full.forwardProp(thFull, Y0)[0]
    np.testing.assert_allclose(net.forwardProp(th, Y0)[0], Z, rtol=1e-13)
    W = rng.standard_normal(Z.shape)
    G = full.JthetaTmv(W, thFull, Y0).reshape(nt, -1)
    np.testing.assert_allclose(net.JthetaTmv(W, th, Y0), (A @ G).ravel(), rtol=1e-12)
    per = net.JthetaTmv(W, th, Y0, reduceDim=False)
    np.testing.assert_allclose(per.sum(axis=0), (A @ G).ravel(), rtol=1e-12)


def test_leapfrog_prolongate_and_stencils(rng):
    net = mg.LeapFrogNN(mg.DoubleSymLayer(mg.Dense((2, 2))), 2, 1.0)
    th = rng.standard_normal(net.nTheta())
    th2 = net.prolongateWeights(th)
    assert (net.nt, net.h) == (4, 0.5)
    T, T2 = th.reshape(2, -1), th2.reshape(4, -1)
    np.testing.assert_allclose(T2, [T[0], (T[0] + T[1]) / 2, T[1], T[1]])
    netA = mg.LeapFrogNN(mg.DoubleSymLayer(mg.Dense((2, 2))), 4, 1.0, A=rng.random((2, 4)))
    with pytest.raises(ValueError, match="LeapFrogNN.prolongateWeights: only defined for the identity"):
        netA.prolongateWeights(rng.standard_normal(netA.nTheta()))
    nImg = (4, 4)
    layer = mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, 2, 2)))
    net = mg.LeapFrogNN(layer, 2, 0.1)
    th = net.initTheta(rng=1)
    thc = net.restrictConvStencils(th)
    for p, pc in zip(net.split(th), net.split(thc)):
        np.testing.assert_allclose(pc, layer.restrictConvStencils(p))
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, atol=1e-12)


def test_leapfrog_single_precision(useGPU):
    net = mg.LeapFrogNN(_layer("doublesym", useGPU), 3, 0.5, precision="single")
    th = net.initTheta(rng=0)
    Y = randn((3, 4), useGPU, "single", rng=1)
    Z, tmp = net.forwardProp(th, Y)
    assert Z.dtype == np.float32 and tmp[1].dtype == np.float32
    dth, dY = net.JTmv(randn((3, 4), useGPU, "single", rng=2), th, Y, tmp)
    assert dth.dtype == np.float32 and dY.dtype == np.float32
    assert mg.checkAdjoint(net.getJOp(th, Y, tmp), rng=0)[0]


def test_leapfrog_bad_input(rng):
    layer = mg.DoubleSymLayer(mg.Dense((3, 3)))
    with pytest.raises(ValueError, match=r"LeapFrogNN: nt must be an integer >= 1; got 0"):
        mg.LeapFrogNN(layer, 0, 0.1)
    with pytest.raises(ValueError, match=r"LeapFrogNN: h must be a finite number > 0; got 0.0"):
        mg.LeapFrogNN(layer, 2, 0.0)
    with pytest.raises(ValueError, match=r"LeapFrogNN: A must have shape \(nCoeff, 3\).*got shape \(2, 2\)"):
        mg.LeapFrogNN(layer, 3, 0.1, A=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"sizeFeatIn\(\) must equal layer.sizeFeatOut\(\)"):
        mg.LeapFrogNN(mg.SingleLayer(mg.Dense((2, 3))), 2, 0.1)
    net = mg.LeapFrogNN(layer, 2, 0.1)
    th = net.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=18; got shape "
                                         r"\(19,\)"):
        net.forwardProp(rng.standard_normal(19), rng.standard_normal((2, 3)))
    Y = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"LeapFrogNN.inverse: YNm1 must have shape \(2, 3\); got \(3, 3\)"):
        net.inverse(th, Y, rng.standard_normal((3, 3)))
    with pytest.raises(TypeError, match=r"LeapFrogNN.inverse: YN must have dtype float64"):
        net.inverse(th, Y.astype(np.float32), Y)
