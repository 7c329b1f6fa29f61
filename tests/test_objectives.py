"""Objective functions: gradient (Taylor), Gauss-Newton Hessian, chunking, augmentation, errors."""
import numpy as np
import pytest

import meganet as mg



def _problem(useGPU=False, nEx=12, act=mg.tanhActivation, norm=False, seed=0):
    rng = np.random.default_rng(seed)
    K = mg.Dense((6, 3), useGPU=useGPU)
    nl = mg.TVNormLayer((6,), isWeight=True, useGPU=useGPU) if norm else None
    net = mg.SingleLayer(K, activation=act, Bin=np.ones((6, 1)), normLayer=nl)
    Y = rng.standard_normal((nEx, 3))
    C = np.eye(4)[rng.integers(0, 4, nEx)]
    loss = mg.SoftmaxLoss()
    th = net.initTheta(rng=1)
    W = mg.asArray(0.1 * rng.standard_normal(4 * 7), useGPU=useGPU)
    x = mg.asArray(np.concatenate([mg.toHost(th), mg.toHost(W)]), useGPU=useGPU)
    return net, loss, Y, C, x


@pytest.mark.parametrize("batchSize", [np.inf, 5])
@pytest.mark.parametrize("regs", [False, True])
def test_objective_gradient_taylor(batchSize, regs, useGPU):
    net, loss, Y, C, x = _problem(useGPU, norm=True)
    pRegTheta = mg.TikhonovReg(alpha=1e-2) if regs else None
    pRegW = mg.TikhonovReg(alpha=1e-3) if regs else None
    fctn = mg.DnnBatchObjFctn(net, pRegTheta, loss, pRegW, Y, C, batchSize=batchSize)
    res = mg.checkDerivative(fctn, x, rng=3)
    assert res.isOK, res.table()
    Jc, para, dJ, H, PC = fctn(x)
    assert dJ.shape == x.shape and PC is None
    assert para["hisNames"][:2] == ["F", "accuracy"]
    if regs:
        assert "R(theta)" in para["hisNames"] and "R(W)" in para["hisNames"]


