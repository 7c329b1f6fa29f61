"""randomRotate, getConfusionMatrix and the evaluation of trained classifiers."""
import numpy as np
import pytest

import meganet as mg


# ------------------------------------------------------------------------------- randomRotate

def test_randomRotate_quarter_turns_and_identity(useGPU):
    rng = np.random.default_rng(0)
    for shape in [(3, 5, 5, 2), (2, 4, 4, 3)]:          # odd and even sizes
        Yh = rng.standard_normal(shape)
        Y = mg.asArray(Yh, useGPU=useGPU)
        np.testing.assert_array_equal(mg.toHost(mg.randomRotate(Y, (90, 90))), np.rot90(Yh, 1, axes=(1, 2)))
        np.testing.assert_array_equal(mg.toHost(mg.randomRotate(Y, (-90, -90))),
                                      np.rot90(Yh, -1, axes=(1, 2)))
        np.testing.assert_array_equal(mg.toHost(mg.randomRotate(Y, (0, 0))), Yh)
        np.testing.assert_array_equal(mg.toHost(Y), Yh)      # input untouched
    Yh = rng.standard_normal((2, 4, 6, 1))                     # non-square: half turn
    np.testing.assert_array_equal(mg.toHost(mg.randomRotate(mg.asArray(Yh, useGPU=useGPU), (180, 180))),
                                  Yh[:, ::-1, ::-1])


def test_randomRotate_counterclockwise_small_angle_and_crop():
    # a horizontal bar through the centre turned by +45 degrees runs from bottom-left to top-right
    Y = np.zeros((1, 9, 9, 1))
    Y[0, 4, :, 0] = 1.0
    Z = mg.randomRotate(Y, (45, 45))[0, :, :, 0]
    assert Z[4, 4] == 1 and Z[2, 6] == 1 and Z[6, 2] == 1      # up-right and down-left of the centre
    assert Z[2, 2] == 0 and Z[6, 6] == 0
    # corners coming from outside the image are zero ('crop')
    Z = mg.randomRotate(np.ones((1, 8, 8, 2)), (30, 30))
    assert Z.shape == (1, 8, 8, 2) and Z[0, 0, 0, 0] == 0 and Z[0, 4, 4, 1] == 1


def test_randomRotate_draws_angles_uniformly_in_the_range():
    rng = np.random.default_rng(5)
    Y = np.zeros((400, 15, 15, 1))
    Y[:, 7, 7:, 0] = 1.0                                        # a ray pointing right from the centre
    Z = mg.randomRotate(Y, (-40, 20), rng=rng)
    # the angle of the rotated ray's tip, measured counterclockwise from the right
    ang = []
    for z in Z[..., 0]:
        i, j = np.nonzero(z)
        far = np.argmax((i - 7) ** 2 + (j - 7) ** 2)
        ang.append(np.degrees(np.arctan2(7 - i[far], j[far] - 7)))
    ang = np.array(ang)
    assert ang.min() >= -40 - 5 and ang.max() <= 20 + 5        # within the range (nearest-pixel slack)
    assert ang.min() < -30 and ang.max() > 10                  # and spread over it
    assert abs(ang.mean() - (-10)) < 4
    a = mg.randomRotate(Y[:5], (-40, 20), rng=3)
    np.testing.assert_array_equal(a, mg.randomRotate(Y[:5], (-40, 20), rng=3))


def test_randomRotate_bad_input():
    Y = np.zeros((2, 4, 4, 1))
    with pytest.raises(ValueError, match=r"angles must be a pair \(a1, a2\)"):
        mg.randomRotate(Y, 15)
    with pytest.raises(ValueError, match="a1 <= a2; got \\(15, -15\\)"):
        mg.randomRotate(Y, (15, -15))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        mg.randomRotate(Y[0], (0, 1))


# ------------------------------------------------------------------------------- getConfusionMatrix

def test_getConfusionMatrix_counts_predicted_against_true(useGPU):
    true = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 0, 1],     # predicted 0: one true 0, one true 2
                         [1, 1, 0],
                         [0, 0, 2]])
    onehot = lambda c: mg.asArray(np.eye(3)[c], useGPU=useGPU)  # noqa: E731
    np.testing.assert_array_equal(mg.getConfusionMatrix(onehot(pred), onehot(true)), expected)
    np.testing.assert_array_equal(mg.getConfusionMatrix(pred, true), expected)
    np.testing.assert_array_equal(mg.getConfusionMatrix(pred, onehot(true)), expected)
    # scores/probabilities: the largest entry counts
    P = np.eye(3)[pred] * 0.5 + 0.1
    np.testing.assert_array_equal(mg.getConfusionMatrix(P, true), expected)
    C = mg.getConfusionMatrix(pred, true, nClasses=5)
    assert C.shape == (5, 5) and C.dtype == np.int64 and C.sum() == 6 and np.trace(C) == 4
    np.testing.assert_array_equal(C.sum(axis=0)[:3], np.bincount(true))


