"""End-to-end training: the whole objective on a PDE network, SGD on the peaks data, resume."""
import numpy as np
import pytest

import meganet as mg
from test_meganet import _pdeNetwork


def _blockRegs(net, alpha=(1e-2, 1e-3)):
    """The paper's regularizer per block: smoothed TV in time (+ weight decay) for the PDE
    blocks, weight decay for the others."""
    regs = []
    for b in net.blocks:
        n = b.nTheta()
        nt = getattr(b, "nt", None)
        if nt is not None and nt > 1 and n:
            regs.append(mg.L1Reg(mg.opTimeDer(n, nt, useGPU=net.useGPU, precision=net.precision),
                                 alpha=alpha, B2=mg.opEye(n, useGPU=net.useGPU, precision=net.precision)))
        else:
            regs.append(mg.TikhonovReg(alpha=alpha[1], useGPU=net.useGPU, precision=net.precision))
    return mg.BlockReg(regs, sizes=[b.nTheta() for b in net.blocks])


@pytest.mark.parametrize("batchSize", [np.inf, 3])
def test_objective_taylor_on_pde_meganet(batchSize, useGPU):
    """Taylor test of the whole objective's gradient on a Meganet with every block kind."""
    net = _pdeNetwork(useGPU)
    rng = np.random.default_rng(0)
    N = 5
    Y = rng.standard_normal((N,) + net.sizeFeatIn())
    C = np.eye(3)[rng.integers(0, 3, N)]
    nW = 3 * (net.numelFeatOut() + 1)
    fctn = mg.DnnBatchObjFctn(net, _blockRegs(net), mg.SoftmaxLoss(), mg.TikhonovReg(alpha=1e-3),
                              Y, C, batchSize=batchSize)
    th = net.initTheta(rng=1)
    x = net.xp.concatenate([th + net.asArray(0.05 * rng.standard_normal(th.size)),
                            net.asArray(0.3 * rng.standard_normal(nW))])
    res = mg.checkDerivative(fctn, x, rng=2)
    assert res.isOK, res.table()
    _, para, _, H, _ = fctn(x)
    assert "R(theta)" in para["hisNames"]
    v = net.asArray(rng.standard_normal(x.size))
    w = net.asArray(rng.standard_normal(x.size))
    a, b = float((H @ v) @ w), float(v @ (H @ w))
    assert a == pytest.approx(b, rel=1e-10)


def _peaksProblem(nTrain=2000, nVal=500, nf=16, nt=8):
    Y, C = mg.setupPeaks(nTrain, 5, rng=0)
    Yv, Cv = mg.setupPeaks(nVal, 5, rng=1)
    opening = mg.NN([mg.SingleLayer(mg.Dense((nf, 2)), activation=mg.tanhActivation,
                                    Bout=np.ones((nf, 1)))])
    layer = mg.DoubleSymLayer(mg.Dense((2 * nf, nf)), activation=mg.tanhActivation,
                              Bin=np.ones((2 * nf, 1)))
    net = mg.Meganet([opening, mg.ResNN(layer, nt, 0.5)])
    loss = mg.SoftmaxLoss()
    fctn = mg.DnnBatchObjFctn(net, mg.TikhonovReg(alpha=1e-4), loss, mg.TikhonovReg(alpha=1e-4),
                              Y, C, batchSize=1000)
    fval = mg.DnnBatchObjFctn(net, None, loss, None, Yv, Cv, batchSize=1000)
    x0 = np.concatenate([net.initTheta(rng=0), np.zeros(5 * (nf + 1))])
    return net, fctn, fval, x0


def test_sgd_trains_parabolic_network_on_peaks():
    """SGD (ADAM) on the peaks data: the best epoch reaches >= 80% validation accuracy (5
    classes) within 50 epochs and the training misfit halves.

    The trajectory of a training run depends on rounding (the BLAS kernel of the
    processor): with the OpenBLAS kernels Haswell, SkylakeX, SandyBridge, Zen, Nehalem and
    Prescott the best accuracy was 86.6-95.8% and the final misfit 0.16-0.42 (from 1.08),
    so the thresholds leave room for that spread. (A larger learning rate, 0.01, gave
    final accuracies from 74% to 90% depending on the kernel.)
    """
    net, fctn, fval, x0 = _peaksProblem()
    opt = mg.SGD(maxEpochs=50, miniBatch=32, learningRate=0.003, ADAM=True, nesterov=False,
                 out=0, rng=0, progress=False)
    xc, His, xOpt = opt.solve(fctn, x0, fval)
    acc = His["val accuracy"]
    assert acc.max() >= 80.0, His.table()
    assert His["train F"][-1] < 0.5 * His["train F"][0]
    Cp = fval.getLabels(xOpt)
    assert 100 * np.mean(Cp.argmax(1) == fval.C.argmax(1)) == pytest.approx(acc.max(), abs=1e-9)


def test_sgd_resume_on_network_reproduces_uninterrupted_run(tmp_path):
    net, fctn, fval, x0 = _peaksProblem(nTrain=200, nVal=100, nf=4, nt=2)

    def make(path):
        return mg.SGD(maxEpochs=4, miniBatch=16, learningRate=0.05, momentum=0.9, out=0, rng=7,
                      progress=False, checkpoint=path)

    xRef, HisRef, _ = make(tmp_path / "ref.h5").solve(fctn, x0, fval)

    calls = {"n": 0}

    class Killed(Exception):
        pass

    def dying(x, idx=None, doDerivative=True):
        calls["n"] += 1
        if calls["n"] == 25:          # in the third epoch (12 mini-batches per epoch)
            raise KeyboardInterrupt
        return fctn(x, idx, doDerivative=doDerivative)
    dying.nData = fctn.nData

    path = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):
        make(path).solve(dying, x0, fval)
    assert path.exists()
    xRes, HisRes, _ = make(path).solve(fctn, x0, fval, resume=True)
    np.testing.assert_allclose(xRes, xRef, rtol=0, atol=1e-12)
    np.testing.assert_allclose(HisRes["Jc"], HisRef["Jc"], rtol=1e-12)
