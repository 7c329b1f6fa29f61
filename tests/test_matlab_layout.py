"""Converters between Meganet.m's layouts and ours (weights, features, matrices, loss weights).

The references below are written from Meganet.m's definitions (column-major ``reshape``,
examples in the last dimension), with explicit Fortran-order reshapes and index loops,
independently of the converters they check.
"""
import itertools

import numpy as np
import pytest

import meganet as mg
from meganet.backend import toHost
from test_conformance import IMG, REGISTRY


def F2C(t, shape):
    """Our C-order vector of the array whose MATLAB ``A(:)`` is ``t``."""
    return np.reshape(t, shape, order="F").ravel()


def segments(*spec):
    """A reference map theta_m -> ours from consecutive parts ``(n, shape or None)``."""
    def ref(t):
        out, pos = [], 0
        for n, shape in spec:
            seg = t[pos:pos + n]
            out.append(seg if shape is None else F2C(seg, shape))
            pos += n
        assert pos == t.size
        return np.concatenate(out) if out else t.copy()
    return ref


def steps(nSteps, *spec):
    return segments(*(list(spec) * nSteps))


SYM2 = ((36, (3, 3, 2, 2)), (2, None))          # _symLayer(2): Conv2D 3x3x2x2, opCNNBias
SYM1 = ((9, (3, 3, 1, 1)), (1, None))


def _identity(t):
    return t.copy()


#: name -> reference theta_m -> ours for the instance of tests/test_conformance.REGISTRY
REFERENCE = {
    "Dense": segments((12, (3, 4))),
    "Conv2D": segments((54, (3, 3, 2, 3))),
    "ConvFFT": segments((54, (3, 3, 2, 3))),
    "PDEStencilKernel": segments((36, (9, 2, 2))),
    "ScalingKernel": _identity,
    "SparseKernel": _identity,
    # Dense 3x4, Bin (1), Bout (3), TVNormLayer (6)
    "SingleLayer": segments((12, (3, 4)), (10, None)),
    # Dense 3x4, Dense 2x3, Bin1 (1), Bout (1)
    "DoubleLayer": segments((12, (3, 4)), (6, (2, 3)), (2, None)),
    # Conv2D 3x3x2x2, opCNNBias (2), TVNormLayer (4)
    "DoubleSymLayer": segments((36, (3, 3, 2, 2)), (6, None)),
    "NormLayer": _identity,
    "BatchNormLayer": _identity,
    "BatchNormLayer2": _identity,
    "InstNormLayer": _identity,
    "TVNormLayer": _identity,
    # pixel scales and shifts (4 x 4 pixels, column-major in MATLAB), channel scales and shifts
    "AffineScalingLayer": segments((16, (4, 4)), (16, (4, 4)), (4, None)),
    "ReshapeLayer": _identity,
    "NN": segments((12, (3, 4)), (6, (2, 3))),
    "Connector": _identity,
    # ResNN of a Dense 3x3 DoubleSymLayer (2 steps), then NN of a Dense 2x3 SingleLayer
    "Meganet": segments((9, (3, 3)), (9, (3, 3)), (6, (2, 3))),
    "ResNN": steps(3, *SYM2),
    "ResNNrk4": steps(5, *SYM2),
    "LeapFrogNN": steps(3, *SYM2),
    "HamiltonianNN": steps(3, *SYM2),
    "DoubleHamiltonianNN": steps(3, *SYM1, *SYM1),
}


