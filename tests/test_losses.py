"""Loss functions: values, derivatives (Taylor), Hessians, overflow safety, labels, bad input."""
import math

import numpy as np
import pytest

import meganet as mg
from meganet.backend import asArray, isDeviceArray, toHost
from helpers import randn

N, NF, K = 7, 4, 3
LOSSES = ["softmax", "logistic", "regression", "mse"]


def relErr(A, B):
    A, B = np.asarray(toHost(A), float), np.asarray(toHost(B), float)
    assert A.shape == B.shape, (A.shape, B.shape)
    den = np.linalg.norm(B)
    return np.linalg.norm(A - B) / (den if den > 0 else 1.0)


def makeLoss(kind, addBias=True, theta=0.0):
    if kind == "softmax":
        return mg.SoftmaxLoss(theta=theta, addBias=addBias)
    if kind == "logistic":
        return mg.LogRegressionLoss(theta=theta, addBias=addBias)
    if kind == "regression":
        G = np.random.default_rng(5).standard_normal((2, K))
        return mg.RegressionLoss(addBias=addBias, Gamma=G)
    return mg.MseLoss(addBias=addBias)


def makeTargets(kind, rng, n=N, k=K):
    if kind in ("softmax", "mse"):
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "logistic":
        return (rng.random((n, k)) > 0.5).astype(float)   # independent binary labels
    return rng.standard_normal((n, k))


def setup(kind, addBias, useGPU, rng, precision="double", yShape=(N, NF)):
    nf = int(np.prod(yShape[1:]))
    Y = randn(yShape, useGPU, precision, rng=rng)
    C = asArray(makeTargets(kind, rng, yShape[0]), useGPU, precision)
    W = randn(K * (nf + addBias), useGPU, precision, rng=rng)
    return W, Y, C


def perExampleLoss(kind, s, c, loss):
    """Independent reference for one example's loss (plain Python floats)."""
    if kind == "softmax":
        m = max(s)
        return -sum(ci * si for ci, si in zip(c, s)) + m + math.log(sum(math.exp(si - m) for si in s))
    if kind == "logistic":
        return sum(math.log1p(math.exp(-abs(si))) + max(si, 0.0) - ci * si for si, ci in zip(s, c))
    if kind == "regression":
        r = loss.Gamma @ (np.asarray(s) - np.asarray(c))
        return 0.5 * float(r @ r)
    return 0.5 * sum((si - ci) ** 2 for si, ci in zip(s, c))


# ---------------------------------------------------------------------------- values

@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("addBias", [True, False])
def test_value_and_para_against_loops(kind, addBias, useGPU, rng):
    loss = makeLoss(kind, addBias)
    W, Y, C = setup(kind, addBias, useGPU, rng)
    F, para, dWF, d2WF, dYF, d2YF = loss.getMisfit(W, Y, C)
    assert isDeviceArray(F) == useGPU and isDeviceArray(para) == useGPU and isDeviceArray(dWF) == useGPU
    Wm = toHost(W).reshape(K, NF + addBias)
    Yh, Ch = toHost(Y), toHost(C)
    total, nErr = 0.0, 0
    for i in range(N):
        y = list(Yh[i]) + ([1.0] if addBias else [])
        s = [sum(Wm[k, j] * y[j] for j in range(len(y))) for k in range(K)]
        total += perExampleLoss(kind, s, Ch[i], loss)
        if kind == "logistic":
            nErr += any((s[k] > 0) != (Ch[i, k] == 1) for k in range(K))
        else:
            nErr += int(np.argmax(s) != np.argmax(Ch[i]))
    assert abs(float(F) - total / N) < 1e-13 * max(1.0, abs(total))
    if kind == "regression":      # third entry repeats the loss, as in Meganet.m
        assert relErr(para, [total, N, total]) < 1e-14
        assert relErr(loss.hisVals(para), [total / N]) < 1e-14
    else:
        assert relErr(para, [total, N, nErr]) < 1e-14
        assert relErr(loss.hisVals(para), [total / N, 100.0 * (1 - nErr / N)]) < 1e-14
    assert dWF.shape == W.shape and dYF.shape == Y.shape
    assert d2WF.n == (W.size,) and d2YF.n == Y.shape


