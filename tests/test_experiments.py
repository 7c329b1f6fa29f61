"""The experiments sub-package: PDE-CNN builder, results files, history subset, figures."""

import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


@pytest.mark.parametrize("dynamic", mg.PDE_DYNAMICS)
def test_pdeCNN_structure_and_regularizer(dynamic):
    net, pReg = mg.pdeCNN((8, 8), 3, [4, 6, 8], dynamic, nt=2, precision="double")
    assert net.sizeFeatIn() == (8, 8, 3)
    assert net.sizeFeatOut() == (1, 1, 8)
    # opening, then per unit: PDE block, connector, pooling
    assert len(net.blocks) == 1 + 3 * 2
    assert pReg.nTheta() == net.nTheta()
    theta = net.initTheta(rng=0)
    S, _, dS, _ = pReg.regularizer(theta)
    assert np.isfinite(float(S)) and dS.shape == theta.shape
    # norm-layer scales/shifts are not decayed: the gradient vanishes there when the
    # time-derivative term is switched off
    net0, pReg0 = mg.pdeCNN((8, 8), 3, [4, 6, 8], dynamic, nt=2, alpha=(0, 1.0, 0), precision="double")
    opening = net0.blocks[0].layers[0]
    nK = opening.K.nTheta()
    th0 = np.ones(net0.nTheta())
    g = pReg0.regularizer(th0)[2]
    np.testing.assert_allclose(g[:nK], 1.0)
    np.testing.assert_allclose(g[nK:net0.blocks[0].nTheta()], 0.0)


@pytest.mark.parametrize("dynamic", mg.PDE_DYNAMICS)
def test_pdeCNN_derivatives(dynamic):
    net, _ = mg.pdeCNN(
        (4, 4), 1, [2, 4, 4], dynamic, nt=2, h=0.5, normLayer=mg.BatchNormLayer, precision="double"
    )
    Y = randn((3, 4, 4, 1), rng=1)
    assertElementDerivatives(net, Y=Y, reduceDim=False, checkTmp=False)


def test_pdeCNN_time_smoothness_uses_l1():
    net, pReg = mg.pdeCNN((4, 4), 1, [2, 4], "parabolic", nt=3, precision="double")
    assert isinstance(pReg.blocks[1], mg.L1Reg)
    net, pReg = mg.pdeCNN((4, 4), 1, [2, 4], "parabolic", nt=3, alpha=(1e-4, 1e-4, 0), precision="double")
    assert isinstance(pReg.blocks[1], mg.TikhonovReg)


@pytest.mark.parametrize(
    "kw, match",
    [(dict(dynamic="wave"), "unknown dynamic"), (dict(nf=[4]), "at least two"), (dict(nImg=(6, 6), nf=[2, 2,
     2, 2]), "divisible"), (dict(dynamic="hamiltonian", nf=[3, 4]), "even"), (dict(nt=[1, 2, 3]),
     "one value per unit"), (dict(alpha=(1, 2)), "alpha")],
)
def test_pdeCNN_rejects_bad_input(kw, match):
    args = dict(nImg=(8, 8), cin=1, nf=[2, 4, 4], dynamic="parabolic")
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        mg.pdeCNN(**args)


def test_initSoftmaxWeights():
    W = mg.initSoftmaxWeights(10, 7, rng=0)
    assert W.shape == (80,) and W.dtype == np.float32
    assert np.abs(W).max() <= 0.2 and np.abs(W).max() > 0.1


def _history():
    return mg.History(["epoch", "Jc", "train accuracy", "val F", "val accuracy"], [[1, 1.0, 60.0, 0.9, 62.0],
                      [2, 0.5, 80.0, 0.6, 78.0]], stopReason="maxEpochs")