def test_every_element_class_has_a_layout_reference():
    names = {n for n, f in REGISTRY.items() if f is not None}
    missing = sorted(names - set(REFERENCE))
    assert not missing, (f"element classes without a Meganet.m layout reference in {__file__}: "
                         f"{missing} (write the reference from Meganet.m's source; add a "
                         "thetaFromMatlab/thetaToMatlab conversion if the layouts differ)")
    assert not sorted(set(REFERENCE) - names)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_theta_conversion_matches_reference_and_round_trips(name, useGPU, rng):
    el = REGISTRY[name](useGPU)
    n = el.nTheta()
    assert el.nThetaMatlab() == n
    theta_m = rng.standard_normal(n)
    ours = mg.thetaFromMatlab(el, theta_m)
    assert ours.shape == (n,) and ours.dtype == np.float64 and isinstance(ours, el.xp.ndarray)
    np.testing.assert_array_equal(toHost(ours), REFERENCE[name](theta_m))
    # exact round trips, both ways; column and row vectors are accepted
    np.testing.assert_array_equal(toHost(mg.thetaToMatlab(el, ours)), theta_m)
    np.testing.assert_array_equal(toHost(el.thetaToMatlab(el.thetaFromMatlab(theta_m[:, None]))),
                                  theta_m)
    theta = el.initTheta(rng=1)
    np.testing.assert_array_equal(toHost(el.thetaFromMatlab(el.thetaToMatlab(theta[None, :]))),
                                  toHost(theta))


def test_theta_conversion_errors():
    K = mg.Conv2D(IMG, (3, 3, 2, 3))
    with pytest.raises(ValueError, match=r"Conv2D.thetaFromMatlab: theta_m must have length 54; "
                                         r"got length 53"):
        mg.thetaFromMatlab(K, np.zeros(53))
    with pytest.raises(ValueError, match=r"Conv2D.thetaToMatlab: theta must have length 54; got "
                                         r"length 55"):
        mg.thetaToMatlab(K, np.zeros((55, 1)))
    with pytest.raises(ValueError, match=r"must be a vector of length 54 .* got shape \(6, 9\)"):
        mg.thetaFromMatlab(K, np.zeros((6, 9)))
    with pytest.raises(TypeError, match="real floating dtype; got int64"):
        mg.thetaFromMatlab(K, np.zeros(54, dtype=np.int64))
    with pytest.raises(TypeError, match="element must be a meganet element"):
        mg.thetaFromMatlab(np.zeros(3), np.zeros(3))
    net = mg.NN([mg.SingleLayer(mg.getDenseAntiSym(4)), mg.SingleLayer(mg.Dense((2, 4)))])
    with pytest.raises(ValueError, match=r"NN.thetaFromMatlab: theta_m must have length 20; got "
                                         r"length 24"):
        mg.thetaFromMatlab(net, np.zeros(24))


def test_single_precision_conversion(useGPU):
    K = mg.Conv2D(IMG, (3, 3, 2, 3), useGPU=useGPU, precision="single")
    th = K.thetaFromMatlab(np.arange(54.0))
    assert th.dtype == np.float32 and isinstance(th, K.xp.ndarray)
    np.testing.assert_array_equal(toHost(K.thetaToMatlab(th)), np.arange(54.0))


# ---------------------------------------------------------------- getDenseAntiSym
def _matlabAntiSym(theta_m, n):
    """Meganet.m's getDenseAntiSym: Q = sparse([I;I], [I; vec(A')], [1; -1]) without zero
    columns, q = -1e-4 vec(eye(n)), K = reshape(Q theta + q, n, n) (all column-major)."""
    N = n * n
    A = np.arange(N).reshape((n, n), order="F")          # A(i, j) = column-major index
    Q = np.zeros((N, N))
    for k in range(N):
        Q[k, k] += 1
        Q[k, A.T.ravel(order="F")[k]] -= 1
    Q = Q[:, np.abs(Q).sum(axis=0) > 0]
    q = -1e-4 * np.eye(n).ravel(order="F")
    return np.reshape(Q @ theta_m + q, (n, n), order="F")