def test_softmax_accuracy_hand_made():
    # S = Y (no bias, W = identity): rows 0, 1 classified right, row 2 wrong (argmax 0, class 1)
    Y = np.array([[3.0, 1.0], [0.0, 2.0], [5.0, 4.0]])
    C = np.array([[1, 0], [0, 1], [0, 1]])
    loss = mg.SoftmaxLoss(addBias=False)
    W = np.eye(2).ravel()
    F, para, *_ = loss.getMisfit(W, Y, C)
    assert toHost(para).tolist()[1:] == [3.0, 1.0]
    assert loss.hisVals(para)[1] == pytest.approx(200.0 / 3.0)
    assert loss.getLabels(W, Y).tolist() == [[1, 0], [0, 1], [1, 0]]
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-2)) + math.log(1 + math.exp(1))) / 3
    assert float(F) == pytest.approx(expected, rel=1e-14)


def test_logistic_labels_and_errors_hand_made():
    Y = np.array([[2.0], [-1.0], [0.5], [-3.0]])
    C = np.array([[1.0], [0.0], [0.0], [1.0]])
    loss = mg.LogRegressionLoss(addBias=False)
    W = np.array([1.0])
    F, para, *_ = loss.getMisfit(W, Y, C)
    assert loss.getLabels(W, Y).ravel().tolist() == [1, 0, 1, 0]
    assert toHost(para)[2] == 2.0 and loss.hisVals(para)[1] == pytest.approx(50.0)
    ref = np.mean([math.log1p(math.exp(-2)), math.log1p(math.exp(-1)), math.log1p(math.exp(0.5)),
                   math.log1p(math.exp(-3)) + 3])
    assert float(F) == pytest.approx(ref, rel=1e-14)


def test_regression_bias_column_is_ones():
    # one feature, W = [0, b]: S = b for every example (a zero bias column would give S = 0)
    Y = np.array([[1.0], [2.0]])
    C = np.array([[3.0], [3.0]])
    F, *_ = mg.RegressionLoss().getMisfit(np.array([0.0, 3.0]), Y, C)
    assert float(F) == 0.0
    F, *_ = mg.RegressionLoss(Gamma=2.0).getMisfit(np.array([0.0, 1.0]), Y, C)
    assert float(F) == pytest.approx(0.5 * 4 * 4.0)   # 0.5/N * sum (2 * (1 - 3))^2


# ---------------------------------------------------------------------------- derivatives

