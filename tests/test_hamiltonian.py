"""HamiltonianNN and DoubleHamiltonianNN: derivatives, values, inverse, time basis, bad input."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


def _cubicBasis(nt):
    t = np.linspace(0, 1, nt)
    Q, _ = np.linalg.qr(np.vander(t, 4, increasing=True))
    return Q.T


# ---------------------------------------------------------------- HamiltonianNN
@pytest.mark.parametrize("act", [mg.tanhActivation, mg.reluActivation, mg.identityActivation],
                         ids=["tanh", "relu", "identity"])
@pytest.mark.parametrize("bias", [None, "ones", "two"])
def test_hamiltonian_derivatives_dense(act, bias, useGPU):
    n = 4
    B = {None: None, "ones": np.ones((n, 1)),
         "two": np.random.default_rng(0).standard_normal((n, 2))}[bias]
    net = mg.HamiltonianNN(act, mg.Dense((n, n), useGPU=useGPU), B, 5, 0.3)
    assert net.nTheta() == 5 * (n * n + (0 if B is None else B.shape[1]))
    assertElementDerivatives(net, nEx=3)
    if act is not mg.reluActivation:
        assertElementDerivatives(net, nEx=1)


@pytest.mark.parametrize("basis", ["identity", "random2x4", "cubic"])
def test_hamiltonian_derivatives_time_basis(basis, useGPU):
    nt = 6 if basis == "cubic" else 4
    A = {"identity": np.eye(nt), "random2x4": np.random.default_rng(2).random((2, 4)),
         "cubic": _cubicBasis(nt)}[basis]
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((4, 4), useGPU=useGPU), np.ones((4, 1)),
                           nt, 0.3, A=A)
    assert net.nTheta() == A.shape[0] * 17
    assertElementDerivatives(net, nEx=3)


@pytest.mark.parametrize("kernel", ["Conv2D", "ConvFFT"])
def test_hamiltonian_derivatives_conv(kernel, useGPU):
    nImg, c = (4, 6), 2
    K = getattr(mg, kernel)(nImg, (3, 3, c, c), useGPU=useGPU)
    net = mg.HamiltonianNN(mg.tanhActivation, K, mg.opCNNBias(nImg + (c,)), 3, 0.2)
    assertElementDerivatives(net, nEx=2)


def test_hamiltonian_values_and_inverse(rng):
    n, nt, h = 3, 4, 0.25
    B = rng.standard_normal((n, 2))
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((n, n)), B, nt, h)
    th = rng.standard_normal(net.nTheta())
    thK, thb = net.split(th)
    assert thK.shape == (nt, n * n) and thb.shape == (nt, 2)
    Y0 = rng.standard_normal((5, n))
    Y, Z = Y0.copy(), np.zeros_like(Y0)
    for j in range(nt):
        K, c = thK[j].reshape(n, n), B @ thb[j]
        Z = Z - h * np.tanh(Y @ K + c)        # K^T y per example
        Y = Y + h * np.tanh(Z @ K.T + c)      # K z per example
    YN, tmp = net.forwardProp(th, Y0)
    np.testing.assert_allclose(YN, Y, rtol=1e-13)
    assert tmp[0] is YN
    np.testing.assert_allclose(tmp[1], Z, rtol=1e-13)
    Yb, Zb = net.inverse(th, *tmp)
    np.testing.assert_allclose(Yb, Y0, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Zb, 0, atol=1e-13)
    W = rng.standard_normal(YN.shape)
    for a, b in zip(net.JTmv(W, th, Y0, tmp), net.JTmv(W, th, Y0)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hamiltonian_time_basis_values_and_init(rng):
    n, nt = 2, 4
    A = rng.random((2, nt))
    K = mg.Dense((n, n))
    net = mg.HamiltonianNN(mg.tanhActivation, K, np.ones((n, 1)), nt, 0.2, A=A)
    full = mg.HamiltonianNN(mg.tanhActivation, K, np.ones((n, 1)), nt, 0.2)
    th = rng.standard_normal(net.nTheta())
    thFull = (A.T @ th.reshape(2, -1)).ravel()
    Y0 = rng.standard_normal((3, n))
    Z = full.forwardProp(thFull, Y0)[0]
    np.testing.assert_allclose(net.forwardProp(th, Y0)[0], Z, rtol=1e-13)
    W = rng.standard_normal(Z.shape)
    G = full.JthetaTmv(W, thFull, Y0).reshape(nt, -1)
    np.testing.assert_allclose(net.JthetaTmv(W, th, Y0), (A @ G).ravel(), rtol=1e-12)
    # init: kernel weights and zero bias; with the cubic basis the steps are constant in time
    netC = mg.HamiltonianNN(mg.tanhActivation, K, np.ones((n, 1)), 6, 0.2, A=_cubicBasis(6))
    T = netC._stepWeights(netC.initTheta(rng=3))
    np.testing.assert_allclose(T, np.tile(np.append(K.initTheta(rng=3), 0.0), (6, 1)), atol=1e-12)


def test_hamiltonian_prolongate(rng):
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, 2, 0.5)
    th = rng.standard_normal(net.nTheta())
    th2 = net.prolongateWeights(th)
    assert (net.nt, net.h) == (4, 0.25) and th2.size == 16
    netA = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, 3, 0.5, A=rng.random((2, 3)))
    with pytest.raises(ValueError, match="HamiltonianNN.prolongateWeights: only defined for the identity"):
        netA.prolongateWeights(rng.standard_normal(netA.nTheta()))
    K = mg.Conv2D((4, 4), (3, 3, 2, 2))
    net = mg.HamiltonianNN(mg.tanhActivation, K, mg.opCNNBias((4, 4, 2)), 2, 0.1)
    th = net.initTheta(rng=0) + 0.1
    thc = net.restrictConvStencils(th)
    thK, thb = net.split(th)
    thKc, thbc = net.split(thc)
    np.testing.assert_allclose(thbc, thb)
    np.testing.assert_allclose(thKc[1], K.restrictConvStencils(np.ascontiguousarray(thK[1])))
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, atol=1e-12)


def test_hamiltonian_bad_input(rng):
    with pytest.raises(ValueError, match=r"HamiltonianNN: K must map features to features of the same "
                                         r"shape \(K.sizeFeatIn\(\) == K.sizeFeatOut\(\)\); got \(3,\) and "
                                         r"\(2,\)"):
        mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 3)), None, 2, 0.1)
    with pytest.raises(ValueError, match=r"HamiltonianNN: nt must be an integer >= 1; got -1"):
        mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, -1, 0.1)
    with pytest.raises(ValueError, match=r"HamiltonianNN: h must be a finite number > 0; got -1"):
        mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, 2, -1)
    with pytest.raises(ValueError, match=r"HamiltonianNN: A must have shape \(nCoeff, 2\).*got shape \(3, "
                                         r"3\)"):
        mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, 2, 0.1, A=np.eye(3))
    with pytest.raises(ValueError, match=r"B must be None, a LinearOperator or a matrix with 2 rows"):
        mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), np.ones((3, 1)), 2, 0.1)
    with pytest.raises(TypeError, match=r"HamiltonianNN: K must be a kernel"):
        mg.HamiltonianNN(mg.tanhActivation, mg.SingleLayer(mg.Dense((2, 2))), None, 2, 0.1)
    with pytest.raises(TypeError, match=r"HamiltonianNN: activation must be callable"):
        mg.HamiltonianNN("tanh", mg.Dense((2, 2)), None, 2, 0.1)
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((2, 2)), None, 2, 0.1)
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=8; got shape "
                                         r"\(4,\)"):
        net.forwardProp(rng.standard_normal(4), rng.standard_normal((3, 2)))
    with pytest.raises(ValueError, match=r"HamiltonianNN.inverse: ZN must have shape \(3, 2\); got \(3, 3\)"):
        net.inverse(rng.standard_normal(8), rng.standard_normal((3, 2)), rng.standard_normal((3, 3)))


# ---------------------------------------------------------------- DoubleHamiltonianNN
def _symLayer(n, useGPU, act=mg.tanhActivation, m=3):
    return mg.DoubleSymLayer(mg.Dense((m, n), useGPU=useGPU), activation=act, Bin=np.ones((m, 1)))


@pytest.mark.parametrize("act", [mg.tanhActivation, mg.reluActivation], ids=["tanh", "relu"])
@pytest.mark.parametrize("nt", [1, 4])
def test_double_hamiltonian_derivatives_dense(act, nt, useGPU):
    net = mg.DoubleHamiltonianNN(_symLayer(4, useGPU, act), _symLayer(4, useGPU, act, m=5), nt, 0.3)
    assert net.sizeFeatIn() == (8,) and net.nTheta() == nt * (13 + 21)
    assertElementDerivatives(net, nEx=3)
    if act is mg.tanhActivation:
        assertElementDerivatives(net, nEx=1)


def test_double_hamiltonian_derivatives_nonsquare_layers(useGPU):
    L1 = mg.SingleLayer(mg.Dense((3, 5), useGPU=useGPU))   # Z (5) -> Y (3)
    L2 = mg.SingleLayer(mg.Dense((5, 3), useGPU=useGPU))   # Y (3) -> Z (5)
    net = mg.DoubleHamiltonianNN(L1, L2, 3, 0.2)
    assert net.sizeFeatIn() == (8,)
    assertElementDerivatives(net, nEx=3)


@pytest.mark.parametrize("kernel", ["Conv2D", "ConvFFT"])
def test_double_hamiltonian_derivatives_conv_tvnorm(kernel, useGPU):
    nImg, c = (4, 6), 2

    def layer():
        K = getattr(mg, kernel)(nImg, (3, 3, c, c), useGPU=useGPU)
        return mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=mg.opCNNBias(nImg + (c,)),
                                 normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU))

    net = mg.DoubleHamiltonianNN(layer(), layer(), 2, 0.3)
    assert net.sizeFeatIn() == (4, 6, 4)
    assertElementDerivatives(net, nEx=2)


def test_double_hamiltonian_values_split_and_inverse(rng):
    n, nt, h = 3, 3, 0.4
    L1 = mg.DoubleSymLayer(mg.Dense((2, n)), activation=mg.tanhActivation)
    L2 = mg.DoubleSymLayer(mg.Dense((4, n)), activation=mg.tanhActivation)
    net = mg.DoubleHamiltonianNN(L1, L2, nt, h)
    th = rng.standard_normal(net.nTheta())
    th1, th2 = net.split(th)
    assert th1.shape == (nt, 6) and th2.shape == (nt, 12)
    np.testing.assert_array_equal(th.reshape(nt, 18)[:, :6], th1)  # per step [layer1, layer2]
    X0 = rng.standard_normal((4, 2 * n))
    Y, Z = X0[:, :n].copy(), X0[:, n:].copy()   # first half Y, second half Z
    for j in range(nt):
        K1, K2 = th1[j].reshape(2, n), th2[j].reshape(4, n)
        Y = Y + h * (-np.tanh(Z @ K1.T) @ K1)
        Z = Z - h * (-np.tanh(Y @ K2.T) @ K2)
    XN, tmp = net.forwardProp(th, X0)
    np.testing.assert_allclose(XN, np.concatenate([Y, Z], axis=1), rtol=1e-13)
    assert tmp is XN
    np.testing.assert_allclose(net.inverse(th, XN), X0, rtol=1e-12, atol=1e-13)
    Ys, Zs = net.splitData(XN)
    np.testing.assert_array_equal(net.unsplitData(Ys, Zs), XN)
    W = rng.standard_normal(XN.shape)
    for a, b in zip(net.JTmv(W, th, X0, tmp), net.JTmv(W, th, X0)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_double_hamiltonian_images_split_channels(rng):
    nImg = (4, 4)
    L = mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, 2, 2)), activation=mg.tanhActivation)
    net = mg.DoubleHamiltonianNN(L, L, 1, 0.5)
    th = net.initTheta(rng=0)
    X0 = rng.standard_normal((2, 4, 4, 4))
    t1, t2 = net.split(th)
    Y1 = X0[..., :2] + 0.5 * L.forwardProp(t1[0], X0[..., 2:].copy())[0]
    Z1 = X0[..., 2:] - 0.5 * L.forwardProp(t2[0], Y1)[0]
    np.testing.assert_allclose(net.forwardProp(th, X0)[0], np.concatenate([Y1, Z1], axis=-1),
                               rtol=1e-13)


def test_double_hamiltonian_prolongate_and_init(rng):
    L = _symLayer(2, False)
    net = mg.DoubleHamiltonianNN(L, L, 2, 0.5)
    th0 = net.initTheta(rng=0)
    t1, t2 = net.split(th0)
    np.testing.assert_allclose(t1[0], t1[1])
    assert not np.allclose(t1[0], t2[0])  # layer1 and layer2 drawn independently
    th = rng.standard_normal(net.nTheta())
    th2 = net.prolongateWeights(th)
    assert (net.nt, net.h) == (4, 0.25)
    T, T2 = th.reshape(2, -1), th2.reshape(4, -1)
    np.testing.assert_allclose(T2, [T[0], (T[0] + T[1]) / 2, T[1], T[1]])
    nImg = (4, 4)
    L = mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, 2, 2)))
    net = mg.DoubleHamiltonianNN(L, L, 2, 0.1)
    th = net.initTheta(rng=1)
    thc = net.restrictConvStencils(th)
    np.testing.assert_allclose(net.split(thc)[1][0], L.restrictConvStencils(net.split(th)[1][0].copy()))
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, atol=1e-12)


def test_double_hamiltonian_single_precision(useGPU):
    net = mg.DoubleHamiltonianNN(_symLayer(3, useGPU), _symLayer(3, useGPU), 3, 0.3,
                                 precision="single")
    assert net.layer1.K.precision == "single"
    th = net.initTheta(rng=0)
    X = randn((2, 6), useGPU, "single", rng=1)
    Z, tmp = net.forwardProp(th, X)
    dth, dX = net.JTmv(randn((2, 6), useGPU, "single", rng=2), th, X, tmp)
    assert Z.dtype == dth.dtype == dX.dtype == np.float32
    assert mg.checkAdjoint(net.getJOp(th, X, tmp), rng=0)[0]


def test_double_hamiltonian_bad_input(rng):
    with pytest.raises(ValueError, match=r"layer1.sizeFeatOut\(\) must equal layer2.sizeFeatIn\(\).*"
                                         r"got layer1: \(3,\) -> \(3,\), layer2: \(4,\) -> \(4,\)"):
        mg.DoubleHamiltonianNN(_symLayer(3, False), _symLayer(4, False), 2, 0.1)
    Lc = mg.DoubleSymLayer(mg.Conv2D((4, 4), (3, 3, 2, 2)))
    Ld = mg.DoubleSymLayer(mg.Conv2D((4, 2), (3, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"got layer1: \(4, 4, 2\) -> \(4, 4, 2\), layer2: \(4, 2, 2\)"):
        mg.DoubleHamiltonianNN(Lc, Ld, 2, 0.1)
    with pytest.raises(ValueError, match=r"DoubleHamiltonianNN: nt must be an integer >= 1; got 0"):
        mg.DoubleHamiltonianNN(Lc, Lc, 0, 0.1)
    with pytest.raises(ValueError, match=r"DoubleHamiltonianNN: h must be a finite number > 0; got nan"):
        mg.DoubleHamiltonianNN(Lc, Lc, 2, float("nan"))
    net = mg.DoubleHamiltonianNN(Lc, Lc, 2, 0.1)
    th = net.initTheta(rng=0)
    # an odd channel count cannot be split into the two halves of 2 channels each
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(2, 4, 4, 4\); "
                                         r"got \(2, 4, 4, 5\)"):
        net.forwardProp(th, rng.standard_normal((2, 4, 4, 5)))
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=144; got shape "
                                         r"\(72,\)"):
        net.forwardProp(th[:72], rng.standard_normal((2, 4, 4, 4)))
    with pytest.raises(ValueError, match=r"DoubleHamiltonianNN.inverse: XN must have shape \(N, 4, 4, 4\); "
                                         r"got \(2, 4, 4, 3\)"):
        net.inverse(th, rng.standard_normal((2, 4, 4, 3)))


def test_hamiltonian_single_precision(useGPU):
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((3, 3), useGPU=useGPU), np.ones((3, 1)),
                           4, 0.3, A=np.random.default_rng(0).random((2, 4)), precision="single")
    assert net.K.precision == "single" and net.A.dtype == np.float32
    th = net.initTheta(rng=0)
    Y = randn((2, 3), useGPU, "single", rng=1)
    Z, tmp = net.forwardProp(th, Y)
    dth, dY = net.JTmv(randn((2, 3), useGPU, "single", rng=2), th, Y, tmp)
    assert Z.dtype == dth.dtype == dY.dtype == tmp[1].dtype == np.float32
    assert mg.checkAdjoint(net.getJOp(th, Y, tmp), rng=0)[0]