def test_dense_antisym_weights(useGPU, rng):
    n = 4
    K = mg.getDenseAntiSym(n, useGPU=useGPU)
    assert K.nThetaMatlab() == n * (n - 1) and K.nTheta() == n * n
    theta_m = rng.standard_normal(n * (n - 1))
    theta = K.thetaFromMatlab(theta_m)
    np.testing.assert_array_equal(toHost(K.getMatrix(theta)), _matlabAntiSym(theta_m, n))
    np.testing.assert_array_equal(np.diag(toHost(theta).reshape(n, n)), 0)
    np.testing.assert_array_equal(toHost(K.thetaToMatlab(theta)), theta_m)
    # ours -> MATLAB drops the diagonal of A, which does not enter K
    theta = K.initTheta(rng=3)
    back = K.thetaFromMatlab(K.thetaToMatlab(theta))
    np.testing.assert_array_equal(toHost(K.getMatrix(back)), toHost(K.getMatrix(theta)))
    np.testing.assert_array_equal(toHost(K.getMatrix(theta)),
                                  _matlabAntiSym(toHost(K.thetaToMatlab(theta)), n))
    # the weight gradient converts with thetaToMatlab: <grad_m, v> = d/dt <W, K(theta_m + t v) Y>
    Y, Wt, v = rng.standard_normal((5, n)), rng.standard_normal((5, n)), rng.standard_normal(n * (n - 1))
    g = K.JthetaTmv(K.asArray(Wt), theta, K.asArray(Y))
    Kv = _matlabAntiSym(v, n) + 1e-4 * np.eye(n)        # the linear part
    np.testing.assert_allclose(toHost(K.thetaToMatlab(g)) @ v, np.sum(Wt * (Y @ Kv.T)), rtol=1e-12)


# ---------------------------------------------------------------- features, matrices, W
def test_features_match_index_formula(useGPU, rng):
    H, W, C, N = 3, 4, 2, 5
    Y_m = rng.standard_normal((H * W * C, N))
    xp = mg.getArrayModule(useGPU)
    Y = mg.featuresFromMatlab(xp.asarray(Y_m), (H, W, C))
    assert Y.shape == (N, H, W, C) and isinstance(Y, xp.ndarray)
    Yh = toHost(Y)
    for n, h, w, c in itertools.product(range(N), range(H), range(W), range(C)):
        assert Yh[n, h, w, c] == Y_m[h + H * w + H * W * c, n]
    np.testing.assert_array_equal(toHost(mg.featuresToMatlab(Y)), Y_m)
    # the 4-D array, a missing trailing singleton, vector features, one example
    Y4 = np.reshape(Y_m, (H, W, C, N), order="F")
    np.testing.assert_array_equal(toHost(mg.featuresFromMatlab(xp.asarray(Y4), (H, W, C))), Yh)
    Y1 = rng.standard_normal((H, W, N))
    np.testing.assert_array_equal(mg.featuresFromMatlab(Y1, (H, W, 1))[..., 0], Y1.transpose(2, 0, 1))
    V = rng.standard_normal((7, N))
    np.testing.assert_array_equal(mg.featuresFromMatlab(V, (7,)), V.T)
    np.testing.assert_array_equal(mg.featuresToMatlab(V.T), V)
    np.testing.assert_array_equal(mg.featuresFromMatlab(Y4[..., 0], (H, W, C)), Yh[:1])
    with pytest.raises(ValueError, match=r"featuresFromMatlab: Y_m must have shape \(24, nEx\)"):
        mg.featuresFromMatlab(Y_m[:-1], (H, W, C))
    with pytest.raises(ValueError, match=r"featuresToMatlab: Y must be an array of shape"):
        mg.featuresToMatlab(np.zeros(3))