@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("addBias", [True, False])
def test_taylor_gradients_and_hessians(kind, addBias, useGPU, rng):
    loss = makeLoss(kind, addBias)
    W, Y, C = setup(kind, addBias, useGPU, rng, yShape=(N, 2, NF // 2))   # image-like Y is flattened
    res = mg.checkDerivative(lambda w: (loss.getMisfit(w, Y, C)[0], loss.getMisfit(w, Y, C)[2]), W, rng=1)
    assert res.isOK, res.table()
    res = mg.checkDerivative(lambda y: (loss.getMisfit(W, y, C)[0], loss.getMisfit(W, y, C)[4]), Y, rng=2)
    assert res.isOK, res.table()
    # Hessian-vector products: Taylor test of the gradient (the Hessians are exact)
    res = mg.checkDerivative(lambda w: (loss.getMisfit(w, Y, C)[2], loss.getMisfit(w, Y, C)[3]), W, rng=3)
    assert res.isOK, res.table()
    res = mg.checkDerivative(lambda y: (loss.getMisfit(W, y, C)[4], loss.getMisfit(W, y, C)[5]), Y, rng=4)
    assert res.isOK, res.table()


@pytest.mark.parametrize("kind", LOSSES)
def test_hessian_vs_finite_differences_and_symmetry(kind, useGPU, rng):
    loss = makeLoss(kind, True)
    W, Y, C = setup(kind, True, useGPU, rng)
    _, _, g, d2WF, gY, d2YF = loss.getMisfit(W, Y, C)
    v = randn(W.shape, useGPU, rng=rng)
    h = 1e-5
    fd = (loss.getMisfit(W + h * v, Y, C)[2] - loss.getMisfit(W - h * v, Y, C)[2]) / (2 * h)
    assert relErr(d2WF @ v, fd) < 1e-8
    V = randn(Y.shape, useGPU, rng=rng)
    fd = (loss.getMisfit(W, Y + h * V, C)[4] - loss.getMisfit(W, Y - h * V, C)[4]) / (2 * h)
    assert relErr(d2YF @ V, fd) < 1e-8
    HW, HY = d2WF.toDense(), d2YF.toDense()
    assert relErr(HW, HW.T) < 1e-14 and relErr(HY, HY.T) < 1e-14
    assert np.linalg.eigvalsh(HW).min() > -1e-12       # all four losses are convex in S
    assert mg.checkAdjoint(d2WF, rng=0)[0] and mg.checkAdjoint(d2YF, rng=0)[0]


def test_softmax_hessian_explicit_and_damping(rng):
    theta = 0.3
    W, Y, C = setup("softmax", True, False, rng)
    Ya = np.hstack([Y, np.ones((N, 1))])
    S = Ya @ W.reshape(K, NF + 1).T
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    Hs = np.stack([np.diag(p) - np.outer(p, p) for p in P])
    # d2F/dW2 [(k, j), (l, m)] = 1/N sum_i Hs_i[k, l] Ya[i, j] Ya[i, m]
    HW = np.einsum("ikl,ij,im->kjlm", Hs, Ya, Ya).reshape(K * (NF + 1), -1) / N
    d2 = mg.SoftmaxLoss().getMisfit(W, Y, C)[3].toDense()
    assert relErr(d2, HW) < 1e-13
    d2t = mg.SoftmaxLoss(theta=theta).getMisfit(W, Y, C)[3].toDense()
    damp = theta / N * np.kron(np.eye(K), Ya.T @ Ya)     # theta I in S-space, scaled like the loss
    assert relErr(d2t, HW + damp) < 1e-13
    # damping leaves F and the gradients unchanged
    a, b = mg.SoftmaxLoss().getMisfit(W, Y, C), mg.SoftmaxLoss(theta=theta).getMisfit(W, Y, C)
    assert float(a[0]) == float(b[0]) and relErr(a[2], b[2]) == 0 and relErr(a[4], b[4]) == 0


@pytest.mark.parametrize("kind", LOSSES)
def test_eval_on_scores(kind, useGPU, rng):
    loss = makeLoss(kind, True)
    S = randn((N, K), useGPU, rng=rng)
    C = asArray(makeTargets(kind, rng), useGPU)
    F, para, dF, d2F, H = loss.eval(S, C)
    Fi = loss.eval(S, C, reduceDim=False)[0]
    assert Fi.shape == (N,) and relErr(Fi.sum(), F) < 1e-14
    res = mg.checkDerivative(lambda s: (loss.eval(s, C)[0], loss.eval(s, C)[2]), S, rng=1)
    assert res.isOK, res.table()
    res = mg.checkDerivative(lambda s: (loss.eval(s, C)[2], loss.eval(s, C)[3]), S, rng=2)
    assert res.isOK, res.table()
    # the per-example blocks are the diagonal blocks of d2F (and all of it)
    D = d2F.toDense().reshape(N, K, N, K)
    blocks = np.stack([D[i, :, i, :] for i in range(N)])
    assert relErr(H, blocks) < 1e-14
    assert relErr(D, np.einsum("ikl,ij->ikjl", blocks, np.eye(N))) < 1e-14
    # getMisfit with W = identity (no bias) and Y = S gives the same values
    loss2 = makeLoss(kind, False)
    F2, para2, *_ = loss2.getMisfit(asArray(np.eye(K).ravel(), useGPU), S, C)
    assert relErr(F2, F) < 1e-14 and relErr(para2, para) < 1e-14


# ---------------------------------------------------------------------------- robustness

@pytest.mark.parametrize("kind", ["softmax", "logistic"])
def test_no_overflow_for_large_scores(kind, useGPU):
    # Meganet.m's test: W = [I, 1], Y = C; scaling W by 1e4 must neither overflow nor give nan
    C = np.eye(2)[np.random.default_rng(0).integers(0, 2, 50)]
    W = np.hstack([np.eye(2), np.ones((2, 1))]).ravel()
    if kind == "logistic":
        W = np.hstack([2 * np.eye(2) - 1, np.zeros((2, 1))]).ravel()    # S = +1 on the class, -1 off
    loss = makeLoss(kind)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        F, para, dW, d2W, dY, d2Y = loss.getMisfit(asArray(1e4 * W, useGPU), asArray(C, useGPU),
                                                   asArray(C, useGPU))
        assert np.isfinite(float(F)) and float(F) < 1e-9
        assert np.all(np.isfinite(toHost(dW))) and np.all(np.isfinite(toHost(dY)))
        assert np.all(np.isfinite(toHost(d2W @ asArray(W, useGPU))))
        # badly wrong predictions at 1e4: large but finite loss
        F3 = loss.getMisfit(asArray(-1e4 * W, useGPU), asArray(C, useGPU), asArray(C, useGPU))[0]
        assert np.isfinite(float(F3)) and float(F3) > 1e3


@pytest.mark.parametrize("kind", ["softmax", "logistic", "mse"])
def test_class_indices_equal_one_hot(kind, useGPU, rng):
    loss = makeLoss(kind)
    W, Y, _ = setup(kind, True, useGPU, rng)
    idx = rng.integers(0, K, N)
    a = loss.getMisfit(W, Y, asArray(np.eye(K)[idx], useGPU))
    b = loss.getMisfit(W, Y, _intArray(idx, useGPU))
    for u, v in zip(a[:3] + a[4:5], b[:3] + b[4:5]):
        assert relErr(u, v) == 0


def _intArray(a, useGPU):
    if not useGPU:
        return np.asarray(a)
    return mg.getArrayModule(True).asarray(np.asarray(a))


def test_single_precision_smoke(useGPU, rng):
    for kind in LOSSES:
        loss = makeLoss(kind)
        W, Y, C = setup(kind, True, useGPU, rng, precision="single")
        F, para, dW, d2W, dY, d2Y = loss.getMisfit(W, Y, C)
        assert F.dtype == para.dtype == dW.dtype == dY.dtype == np.float32
        assert (d2W @ W).dtype == np.float32 and d2W.precision == "single"
        F64 = loss.getMisfit(*[asArray(toHost(a), False) for a in (W, Y, C)])[0]
        assert abs(float(F) - float(F64)) < 1e-5 * max(1.0, abs(float(F64)))


def test_getLabels_and_no_derivatives(useGPU, rng):
    loss = mg.SoftmaxLoss()
    W, Y, C = setup("softmax", True, useGPU, rng)
    Cp = toHost(loss.getLabels(W, Y))
    S = np.hstack([toHost(Y), np.ones((N, 1))]) @ toHost(W).reshape(K, -1).T
    assert Cp.tolist() == np.eye(K)[np.argmax(S, axis=1)].tolist()
    out = loss.getMisfit(W, Y, C, doDerivative=False)
    assert len(out) == 6 and out[2:] == (None,) * 4
    assert relErr(out[0], loss.getMisfit(W, Y, C)[0]) == 0
    names, frmt = loss.hisNames()
    assert names == ["F", "accuracy"] and len(frmt) == 2
    assert mg.RegressionLoss().hisNames()[0] == ["F"]


# ---------------------------------------------------------------------------- bad input

def test_bad_shapes():
    loss = mg.SoftmaxLoss()
    Y, C = np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]]
    with pytest.raises(ValueError, match=r"W must have nClass\*\(nFeat\+1\) = 2\*4 = 8 entries \(nClass = 2 "
                                         r"from C, nFeat = 3 from Y \(\+1 for the bias\)\); got 6"):
        loss.getMisfit(np.zeros(6), Y, C)
    with pytest.raises(ValueError, match=r"W must be a flat vector .*got shape \(2, 4\)"):
        loss.getMisfit(np.zeros((2, 4)), Y, C)
    with pytest.raises(ValueError, match=r"Y must have shape \(N, nFeat\).*got \(4,\)"):
        loss.getMisfit(np.zeros(8), np.zeros(4), C)
    with pytest.raises(ValueError, match=r"C must have shape \(4, 2\) \(one row per "
                                         r"example of Y\); got \(3, 2\)"):
        loss.getMisfit(np.zeros(8), Y, C[:3])
    with pytest.raises(ValueError, match=r"a multiple of 4 \(nFeat = 3 from Y \(\+1 for the bias\)\); got 7"):
        loss.getMisfit(np.zeros(7), Y, np.array([0, 1, 0, 1]))
    with pytest.raises(TypeError, match="W and Y must have the same dtype; got float32 and float64"):
        loss.getMisfit(np.zeros(8, np.float32), Y, C)
    with pytest.raises(TypeError, match="Y must be float32 or float64; got dtype int64"):
        loss.getMisfit(np.zeros(8), np.zeros((4, 3), int), C)
    with pytest.raises(ValueError, match=r"S must have shape \(N, nClass\); got \(4,\)"):
        loss.eval(np.zeros(4), C)