def test_getConfusionMatrix_bad_input():
    with pytest.raises(ValueError, match="one entry per example; got 2 and 3"):
        mg.getConfusionMatrix(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="disagree on the number of classes: 3 and 4"):
        mg.getConfusionMatrix(np.eye(3), np.eye(4)[:3])
    with pytest.raises(ValueError, match=r"class indices of Ctrue must lie in \[0, 3\)"):
        mg.getConfusionMatrix(np.eye(3), np.array([0, 1, 3]))
    with pytest.raises(ValueError, match="integer class indices"):
        mg.getConfusionMatrix(np.array([0.0, 1.0]), np.array([0, 1]))


# ------------------------------------------------------------------------------- classificationResults

def _classifier(useGPU=False, nEx=23, seed=0, norm=False):
    rng = np.random.default_rng(seed)
    K = mg.Dense((6, 3), useGPU=useGPU, precision="double")
    nl = mg.BatchNormLayer2((6,), isWeight=True, useGPU=useGPU, precision="double") if norm else None
    net = mg.SingleLayer(K, activation=mg.tanhActivation, Bin=np.ones((6, 1)), normLayer=nl,
                         useGPU=useGPU, precision="double")
    Y = rng.standard_normal((nEx, 3))
    c = rng.integers(0, 4, nEx)
    theta = net.initTheta(rng=1)
    W = mg.asArray(rng.standard_normal(4 * 7), useGPU=useGPU)
    return net, theta, W, Y, c


@pytest.mark.parametrize("norm", [False, True])
def test_classificationResults_matches_the_objective_and_hand_computation(useGPU, norm):
    net, theta, W, Y, c = _classifier(useGPU, norm=norm)
    C = np.eye(4)[c]
    res = mg.classificationResults(net, theta, W, Y, C, batchSize=5)
    # the same numbers as the objective's value-only evaluation (history / validation)
    f = mg.DnnBatchObjFctn(net, None, mg.SoftmaxLoss(), None, Y, C, batchSize=5)
    x = net.xp.concatenate([theta, W])
    Jc, para = f.eval(x, doDerivative=False)[:2]
    loss, acc = f.hisVals(para)[:2]
    assert res["loss"] == pytest.approx(loss, rel=1e-12) and res["accuracy"] == pytest.approx(acc, rel=1e-12)
    np.testing.assert_array_equal(res["predicted"], mg.toHost(f.getLabels(x)).argmax(1))
    # by hand: scores, softmax, accuracy, confusion
    YN = mg.toHost(net.forwardProp(theta, mg.asArray(Y, useGPU=useGPU), doDerivative=False)[0])
    S = np.hstack([YN, np.ones((len(Y), 1))]) @ mg.toHost(W).reshape(4, 7).T
    np.testing.assert_allclose(res["scores"], S, rtol=1e-12, atol=1e-12)
    P = np.exp(S) / np.exp(S).sum(1, keepdims=True)
    np.testing.assert_allclose(res["probabilities"], P, rtol=1e-10)
    assert res["accuracy"] == pytest.approx(100 * np.mean(S.argmax(1) == c), rel=1e-12)
    assert res["nExamples"] == 23 and isinstance(res["predicted"], np.ndarray)
    np.testing.assert_array_equal(res["labels"], c)
    np.testing.assert_array_equal(res["confusion"], mg.getConfusionMatrix(S.argmax(1), c, nClasses=4))
    # integer labels, other chunk sizes and the shorthand give the same accuracy
    assert mg.classificationAccuracy(net, theta, W, Y, c, batchSize=100) == pytest.approx(res["accuracy"])
    if not norm:  # without batch statistics the loss does not depend on the chunks
        r2 = mg.classificationResults(net, theta, W, Y, c, batchSize=7)
        assert r2["loss"] == pytest.approx(res["loss"], rel=1e-12)


def test_classificationResults_bad_input():
    net, theta, W, Y, c = _classifier()
    with pytest.raises(ValueError, match=r"theta must be \(19,\) = \(net.nTheta\(\),\); got \(18,\)"):
        mg.classificationResults(net, theta[:-1], W, Y, c)
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ net.sizeFeatIn\(\) = \(N, 3\)"):
        mg.classificationResults(net, theta, W, Y[:, :2], c)
    with pytest.raises(ValueError, match="C must be one-hot .* N=23 as Y; got \\(22,\\)"):
        mg.classificationResults(net, theta, W, Y, c[:-1])
    with pytest.raises(ValueError, match="W must have nClasses\\*\\(nFeat\\+1\\) entries with nFeat = 6"):
        mg.classificationResults(net, theta, W[:-1], Y, c)
    with pytest.raises(ValueError, match="batchSize must be a positive integer"):
        mg.classificationResults(net, theta, W, Y, c, batchSize=0)
    with pytest.raises(TypeError, match="pLoss must be a loss"):
        mg.classificationResults(net, theta, W, Y, c, pLoss="softmax")