def test_matrix_on_flat_features(useGPU, rng):
    sIn, sOut = (3, 2, 2), (2, 2, 3)
    B_m = rng.standard_normal((12, 12))
    xp = mg.getArrayModule(useGPU)
    B = mg.matrixFromMatlab(xp.asarray(B_m), rowSize=sOut, colSize=sIn)
    Y_m = rng.standard_normal((12, 4))
    # applying B to our C-order flattening = applying B_m to MATLAB's column-major one
    Z = (xp.asarray(mg.featuresFromMatlab(Y_m, sIn)).reshape(4, -1) @ B.T).reshape((4,) + sOut)
    np.testing.assert_allclose(toHost(mg.featuresToMatlab(Z)), B_m @ Y_m, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(toHost(mg.matrixToMatlab(B, rowSize=sOut, colSize=sIn)), B_m)
    np.testing.assert_array_equal(mg.matrixToMatlab(mg.matrixFromMatlab(B_m, colSize=sIn),
                                                    colSize=sIn), B_m)
    np.testing.assert_array_equal(mg.matrixFromMatlab(B_m), B_m)
    with pytest.raises(ValueError, match=r"matrixFromMatlab: the matrix has 12 rows but rowSize"):
        mg.matrixFromMatlab(B_m, rowSize=(2, 2))


@pytest.mark.parametrize("addBias", [True, False])
def test_loss_weights_softmax(addBias, useGPU, rng):
    sizeFeat, nClass, N = (2, 3, 2), 4, 6
    nF = 12
    W_m = rng.standard_normal(nClass * (nF + addBias))
    Y_m = rng.standard_normal((nF, N))
    C_m = np.eye(nClass)[:, rng.integers(0, nClass, N)]
    # Meganet.m's softmaxLoss: S = reshape(W, nClass, []) * [Y; 1], F = mean cross-entropy
    Wmat = np.reshape(W_m, (nClass, nF + addBias), order="F")
    Yaug = np.vstack([Y_m, np.ones((1, N))]) if addBias else Y_m
    S = Wmat @ Yaug
    S = S - S.max(axis=0)
    P = np.exp(S) / np.exp(S).sum(axis=0)
    Fref = (-(C_m * S).sum() + np.log(np.exp(S).sum(axis=0)).sum()) / N
    dWref = ((P - C_m) / N @ Yaug.T).ravel(order="F")
    dYref = (Wmat[:, :nF].T @ ((P - C_m) / N))

    xp = mg.getArrayModule(useGPU)
    loss = mg.SoftmaxLoss(addBias=addBias)
    W = mg.WFromMatlab(xp.asarray(W_m), sizeFeat, addBias=addBias)
    Y = mg.featuresFromMatlab(xp.asarray(Y_m), sizeFeat)
    F, _, dWF, _, dYF, _ = loss.getMisfit(W, Y, xp.asarray(C_m.T))
    np.testing.assert_allclose(float(toHost(F)), Fref, rtol=1e-13)
    np.testing.assert_allclose(toHost(mg.WToMatlab(dWF, sizeFeat, addBias=addBias)), dWref,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(toHost(mg.featuresToMatlab(dYF)), dYref, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(toHost(mg.WToMatlab(W, sizeFeat, addBias)), W_m)
    # the matrix form and a column vector give the same
    np.testing.assert_array_equal(mg.WFromMatlab(Wmat, sizeFeat, addBias), toHost(W))
    np.testing.assert_array_equal(mg.WFromMatlab(W_m[:, None], sizeFeat, addBias), toHost(W))


def test_loss_weights_errors():
    with pytest.raises(ValueError, match=r"WFromMatlab: W_m must have nClass \* 13 entries"):
        mg.WFromMatlab(np.zeros(27), (2, 3, 2))
    with pytest.raises(ValueError, match=r"WToMatlab: W must have nClass \* 12 entries"):
        mg.WToMatlab(np.zeros(13), (12,), addBias=False)
    with pytest.raises(ValueError, match="addBias must be True/False"):
        mg.WToMatlab(np.zeros(13), (12,), addBias=2)


def test_regression_loss_weights(rng):
    sizeFeat, nOut, N = (3, 2), 2, 5
    W_m = rng.standard_normal(nOut * 7)
    Y_m = rng.standard_normal((6, N))
    Wmat = np.reshape(W_m, (nOut, 7), order="F")
    S = Wmat @ np.vstack([Y_m, np.ones((1, N))])
    C_m = rng.standard_normal((nOut, N))
    loss = mg.RegressionLoss()
    F = loss.getMisfit(mg.WFromMatlab(W_m, sizeFeat), mg.featuresFromMatlab(Y_m, sizeFeat), C_m.T)[0]
    np.testing.assert_allclose(float(F), 0.5 * ((S - C_m) ** 2).sum() / N, rtol=1e-13)


# ---------------------------------------------------------------- load_mat of Meganet.m results
def _denseNet():
    return mg.NN([mg.SingleLayer(mg.getDenseAntiSym(3)), mg.SingleLayer(mg.Dense((2, 3)))])


def test_load_mat_meganet_m_results(tmp_path, rng):
    from scipy.io import savemat
    net = _denseNet()
    theta_m, W_m = rng.standard_normal(net.nThetaMatlab()), rng.standard_normal(4 * 3)
    names = np.empty((1, 3), dtype=object)
    names[0, :] = ["epoch", "Jc", "|x-xOld|"]
    his = rng.standard_normal((4, 3))
    # dnnObjFctn's x = [theta; W] as xc, and the optimizers' His struct (str, his)
    savemat(tmp_path / "res.mat", {"xc": np.concatenate([theta_m, W_m])[:, None],
                                   "His": {"str": names, "his": his}})
    theta, W, His = mg.load_mat(tmp_path / "res.mat", net=net)
    np.testing.assert_array_equal(theta, net.thetaFromMatlab(theta_m))
    np.testing.assert_array_equal(W, mg.WFromMatlab(W_m, (2,)))
    assert His.names == ["epoch", "Jc", "|x-xOld|"]
    np.testing.assert_array_equal(His.his, his)
    # separate variables win; W on image features and without bias
    img = mg.NN([mg.SingleLayer(mg.Conv2D((2, 2), (3, 3, 1, 2)))])
    th2, W2 = rng.standard_normal(18), rng.standard_normal(3 * 8)
    savemat(tmp_path / "res2.mat", {"theta": th2[:, None], "W": W2[:, None]})
    theta, W, His = mg.load_mat(tmp_path / "res2.mat", net=img, addBias=False)
    np.testing.assert_array_equal(theta, img.thetaFromMatlab(th2))
    np.testing.assert_array_equal(W, mg.WFromMatlab(W2, (2, 2, 2), addBias=False))
    assert His is None
    savemat(tmp_path / "res3.mat", {"theta": th2[:, None]})
    assert mg.load_mat(tmp_path / "res3.mat", net=img)[1] is None


def test_load_mat_meganet_m_errors(tmp_path):
    from scipy.io import savemat
    net = _denseNet()
    savemat(tmp_path / "a.mat", {"Y": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"holds no weights of the network: expected a variable "
                                         r"'theta' or 'xc' \(\[theta; W\]\); it has \['Y'\]"):
        mg.load_mat(tmp_path / "a.mat", net=net)
    savemat(tmp_path / "b.mat", {"xc": np.zeros((5, 1))})
    with pytest.raises(ValueError, match=r"xc has 5 entries, fewer than the 12 weights"):
        mg.load_mat(tmp_path / "b.mat", net=net)
    savemat(tmp_path / "c.mat", {"theta": np.zeros((13, 1))})
    with pytest.raises(ValueError, match=r"NN.thetaFromMatlab: theta_m must have length 12; got "
                                         r"length 13"):
        mg.load_mat(tmp_path / "c.mat", net=net)
    with pytest.raises(TypeError, match="net must be a meganet element"):
        mg.load_mat(tmp_path / "c.mat", net="net")
    savemat(tmp_path / "d.mat", {"theta": np.zeros((12, 1)), "His": {"a": 1}})
    with pytest.raises(ValueError, match=r"His must be Meganet.m's history struct with the fields "
                                         r"'str' and 'his'; got fields \['a'\]"):
        mg.load_mat(tmp_path / "d.mat", net=net)