def test_bad_labels():
    Y, W = np.zeros((3, 2)), np.zeros(6)
    soft = mg.SoftmaxLoss()
    with pytest.raises(ValueError, match=r"one-hot rows .*row 1 is \[0.5, 0.5\]"):
        soft.getMisfit(W, Y, np.array([[1, 0], [0.5, 0.5], [0, 1]]))
    with pytest.raises(ValueError, match=r"one-hot rows .*row 2 is \[1.0, 1.0\]"):
        soft.getMisfit(W, Y, np.array([[1, 0], [0, 1], [1, 1]]))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 2\) \(nClass = "
                                         r"2\); got values in \[0, 2\]"):
        soft.getMisfit(W, Y, np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="a 1-D C must hold integer class indices; got dtype float64"):
        soft.getMisfit(W, Y, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"binary labels \(entries 0 or 1\).*row 0 is \[2.0, 0.0\]"):
        mg.LogRegressionLoss().getMisfit(W, Y, np.array([[2, 0], [0, 1], [1, 1]]))
    with pytest.raises(ValueError, match=r"RegressionLoss: C must have shape \(N, "
                                         r"nOut\) = \(3, 2\); got \(3,\)"):
        mg.RegressionLoss().getMisfit(W, Y, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"Gamma must have nOut = 2 columns .*got shape \(2, 3\)"):
        mg.RegressionLoss(Gamma=np.ones((2, 3))).getMisfit(W, Y, np.ones((3, 2)))
    with pytest.raises(ValueError, match="RegressionLoss: C must be finite"):
        mg.RegressionLoss().getMisfit(W, Y, np.array([[0, np.nan], [0, 1], [1, 1]]))