def test_objective_on_subsets_and_chunks_agree(useGPU):
    net, loss, Y, C, x = _problem(useGPU, nEx=13)
    full = mg.DnnObjFctn(net, mg.TikhonovReg(alpha=1e-2), loss, None, Y, C)
    batch = mg.DnnBatchObjFctn(net, mg.TikhonovReg(alpha=1e-2), loss, None, Y, C, batchSize=4)
    J1, p1, g1, _, _ = full(x)
    J2, p2, g2, _, _ = batch(x)
    assert float(J1) == pytest.approx(float(J2), rel=1e-13)
    np.testing.assert_allclose(mg.toHost(g1), mg.toHost(g2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p1["hisVals"], p2["hisVals"], rtol=1e-12)
    idx = np.array([3, 0, 7, 12])
    J3 = full(x, idx)[0]
    sub = mg.DnnObjFctn(net, mg.TikhonovReg(alpha=1e-2), loss, None, Y[idx], C[idx])
    assert float(J3) == pytest.approx(float(sub(x)[0]), rel=1e-13)
    assert full.nData() == 13


def test_gauss_newton_blocks_match_exact_hessian_for_linear_network():
    """For a network linear in theta the theta-theta and W-W blocks of GN are exact."""
    net, loss, Y, C, x = _problem(act=mg.identityActivation)
    fctn = mg.DnnObjFctn(net, mg.TikhonovReg(alpha=1e-2), loss, mg.TikhonovReg(alpha=1e-3), Y, C)
    _, _, g, H, _ = fctn(x)
    nth = net.nTheta()
    rng = np.random.default_rng(5)
    for block in (slice(0, nth), slice(nth, x.size)):
        v = np.zeros_like(x)
        v[block] = rng.standard_normal(v[block].size)
        eps = 1e-5
        fd = (fctn(x + eps * v)[2] - fctn(x - eps * v)[2]) / (2 * eps)
        np.testing.assert_allclose((H @ v)[block], fd[block], rtol=1e-6, atol=1e-9)
    Hd = H.toDense()
    np.testing.assert_allclose(Hd, Hd.T, atol=1e-13)
    assert np.linalg.eigvalsh(Hd).min() > 0


def test_augmentation_only_on_gradient_evaluations():
    net, loss, Y, C, x = _problem()
    calls = []

    def shift(Yb):
        calls.append(Yb.shape[0])
        return Yb + 1.0

    aug = mg.DnnBatchObjFctn(net, None, loss, None, Y, C, batchSize=5, dataAugment=shift)
    plain = mg.DnnBatchObjFctn(net, None, loss, None, Y, C, batchSize=5)
    shifted = mg.DnnBatchObjFctn(net, None, loss, None, Y + 1.0, C, batchSize=5)
    J0 = aug(x, doDerivative=False)[0]
    assert not calls and float(J0) == float(plain(x, doDerivative=False)[0])
    J1, _, g1, _, _ = aug(x)
    assert calls == [5, 5, 2]
    J2, _, g2, _, _ = shifted(x)
    assert float(J1) == pytest.approx(float(J2), rel=1e-14)
    np.testing.assert_allclose(g1, g2, rtol=1e-13)


def test_objective_with_sgd_and_labels():
    net, loss, Y, C, x = _problem(nEx=40)
    fctn = mg.DnnBatchObjFctn(net, None, loss, None, Y, C, batchSize=16)
    opt = mg.SGD(maxEpochs=3, miniBatch=8, learningRate=0.1, out=0, rng=0)
    xc, His, xOpt = opt.solve(fctn, x)
    assert His["Jc"][-1] < His["Jc"][0]
    Cp = fctn.getLabels(xc)
    assert Cp.shape == C.shape and np.all(Cp.sum(1) == 1)


def test_objective_single_precision_device(device):
    net, loss, Y, C, x = _problem(True)
    net.precision = "single"
    x32 = net.asArray(mg.toHost(x))
    fctn = mg.DnnBatchObjFctn(net, mg.TikhonovReg(alpha=1e-2, useGPU=True, precision="single"),
                              loss, None, Y, C, batchSize=5)
    Jc, para, dJ, H, _ = fctn(x32)
    assert dJ.dtype == np.float32 and mg.backend.isDeviceArray(dJ)
    assert (H @ x32).dtype == np.float32


def test_objective_bad_input():
    net, loss, Y, C, x = _problem()
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ net.sizeFeatIn\(\) = \(N, 3\); got \(12, 4\)"):
        mg.DnnObjFctn(net, None, loss, None, np.ones((12, 4)), C)
    with pytest.raises(ValueError, match=r"C must have shape \(N, nClass\).*N=12 as Y; got \(11, 4\)"):
        mg.DnnObjFctn(net, None, loss, None, Y, C[:11])
    with pytest.raises(TypeError, match="floating point features"):
        mg.DnnObjFctn(net, None, loss, None, Y.astype(np.uint8), C)
    with pytest.raises(ValueError, match="batchSize must be a positive integer"):
        mg.DnnBatchObjFctn(net, None, loss, None, Y, C, batchSize=0)
    with pytest.raises(TypeError, match="pLoss must be a loss"):
        mg.DnnObjFctn(net, None, "softmax", None, Y, C)
    f = mg.DnnObjFctn(net, None, loss, None, Y, C)
    with pytest.raises(ValueError, match="more than net.nTheta"):
        f(x[:net.nTheta()])
    with pytest.raises(ValueError, match=r"idx must hold integer indices in \[0, 12\)"):
        f(x, np.array([0, 12]))
    with pytest.raises(ValueError, match="must be one-hot|one-hot"):
        mg.DnnObjFctn(net, None, loss, None, Y, 2 * C)(x)


# ---------------------------------------------------------------- variable projection
def _varpro(useGPU=False, nEx=20):
    net, loss, Y, C, x = _problem(useGPU, nEx=nEx)
    nW = 4 * 7
    fctn = mg.DnnVarProObjFctn(net, mg.TikhonovReg(alpha=1e-3), loss, mg.TikhonovReg(alpha=1e-2),
                               None, Y, C, nW)
    return fctn, net, loss, Y, C, x[:net.nTheta()]


def test_varpro_gradient_and_inner_optimality(useGPU):
    fctn, net, loss, Y, C, th = _varpro(useGPU)
    Jc, para, dJ = fctn(th)
    W = para["W"]
    assert W.shape == (28,)
    # W minimises the inner problem: its gradient vanishes
    inner = mg.ClassObjFctn(loss, mg.TikhonovReg(alpha=1e-2), net.forwardProp(th, net.asArray(Y))[0], net.asArray(C))
    gW = mg.toHost(inner(W)[2])
    assert np.linalg.norm(gW) < 1e-10
    # the reduced objective's value equals the full objective at [theta; W]
    full = mg.DnnObjFctn(net, mg.TikhonovReg(alpha=1e-3), loss, mg.TikhonovReg(alpha=1e-2), Y, C)
    assert float(Jc) == pytest.approx(float(full(net.xp.concatenate([th, W]))[0]), rel=1e-12)
    res = mg.checkDerivative(fctn, th, rng=4)
    assert res.isOK, res.table()


def test_varpro_with_outer_lbfgs_decreases():
    fctn, net, loss, Y, C, th = _varpro()
    thc, His, _ = mg.LBFGS(maxIter=5).solve(fctn, th)
    assert His["Jc"][-1] < His["Jc"][0]
    assert fctn.getLabels(thc).shape == C.shape


def test_varpro_gauss_newton_hessian(useGPU):
    fctn, net, loss, Y, C, th = _varpro(useGPU)
    fctn.gnHessian = True
    Jc, para, dJ, H, PC = fctn(th)
    assert PC is None
    Jc3, _, dJ3 = _varpro(useGPU)[0](th)
    np.testing.assert_allclose(mg.toHost(dJ), mg.toHost(dJ3), rtol=1e-10)
    # the theta block of the full Gauss-Newton Hessian at [theta; W(theta)]
    full = mg.DnnObjFctn(net, mg.TikhonovReg(alpha=1e-3), loss, mg.TikhonovReg(alpha=1e-2), Y, C)
    Hf = full(net.xp.concatenate([th, para["W"]]))[3]
    rng = np.random.default_rng(0)
    v, w = (net.asArray(rng.standard_normal(th.size)) for _ in range(2))
    vz = net.xp.concatenate([v, net.xp.zeros(para["W"].size)])
    np.testing.assert_allclose(mg.toHost(H @ v), mg.toHost(Hf @ vz)[:th.size], rtol=1e-10)
    # symmetric positive semi-definite
    assert float(w @ (H @ v)) == pytest.approx(float(v @ (H @ w)), rel=1e-10)
    assert float(v @ (H @ v)) > 0
    assert fctn(th, doDerivative=False)[2:] == (None, None, None)


def test_varpro_with_trust_region_newton_decreases():
    fctn, net, loss, Y, C, th = _varpro()
    fctn.gnHessian = True
    thc, His, _ = mg.TRNewton(maxIter=4).solve(fctn, th)
    assert His["Jc"][-1] < His["Jc"][0]


def test_varpro_bad_input():
    net, loss, Y, C, x = _problem()
    with pytest.raises(ValueError, match="pRegW must be a TikhonovReg with alpha > 0"):
        mg.DnnVarProObjFctn(net, None, loss, None, None, Y, C, 28)
    fctn, net, loss, Y, C, th = _varpro()
    with pytest.raises(ValueError, match=r"x must be theta, a flat vector of net.nTheta\(\)=19"):
        fctn(x)
