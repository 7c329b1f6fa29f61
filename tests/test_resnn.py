"""ResNN and ResNNrk4: derivatives in every configuration, values, time basis, multilevel."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


def _cubicBasis(nt):
    """Cubic polynomials in time, orthonormalised: A of shape (4, nt), rows orthonormal."""
    t = np.linspace(0, 1, nt)
    V = np.vander(t, 4, increasing=True)
    Q, _ = np.linalg.qr(V)
    return Q.T


def _layer(kind, useGPU, n=4):
    if kind == "single-relu":
        return mg.SingleLayer(mg.Dense((n, n), useGPU=useGPU), activation=mg.reluActivation)
    if kind == "antisym":
        return mg.SingleLayer(mg.getDenseAntiSym(n, useGPU=useGPU),
                              Bout=np.ones((n, 1)))
    if kind == "double":
        return mg.DoubleLayer(mg.Dense((5, n), useGPU=useGPU), mg.Dense((n, 5), useGPU=useGPU))
    if kind == "doublesym":
        return mg.DoubleSymLayer(mg.Dense((3, n), useGPU=useGPU), Bin=np.ones((3, 1)))
    raise ValueError(kind)


def _convSymLayer(useGPU, nImg=(4, 6), c=2, kernel="Conv2D", act=mg.reluActivation):
    K = getattr(mg, kernel)(nImg, (3, 3, c, c), useGPU=useGPU)
    return mg.DoubleSymLayer(K, activation=act, Bin=mg.opCNNBias(nImg + (c,)),
                             normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU))


# ---------------------------------------------------------------- ResNN derivatives
@pytest.mark.parametrize("kind", ["single-relu", "antisym", "double", "doublesym"])
@pytest.mark.parametrize("storeStates", [True, False])
def test_resnn_derivatives_dense(kind, storeStates, useGPU):
    net = mg.ResNN(_layer(kind, useGPU), 3, 0.3, storeStates=storeStates)
    assert net.nTheta() == 3 * net.layer.nTheta()
    assertElementDerivatives(net, nEx=3)
    assertElementDerivatives(net, nEx=1)


@pytest.mark.parametrize("basis", ["random2x4", "cubic"])
def test_resnn_derivatives_time_basis(basis, useGPU):
    nt = 4 if basis == "random2x4" else 6
    A = np.random.default_rng(3).random((2, 4)) if basis == "random2x4" else _cubicBasis(nt)
    net = mg.ResNN(_layer("doublesym", useGPU), nt, 0.2, A=A)
    assert net.nCoeff() == A.shape[0]
    assert net.nTheta() == A.shape[0] * net.layer.nTheta()
    assertElementDerivatives(net, nEx=3)


@pytest.mark.parametrize("kernel", ["Conv2D", "ConvFFT"])
def test_resnn_derivatives_conv_tvnorm(kernel, useGPU):
    net = mg.ResNN(_convSymLayer(useGPU, kernel=kernel), 2, 0.2)
    assertElementDerivatives(net, nEx=2)


def test_resnn_derivatives_conv_time_basis(useGPU):
    net = mg.ResNN(_convSymLayer(useGPU, act=mg.tanhActivation), 4, 0.2,
                   A=np.random.default_rng(0).random((2, 4)))
    assertElementDerivatives(net, nEx=2)


# ---------------------------------------------------------------- ResNN values
def test_resnn_forward_matches_explicit_loop(rng):
    n, nt, h = 4, 5, 0.15
    layer = mg.SingleLayer(mg.Dense((n, n)), activation=mg.tanhActivation)
    net = mg.ResNN(layer, nt, h)
    th = rng.standard_normal(net.nTheta())
    Y0 = rng.standard_normal((3, n))
    Y = Y0.copy()
    for j in range(nt):
        K = th[j * n * n:(j + 1) * n * n].reshape(n, n)
        Y = Y + h * np.tanh(Y @ K.T)
    Z, tmp = net.forwardProp(th, Y0)
    np.testing.assert_allclose(Z, Y, rtol=1e-13)
    assert len(tmp) == nt and tmp[0][0] is Y0
    # storeStates=False keeps nothing but gives the same output and derivatives
    net2 = mg.ResNN(layer, nt, h, storeStates=False)
    Z2, tmp2 = net2.forwardProp(th, Y0)
    assert tmp2 is None
    np.testing.assert_allclose(Z2, Z, rtol=0)
    W = rng.standard_normal(Z.shape)
    for a, b in zip(net.JTmv(W, th, Y0, tmp), net2.JTmv(W, th, Y0, None)):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    assert net.forwardProp(th, Y0, doDerivative=False)[1] is None


def test_resnn_time_basis_values(rng):
    n, nt, h = 3, 4, 0.1
    A = rng.random((2, nt))
    layer = mg.SingleLayer(mg.Dense((n, n)), activation=mg.tanhActivation)
    net = mg.ResNN(layer, nt, h, A=A)
    th = rng.standard_normal(net.nTheta())
    C = th.reshape(2, n * n)
    Y0 = rng.standard_normal((2, n))
    Y = Y0.copy()
    for j in range(nt):
        K = (A[0, j] * C[0] + A[1, j] * C[1]).reshape(n, n)
        Y = Y + h * np.tanh(Y @ K.T)
    np.testing.assert_allclose(net.forwardProp(th, Y0)[0], Y, rtol=1e-13)
    # the same block with the per-step weights and the identity basis
    full = mg.ResNN(layer, nt, h)
    thFull = (A.T @ C).ravel()
    Z = full.forwardProp(thFull, Y0)[0]
    np.testing.assert_allclose(net.forwardProp(th, Y0)[0], Z, rtol=1e-13)
    # adjoint applies A: dtheta = A G with G the per-step gradient
    W = rng.standard_normal(Z.shape)
    G = full.JthetaTmv(W, thFull, Y0).reshape(nt, -1)
    np.testing.assert_allclose(net.JthetaTmv(W, th, Y0), (A @ G).ravel(), rtol=1e-12)


def test_resnn_init_theta_least_squares():
    n, nt = 3, 4
    layer = mg.SingleLayer(mg.Dense((n, n)))
    t0 = layer.initTheta(rng=5)
    # identity: the layer init repeated
    net = mg.ResNN(layer, nt, 0.1)
    np.testing.assert_allclose(net.initTheta(rng=5), np.tile(t0, nt))
    # square invertible basis: every step gets exactly t0
    A = np.random.default_rng(1).random((nt, nt)) + np.eye(nt)
    net = mg.ResNN(layer, nt, 0.1, A=A)
    th = net.initTheta(rng=5)
    np.testing.assert_allclose(net._stepWeights(th), np.tile(t0, (nt, 1)), rtol=1e-10, atol=1e-12)
    # cubic basis contains the constants: exact too
    net = mg.ResNN(layer, 6, 0.1, A=_cubicBasis(6))
    th = net.initTheta(rng=5)
    assert th.shape == (4 * n * n,)
    np.testing.assert_allclose(net._stepWeights(th), np.tile(t0, (6, 1)), atol=1e-12)
    # non-square basis without the constants: least-squares solution of A^T c = 1
    A = np.random.default_rng(2).random((2, nt))
    net = mg.ResNN(layer, nt, 0.1, A=A)
    th = net.initTheta(rng=5)
    c = np.linalg.lstsq(A.T, np.ones(nt), rcond=None)[0]
    np.testing.assert_allclose(th.reshape(2, -1), np.outer(c, t0), rtol=1e-12)


def test_resnn_prolongate_weights(rng):
    n = 3
    layer = mg.SingleLayer(mg.Dense((n, n)))
    net = mg.ResNN(layer, 3, 0.4)
    th = rng.standard_normal(net.nTheta())
    th2 = net.prolongateWeights(th)
    assert net.nt == 6 and net.h == pytest.approx(0.2) and th2.shape == (6 * n * n,)
    T, T2 = th.reshape(3, -1), th2.reshape(6, -1)
    np.testing.assert_allclose(T2[0], T[0])
    np.testing.assert_allclose(T2[1], 0.5 * (T[0] + T[1]))
    np.testing.assert_allclose(T2[2], T[1])
    np.testing.assert_allclose(T2[3], 0.5 * (T[1] + T[2]))
    np.testing.assert_allclose(T2[4], T[2])
    np.testing.assert_allclose(T2[5], T[2])  # constant beyond the last time point
    net.forwardProp(th2, rng.standard_normal((2, n)))
    # not with a general time basis
    netA = mg.ResNN(layer, 4, 0.1, A=rng.random((2, 4)))
    with pytest.raises(ValueError, match=r"only defined for the identity time basis \(A=None\); got A of "
                                         r"shape \(2, 4\)"):
        netA.prolongateWeights(rng.standard_normal(netA.nTheta()))
    # an explicit identity is accepted
    netI = mg.ResNN(layer, 2, 0.1, A=np.eye(2))
    netI.prolongateWeights(rng.standard_normal(netI.nTheta()))
    assert netI.nt == 4 and netI.A is None


def test_resnn_conv_stencils(rng):
    layer = _convSymLayer(False)
    net = mg.ResNN(layer, 2, 0.1)
    th = net.initTheta(rng=0)
    thc = net.restrictConvStencils(th)
    assert thc.shape == th.shape
    parts, partsc = net.split(th), net.split(thc)
    for p, pc in zip(parts, partsc):
        np.testing.assert_allclose(pc, layer.restrictConvStencils(p))
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, rtol=1e-10, atol=1e-12)


def test_resnn_single_precision(useGPU):
    net = mg.ResNN(_layer("doublesym", useGPU), 3, 0.2, precision="single")
    assert net.layer.precision == "single" and net.layer.K.precision == "single"
    th = net.initTheta(rng=0)
    Y = randn((4, 4), useGPU, "single", rng=1)
    Z, tmp = net.forwardProp(th, Y)
    assert Z.dtype == np.float32
    dth, dY = net.JTmv(randn((4, 4), useGPU, "single", rng=2), th, Y, tmp)
    assert dth.dtype == np.float32 and dY.dtype == np.float32
    ok, _ = mg.checkAdjoint(net.getJOp(th, Y, tmp), rng=0)
    assert ok


def test_resnn_jtmv_options(rng):
    net = mg.ResNN(_layer("doublesym", False), 3, 0.2)
    th = net.initTheta(rng=0) + 0.1 * rng.standard_normal(net.nTheta())
    Y = rng.standard_normal((3, 4))
    Z, tmp = net.forwardProp(th, Y)
    W = rng.standard_normal(Z.shape)
    dth, dY = net.JTmv(W, th, Y, tmp)
    a, b = net.JTmv(W, th, Y, tmp, doDerivative=(True, False))
    assert b is None
    np.testing.assert_allclose(a, dth, rtol=1e-14)
    a, b = net.JTmv(W, th, Y, tmp, doDerivative=(False, True))
    assert a is None
    np.testing.assert_allclose(b, dY, rtol=1e-14)
    per, _ = net.JTmv(W, th, Y, tmp, reduceDim=False)
    assert per.shape == (3, net.nTheta())
    np.testing.assert_allclose(per.sum(axis=0), dth, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- ResNNrk4
def test_resnnrk4_derivatives_uneven_nodes(useGPU):
    tY = np.concatenate([[0], np.cumsum(np.random.default_rng(4).random(5))])
    net = mg.ResNNrk4(_layer("antisym", useGPU), tY)
    assert net.nt == 5 and net.nTheta() == 11 * net.layer.nTheta()
    assertElementDerivatives(net, nEx=3)
    assertElementDerivatives(net, nEx=1)


@pytest.mark.parametrize("storeStates", [True, False])
def test_resnnrk4_derivatives_time_basis(storeStates, useGPU):
    tY = [0.0, 0.2, 0.5, 0.6]
    A = np.random.default_rng(1).random((3, 7))
    net = mg.ResNNrk4(_layer("doublesym", useGPU), tY, A=A, storeStates=storeStates)
    assertElementDerivatives(net, nEx=2)


def test_resnnrk4_derivatives_conv(useGPU):
    net = mg.ResNNrk4(_convSymLayer(useGPU, act=mg.tanhActivation), [0, 0.1, 0.3])
    assertElementDerivatives(net, nEx=2)


def test_resnnrk4_matches_rk4_and_exact_solution(rng):
    """Linear layer F(Y) = K Y (identity activation): RK4 has order 4 and matches the formula."""
    n = 3
    K = mg.Dense((n, n))
    layer = mg.SingleLayer(K, activation=mg.identityActivation)
    M = -0.5 * np.eye(n) + 0.3 * rng.standard_normal((n, n))
    Y0 = rng.standard_normal((2, n))
    from scipy.linalg import expm
    exact = Y0 @ expm(M).T
    errs = []
    for nSteps in (4, 8, 16):
        tY = np.linspace(0, 1, nSteps + 1)
        net = mg.ResNNrk4(layer, tY)
        th = np.tile(M.ravel(), 2 * nSteps + 1)
        errs.append(np.linalg.norm(net.forwardProp(th, Y0)[0] - exact))
    assert errs[0] / errs[1] > 12 and errs[1] / errs[2] > 12  # ~16 for 4th order
    # uneven nodes, explicit stages with time-dependent weights
    tY = [0.0, 0.3, 0.45, 1.0]
    net = mg.ResNNrk4(layer, tY)
    th = rng.standard_normal(net.nTheta())
    T = th.reshape(7, n, n)
    f = lambda j, Y: Y @ T[j].T  # noqa: E731
    Y = Y0.copy()
    for i in range(3):
        h = tY[i + 1] - tY[i]
        k1 = f(2 * i, Y)
        k2 = f(2 * i + 1, Y + h / 2 * k1)
        k3 = f(2 * i + 1, Y + h / 2 * k2)
        k4 = f(2 * i + 2, Y + h * k3)
        Y = Y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    np.testing.assert_allclose(net.forwardProp(th, Y0)[0], Y, rtol=1e-13)


def test_resnnrk4_prolongate_weights(rng):
    layer = mg.SingleLayer(mg.Dense((2, 2)))
    tY = [0.0, 0.4, 1.0]
    net = mg.ResNNrk4(layer, tY)
    np.testing.assert_allclose(net.tTheta(), [0, 0.2, 0.4, 0.7, 1.0])
    th = rng.standard_normal(net.nTheta())
    th2 = net.prolongateWeights(th)
    np.testing.assert_allclose(net.tY, [0, 0.2, 0.4, 0.7, 1.0])
    assert net.nt == 4 and th2.shape == (9 * 4,)
    T, T2 = th.reshape(5, 4), th2.reshape(9, 4)
    np.testing.assert_allclose(T2[::2], T)                       # old time points kept
    np.testing.assert_allclose(T2[1], 0.5 * (T[0] + T[1]))        # new midpoints interpolated
    np.testing.assert_allclose(T2[5], 0.5 * (T[2] + T[3]))
    netA = mg.ResNNrk4(layer, tY, A=rng.random((2, 5)))
    with pytest.raises(ValueError, match="only defined for the identity time basis"):
        netA.prolongateWeights(rng.standard_normal(netA.nTheta()))


# ---------------------------------------------------------------- bad input
def test_resnn_bad_input(rng):
    layer = mg.SingleLayer(mg.Dense((3, 3)))
    with pytest.raises(ValueError, match=r"ResNN: nt must be an integer >= 1; got 0"):
        mg.ResNN(layer, 0, 0.1)
    with pytest.raises(ValueError, match=r"ResNN: nt must be an integer >= 1; got 2.5"):
        mg.ResNN(layer, 2.5, 0.1)
    with pytest.raises(ValueError, match=r"ResNN: h must be a finite number > 0; got 0"):
        mg.ResNN(layer, 2, 0)
    with pytest.raises(ValueError, match=r"ResNN: h must be a finite number > 0; got -0.1"):
        mg.ResNN(layer, 2, -0.1)
    with pytest.raises(ValueError, match=r"ResNN: A must have shape \(nCoeff, 4\) .*got shape \(2, 3\)"):
        mg.ResNN(layer, 4, 0.1, A=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"sizeFeatIn\(\) must equal layer.sizeFeatOut\(\).*got \(4,\) and "
                                         r"\(3,\)"):
        mg.ResNN(mg.SingleLayer(mg.Dense((3, 4))), 2, 0.1)
    with pytest.raises(TypeError, match="layer must be a meganet element"):
        mg.ResNN(np.eye(3), 2, 0.1)
    net = mg.ResNN(layer, 2, 0.1)
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=18; got shape "
                                         r"\(17,\)"):
        net.forwardProp(rng.standard_normal(17), rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"ResNNrk4: tY must be finite and strictly increasing"):
        mg.ResNNrk4(layer, [0, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"ResNNrk4: tY must be a 1-D sequence of at least two nodes"):
        mg.ResNNrk4(layer, [0.0])
    with pytest.raises(ValueError, match=r"ResNNrk4: A must have shape \(nCoeff, 5\).*got shape \(2, 4\)"):
        mg.ResNNrk4(layer, [0, 1, 2], A=np.ones((2, 4)))


def test_resnn_backend_push(device):
    layer = mg.SingleLayer(mg.Dense((3, 3)))
    net = mg.ResNN(layer, 2, 0.1, A=np.ones((1, 2)), useGPU=True, precision="single")
    assert layer.useGPU and layer.K.useGPU and layer.precision == "single"
    assert not isinstance(net.A, np.ndarray) and net.A.dtype == np.float32
    net.precision = "double"
    assert layer.K.precision == "double" and net.A.dtype == np.float64


def test_resnnrk4_single_precision(useGPU):
    net = mg.ResNNrk4(_layer("antisym", useGPU), [0, 0.5, 0.7], precision="single")
    th = net.initTheta(rng=0)
    Y = randn((3, 4), useGPU, "single", rng=1)
    Z, tmp = net.forwardProp(th, Y)
    dth, dY = net.JTmv(randn((3, 4), useGPU, "single", rng=2), th, Y, tmp)
    assert Z.dtype == dth.dtype == dY.dtype == np.float32
    assert mg.checkAdjoint(net.getJOp(th, Y, tmp), rng=0)[0]


# ---------------------------------------------------------------- inter1D (used by prolongateWeights)
def test_inter1D_values_weights_and_backends(useGPU, rng):
    tt = np.array([1.0, 2.0, 4.0, 5.0])           # uneven data time points
    T = rng.standard_normal((4, 3))               # one row per time point
    ti = np.array([0.0, 1.0, 1.5, 3.0, 4.0, 4.75, 5.0, 6.0])
    ref = np.stack([np.interp(ti, tt, T[:, k]) for k in range(3)], axis=1)  # constant outside
    thi, wi, idi = mg.inter1D(mg.asArray(T.ravel(), useGPU=useGPU), tt, ti, returnWeights=True)
    assert thi.shape == (8 * 3,)
    np.testing.assert_allclose(mg.toHost(thi).reshape(8, 3), ref, rtol=1e-14)
    np.testing.assert_allclose((wi[:, :1] * T[idi[:, 0]] + wi[:, 1:] * T[idi[:, 1]]), ref, rtol=1e-14)
    np.testing.assert_allclose(wi.sum(axis=1), 1.0)
    np.testing.assert_array_equal(idi[2], [0, 1])
    np.testing.assert_allclose(wi[2], [0.5, 0.5])
    # first axis is time for arrays with more axes; single precision kept
    T3 = rng.standard_normal((4, 2, 2)).astype(np.float32)
    out = mg.inter1D(mg.asArray(T3, useGPU=useGPU, precision="single"), tt, [3.0])
    assert out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(mg.toHost(out)[0], 0.5 * (T3[1] + T3[2]), rtol=1e-6)
    # a single data point: constant
    np.testing.assert_allclose(mg.inter1D(np.arange(3.0), [2.0], [0, 5]), [0, 1, 2, 0, 1, 2])


def test_inter1D_bad_input():
    with pytest.raises(ValueError, match=r"inter1D: ttheta must be strictly increasing; got \[0.0, 2.0, 1.0\]"):
        mg.inter1D(np.zeros(6), [0, 2, 1], [0.5])
    with pytest.raises(ValueError, match=r"inter1D: theta must hold len\(ttheta\)=4 equally sized chunks; "
                                         r"got 6 values"):
        mg.inter1D(np.zeros(6), [0, 1, 2, 3], [0.5])
    with pytest.raises(ValueError, match="inter1D: ttheta must contain at least one time point"):
        mg.inter1D(np.zeros(6), [], [0.5])