def test_bad_options():
    with pytest.raises(ValueError, match="SoftmaxLoss: theta must be a non-negative number; got -1"):
        mg.SoftmaxLoss(theta=-1)
    with pytest.raises(ValueError, match=r"LogRegressionLoss: addBias must be True/False \(or 0/1\); got 2"):
        mg.LogRegressionLoss(addBias=2)
    with pytest.raises(ValueError, match=r"RegressionLoss: Gamma must be a number or a 2-D "
                                         r"\(p, nOut\) matrix; got shape \(3,\)"):
        mg.RegressionLoss(Gamma=np.ones(3))
    assert mg.SoftmaxLoss(addBias=0).addBias is False


def test_backend_mixing_is_refused(device):
    loss = mg.SoftmaxLoss()
    Y = randn((3, 2), True, rng=0)
    C = asArray(np.eye(2)[[0, 1, 0]], True)
    with pytest.raises(TypeError, match="SoftmaxLoss: W is a NumPy array but Y is a device array"):
        loss.getMisfit(np.zeros(6), Y, C)
    with pytest.raises(TypeError, match="SoftmaxLoss: C is a NumPy array but Y is a device array"):
        loss.getMisfit(asArray(np.zeros(6), True), Y, np.eye(2)[[0, 1, 0]])