def test_saveResults_roundtrip(tmp_path):
    net, _ = mg.pdeCNN((4, 4), 1, [2, 4], "leapfrog", nt=1, normLayer=mg.BatchNormLayer2, precision="double")
    theta = net.initTheta(rng=0)
    net.forwardProp(theta, randn((5, 4, 4, 1), rng=2) + 3.0)  # moves the running statistics
    states = mg.getNormStates(net)
    assert len(states) == 2 and not np.allclose(states[0][0], 0)
    xc = np.arange(5.0)
    files = mg.saveResults(tmp_path / "r.h5", xc, _history(), xOpt=2 * xc, settings=dict(nf=[2, 4],
                           norm=mg.TVNormLayer), accuracy={"test": 91.5}, arrays={"P": np.eye(3)}, mat=True,
                           net=net)
    assert [f.endswith(s) for f, s in zip(files, (".h5", ".mat"))] == [True, True]
    res = mg.loadResults(files[0])
    np.testing.assert_array_equal(res["xc"], xc)
    np.testing.assert_array_equal(res["xOpt"], 2 * xc)
    np.testing.assert_array_equal(res["His"]["val accuracy"], [62.0, 78.0])
    assert res["His"].stopReason == "maxEpochs"
    assert res["settings"] == {"nf": [2, 4], "norm": "TVNormLayer"}
    assert res["accuracy"] == {"test": 91.5}
    np.testing.assert_array_equal(res["arrays"]["P"], np.eye(3))
    net2, _ = mg.pdeCNN((4, 4), 1, [2, 4], "leapfrog", nt=1, normLayer=mg.BatchNormLayer2, precision="double")
    mg.setNormStates(net2, res["normStates"])
    Y = randn((2, 4, 4, 1), rng=3)
    np.testing.assert_allclose(
        net2.forwardProp(theta, Y, doDerivative=False)[0], net.forwardProp(theta, Y, doDerivative=False)[0]
    )
    from scipy.io import loadmat

    m = loadmat(files[1])
    np.testing.assert_array_equal(m["xc"].ravel(), xc)
    assert m["HisMatrix"].shape == (2, 5)


def test_results_errors(tmp_path):
    with pytest.raises(TypeError, match="History"):
        mg.saveResults(tmp_path / "r.h5", np.zeros(2), {"epoch": [1]})
    with pytest.raises(OSError, match="cannot read"):
        mg.loadResults(tmp_path / "missing.h5")
    net, _ = mg.pdeCNN((4, 4), 1, [2, 4], "parabolic", nt=1, normLayer=mg.BatchNormLayer2)
    with pytest.raises(ValueError, match="2 layers with running statistics; got 1"):
        mg.setNormStates(net, [(np.zeros(2), np.ones(2))])


def test_HistorySubset_evaluates_a_fixed_subset():
    calls = []

    class Obj:
        def nData(self):
            return 100

        def __call__(self, x, idx=None, doDerivative=True):
            calls.append((None if idx is None else len(idx), doDerivative))
            return 0.0, {}, None

        extra = "attribute"

    f = mg.HistorySubset(Obj(), 10, rng=0)
    f(np.zeros(1), doDerivative=False)
    f(np.zeros(1), np.arange(5))
    assert calls == [(10, False), (5, True)]
    assert f.extra == "attribute" and f.nData() == 100
    assert mg.HistorySubset(Obj(), 500).idx is None
    with pytest.raises(ValueError, match="positive"):
        mg.HistorySubset(Obj(), 0)


def test_figures(tmp_path):
    pytest.importorskip("matplotlib")
    H = _history()
    mg.plotHistory({"parabolic": H, "leapfrog": H}, tmp_path / "h.png", title="t")
    M = np.array([[5, 1], [0, 4]])
    mg.plotConfusionMatrices({"a": M, "b": M.T}, ["x", "y"], tmp_path / "c.png")
    P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    mg.plotPredictions(randn((3, 4, 4, 1), rng=0), P, np.array([0, 1, 1]), ["x", "y"], tmp_path / "p.png")
    mg.plotAccuracyVsSize([10, 20], {"a": [50, 60]}, tmp_path / "s.png")
    for f in ("h", "c", "p", "s"):
        assert (tmp_path / f"{f}.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="2 sizes"):
        mg.plotAccuracyVsSize([10, 20], {"a": [50]})
