"""Normalization layers: NormLayer, BatchNormLayer, BatchNormLayer2, InstNormLayer, TVNormLayer."""
import itertools

import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn

# feature shapes of one example: rectangular image, (nPix, C), vector
LAYOUTS = [(4, 5, 3), (6, 3), (5,)]
DONORM = [d for d in itertools.product((0, 1), repeat=3) if any(d)]  # all 7 patterns


def host(a):
    return mg.toHost(a)


def randTheta(el, rng):
    """initTheta plus a perturbation, so scales differ from 1 and shifts from 0."""
    th = host(el.initTheta())
    return el.asArray(th + 0.3 * np.random.default_rng(rng).standard_normal(th.shape))


# ---------------------------------------------------------------- independent references
def refMeanVar(Y, axes, eps):
    """Normalize over ``axes`` by explicit loops over all the other index combinations."""
    Y = np.asarray(Y, dtype=np.float64)
    keep = [a for a in range(Y.ndim) if a not in axes]
    Z = np.empty_like(Y)
    for idx in itertools.product(*[range(Y.shape[a]) for a in keep]):
        sl = [slice(None)] * Y.ndim
        for a, i in zip(keep, idx):
            sl[a] = i
        sl = tuple(sl)
        v = Y[sl]
        mu = v.sum() / v.size
        var = ((v - mu) ** 2).sum() / v.size
        Z[sl] = (v - mu) / np.sqrt(var + eps)
    return Z


def refTV(Y, eps):
    Y = np.asarray(Y, dtype=np.float64)
    Z = np.empty_like(Y)
    for idx in itertools.product(*[range(s) for s in Y.shape[:-1]]):
        v = Y[idx]
        Z[idx] = v / np.sqrt(np.dot(v, v) + eps)
    return Z


def flaggedAxes(doNorm, ndim):
    axes = []
    if doNorm[0]:
        axes += list(range(1, ndim - 1))
    if doNorm[1]:
        axes.append(ndim - 1)
    if doNorm[2]:
        axes.append(0)
    return tuple(axes)


def layoutPatterns():
    for nData in LAYOUTS:
        for d in DONORM:
            if len(nData) == 1 and not (d[1] or d[2]):
                continue  # vectors have no pixel axes (a constructor error, tested below)
            yield nData, d


# ---------------------------------------------------------------- NormLayer
@pytest.mark.parametrize("nData,doNorm", list(layoutPatterns()))
def test_normlayer_derivatives(nData, doNorm, useGPU):
    L = mg.NormLayer(nData, doNorm=doNorm, useGPU=useGPU)
    assert L.nTheta() == 0 and L.sizeFeatIn() == nData and L.sizeFeatOut() == nData
    assertElementDerivatives(L, nEx=4, rng=1)
    if not doNorm[2] or doNorm[0] and len(nData) > 1 or doNorm[1]:
        # statistics over more than one entry even with a batch of one
        assertElementDerivatives(L, nEx=1, rng=2)


@pytest.mark.parametrize("nData,doNorm", list(layoutPatterns()))
def test_normlayer_values_and_statistics(nData, doNorm, rng):
    L = mg.NormLayer(nData, doNorm=doNorm)
    Y = 3.0 + 2.0 * rng.standard_normal((4,) + nData)
    Z, tmp = L.forwardProp(L.initTheta(), Y)
    axes = flaggedAxes(doNorm, Y.ndim)
    np.testing.assert_allclose(Z, refMeanVar(Y, axes, 1e-3), rtol=1e-12, atol=1e-12)
    # mean 0 and variance var/(var + eps) ~ 1 over the normalized axes
    np.testing.assert_allclose(Z.mean(axis=axes), 0, atol=1e-12)
    var = Y.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(Z.var(axis=axes, keepdims=True), var / (var + 1e-3), rtol=1e-10)
    big = var.squeeze() > 0.1  # groups whose sample variance dwarfs eps
    assert big.any() and np.all(np.abs(Z.var(axis=axes)[big] - 1) < 1e-2)


def test_normlayer_matlab_pattern_channels_loop(rng):
    """Default doNorm=(0, 1, 0): each pixel's channel vector, written out by hand."""
    L = mg.NormLayer((2, 3, 4))
    Y = rng.standard_normal((2, 2, 3, 4))
    Z, _ = L.forwardProp(L.initTheta(), Y)
    for n in range(2):
        for i in range(2):
            for j in range(3):
                v = Y[n, i, j]
                ref = (v - v.mean()) / np.sqrt(np.mean((v - v.mean()) ** 2) + 1e-3)
                np.testing.assert_allclose(Z[n, i, j], ref, rtol=1e-13)


def test_normlayer_jacobian_matches_explicit(rng):
    """Jacobian of a small case column by column against finite differences."""
    L = mg.NormLayer((3, 2), doNorm=(1, 0, 1))
    Y = rng.standard_normal((2, 3, 2))
    th = L.initTheta()
    Z, tmp = L.forwardProp(th, Y)
    h = 1e-6
    J = np.zeros((Z.size, Y.size))
    Jt = np.zeros((Y.size, Z.size))
    for k in range(Y.size):
        e = np.zeros(Y.size)
        e[k] = 1
        E = e.reshape(Y.shape)
        J[:, k] = ((L.forwardProp(th, Y + h * E)[0] - L.forwardProp(th, Y - h * E)[0]) / (2 * h)).ravel()
        Jt[:, k] = L.JYTmv(E, th, Y, tmp).ravel()
    np.testing.assert_allclose(Jt.T, J, atol=1e-8)
    np.testing.assert_allclose(J, J.T, atol=1e-8)  # symmetric


def test_normlayer_degenerate_axes_give_zero(useGPU):
    """Normalizing over axes of size one: output 0, zero Jacobian, no NaN."""
    L = mg.NormLayer((4, 5, 1), doNorm=(0, 1, 0), useGPU=useGPU)
    Y = randn((3, 4, 5, 1), useGPU, rng=0)
    Z, tmp = L.forwardProp(L.initTheta(), Y)
    assert np.all(host(Z) == 0)
    dY = L.JYTmv(randn((3, 4, 5, 1), useGPU, rng=1), L.initTheta(), Y, tmp)
    assert np.all(host(dY) == 0)
    Lb = mg.NormLayer((5,), doNorm=(0, 0, 1), useGPU=useGPU)
    Y = randn((1, 5), useGPU, rng=2)
    Z, tmp = Lb.forwardProp(Lb.initTheta(), Y)
    assert np.all(host(Z) == 0)
    assert np.all(host(Lb.JYmv(randn((1, 5), useGPU, rng=3), Lb.initTheta(), Y, tmp)) == 0)


def test_normlayer_bad_input():
    with pytest.raises(ValueError, match=r"NormLayer: doNorm=\(1, 0, 0\) selects no axis of data "
                                         r"with nData=\(5,\)"):
        mg.NormLayer((5,), doNorm=(1, 0, 0))
    with pytest.raises(ValueError, match=r"NormLayer: doNorm must be 3 flags .* got \(0, 1\)"):
        mg.NormLayer((4, 3), doNorm=(0, 1))
    with pytest.raises(ValueError, match=r"NormLayer: doNorm must be 3 flags .* got \(0, 2, 0\)"):
        mg.NormLayer((4, 3), doNorm=(0, 2, 0))
    with pytest.raises(ValueError,
                       match=r"NormLayer: nData must be a tuple of positive ints .* got \(4, 0, 3\)"):
        mg.NormLayer((4, 0, 3))
    with pytest.raises(ValueError, match=r"NormLayer: nData must be .* got \(4.0, 3\)"):
        mg.NormLayer((4.0, 3))
    with pytest.raises(ValueError, match=r"NormLayer: eps must be a finite positive number; got 0"):
        mg.NormLayer((4, 3), eps=0)
    with pytest.warns(UserWarning, match="'isWeight' are ignored"):   # as Meganet.m ignores it
        assert mg.NormLayer((4, 3), isWeight=1).nTheta() == 0
    L = mg.NormLayer((4, 3))
    with pytest.raises(ValueError, match=r"NormLayer.forwardProp: Y must have shape \(N,\) \+ "
                                         r"sizeFeatIn\(\) = \(2, 4, 3\); got \(2, 3, 4\)"):
        L.forwardProp(L.initTheta(), np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=0"):
        L.forwardProp(np.ones(2), np.ones((2, 4, 3)))


# ---------------------------------------------------------------- per-channel weights
WEIGHTED = {
    "BatchNormLayer": (mg.BatchNormLayer, LAYOUTS, lambda nd: (0,)),
    "BatchNormLayer2": (mg.BatchNormLayer2, LAYOUTS, lambda nd: (0,) + tuple(range(1, nd - 1))),
    "InstNormLayer": (mg.InstNormLayer, LAYOUTS[:2], lambda nd: tuple(range(1, nd - 1))),
}


def weightedCases():
    for name, (cls, layouts, _) in WEIGHTED.items():
        for nData in layouts:
            for isWeight in (False, True):
                yield name, nData, isWeight
    for nData in LAYOUTS:
        for isWeight in (False, True):
            yield "TVNormLayer", nData, isWeight


def make(name, nData, isWeight, **kw):
    cls = mg.TVNormLayer if name == "TVNormLayer" else WEIGHTED[name][0]
    return cls(nData, isWeight=isWeight, **kw)


@pytest.mark.parametrize("name,nData,isWeight", list(weightedCases()))
def test_weighted_derivatives(name, nData, isWeight, useGPU):
    L = make(name, nData, isWeight, useGPU=useGPU)
    C = nData[-1]
    assert L.nTheta() == (2 * C if isWeight else 0)
    assert L.sizeFeatIn() == nData and L.sizeFeatOut() == nData
    th = randTheta(L, 5)
    assertElementDerivatives(L, th, nEx=4, rng=1)
    batchOverExamplesOnly = name == "BatchNormLayer" or (name == "BatchNormLayer2" and len(nData) == 1)
    if not batchOverExamplesOnly:
        assertElementDerivatives(L, th, nEx=1, rng=2)


@pytest.mark.parametrize("name,nData,isWeight", list(weightedCases()))
def test_weighted_values_and_statistics(name, nData, isWeight, rng):
    L = make(name, nData, isWeight)
    th = host(randTheta(L, 7))
    Y = -2.0 + 3.0 * rng.standard_normal((5,) + nData)
    Z, tmp = L.forwardProp(th, Y)
    if name == "TVNormLayer":
        Zhat = refTV(Y, 1e-4)
        norms = np.sqrt((Zhat ** 2).sum(axis=-1))
        sq = (Y ** 2).sum(axis=-1)
        np.testing.assert_allclose(norms, np.sqrt(sq / (sq + 1e-4)), rtol=1e-12)
    else:
        axes = WEIGHTED[name][2](Y.ndim)
        Zhat = refMeanVar(Y, axes, 1e-4)
        np.testing.assert_allclose(Zhat.mean(axis=axes), 0, atol=1e-12)
        var = Y.var(axis=axes)
        np.testing.assert_allclose(Zhat.var(axis=axes), var / (var + 1e-4), rtol=1e-10)
    if isWeight:
        C = nData[-1]
        s, b = th[:C], th[C:]
        np.testing.assert_allclose(Z, Zhat * s + b, rtol=1e-12, atol=1e-12)
        s2, b2 = L.split(th)
        np.testing.assert_array_equal(s2, s)
        np.testing.assert_array_equal(b2, b)
        # J_theta^T by explicit sums over examples and pixels
        W = rng.standard_normal(Y.shape)
        g = L.JthetaTmv(W, th, Y, tmp)
        axesC = tuple(range(Y.ndim - 1))
        np.testing.assert_allclose(g, np.concatenate([(W * Zhat).sum(axis=axesC), W.sum(axis=axesC)]),
                                   rtol=1e-12)
    else:
        np.testing.assert_allclose(Z, Zhat, rtol=1e-12, atol=1e-12)
        assert L.initTheta().shape == (0,)


@pytest.mark.parametrize("name", ["BatchNormLayer", "BatchNormLayer2", "InstNormLayer", "TVNormLayer"])
def test_init_theta(name):
    L = make(name, (3, 4, 2), True)
    np.testing.assert_array_equal(L.initTheta(), [1, 1, 0, 0])
    s, b = L.split(L.initTheta())
    assert s.shape == (2,) and b.shape == (2,)


def test_batchnorm_single_example_is_degenerate(useGPU):
    """N = 1: F = 0, so Z = b, J_Y = 0; J_theta^T is [0, sum(W)]; nothing is NaN."""
    for L in (mg.BatchNormLayer((4, 5, 3), isWeight=True, useGPU=useGPU),
              mg.BatchNormLayer2((3,), isWeight=True, useGPU=useGPU)):
        th = randTheta(L, 1)
        Y = randn((1,) + L.sizeFeatIn(), useGPU, rng=2)
        Z, tmp = L.forwardProp(th, Y)
        b = host(L.split(th)[1])
        np.testing.assert_allclose(host(Z), np.broadcast_to(b, Z.shape), atol=1e-12)
        W = randn(Z.shape, useGPU, rng=3)
        dth, dY = L.JTmv(W, th, Y, tmp)
        assert np.all(np.isfinite(host(dth))) and np.all(host(dY) == 0)
        C = L.nChannels()
        np.testing.assert_allclose(host(dth)[:C], 0, atol=1e-12)
        np.testing.assert_allclose(host(dth)[C:], host(W).reshape(-1, C).sum(axis=0), rtol=1e-12)
        assert np.all(host(L.JYmv(randn(Y.shape, useGPU, rng=4), th, Y, tmp)) == 0)
        ok, _ = mg.checkAdjoint(L.getJthetaOp(th, Y, tmp), rng=0)
        assert ok


def test_instnorm_independent_of_other_examples(rng):
    L = mg.InstNormLayer((3, 4, 2), isWeight=True)
    th = host(randTheta(L, 0))
    Y = rng.standard_normal((3, 3, 4, 2))
    Z, _ = L.forwardProp(th, Y)
    Z1, _ = L.forwardProp(th, Y[1:2])
    np.testing.assert_allclose(Z[1:2], Z1, rtol=1e-14)
    Bn = mg.BatchNormLayer((3, 4, 2))
    assert not np.allclose(Bn.forwardProp(Bn.initTheta(), Y)[0][1:2],
                           Bn.forwardProp(Bn.initTheta(), Y[:2])[0][1:2])


def test_tvnorm_divides_by_length(rng):
    """Meganet.m's header writes a product; the map divides by the channel-vector length."""
    L = mg.TVNormLayer((2, 3))
    Y = 10 * rng.standard_normal((1, 2, 3))
    Z, _ = L.forwardProp(L.initTheta(), Y)
    for p in range(2):
        v = Y[0, p]
        np.testing.assert_allclose(Z[0, p], v / np.sqrt(v @ v + 1e-4), rtol=1e-14)
    assert np.all(np.linalg.norm(Z, axis=-1) <= 1)


# ---------------------------------------------------------------- BatchNormLayer2 modes
def test_batchnorm2_running_stats_update_and_converge(useGPU):
    L = mg.BatchNormLayer2((4, 5, 3), isWeight=True, momentum=0.8, useGPU=useGPU)
    th = randTheta(L, 0)
    Yh = 2.0 + 3.0 * np.random.default_rng(1).standard_normal((6, 4, 5, 3)) * np.array([1, 2, 0.5])
    Y = L.asArray(Yh)
    mu = Yh.mean(axis=(0, 1, 2))
    var = Yh.var(axis=(0, 1, 2))
    np.testing.assert_array_equal(host(L.runningMean), 0)
    np.testing.assert_array_equal(host(L.runningVar), 1)
    L.forwardProp(th, Y)  # one training pass
    np.testing.assert_allclose(host(L.runningMean), 0.2 * mu, rtol=1e-12)
    np.testing.assert_allclose(host(L.runningVar), 0.8 + 0.2 * var, rtol=1e-12)
    for _ in range(150):
        L.forwardProp(th, Y, doDerivative=True)
    np.testing.assert_allclose(host(L.runningMean), mu, rtol=1e-10)
    np.testing.assert_allclose(host(L.runningVar), var, rtol=1e-10)
    # evaluation: running statistics, no update, no tmp; equals training output now
    rm, rv = host(L.runningMean).copy(), host(L.runningVar).copy()
    Ze, tmp = L.forwardProp(th, Y, doDerivative=False)
    assert tmp is None
    np.testing.assert_array_equal(host(L.runningMean), rm)
    np.testing.assert_array_equal(host(L.runningVar), rv)
    Zt, _ = L.forwardProp(th, Y)
    np.testing.assert_allclose(host(Ze), host(Zt), rtol=1e-9, atol=1e-9)


def test_batchnorm2_evaluation_uses_running_stats(useGPU, rng):
    C = 3
    rm0 = np.array([0.5, -1.0, 2.0])
    rv0 = np.array([2.0, 0.5, 1.5])
    L = mg.BatchNormLayer2((4, C), isWeight=True, runningMean=rm0, runningVar=rv0, useGPU=useGPU)
    th = randTheta(L, 3)
    Yh = rng.standard_normal((2, 4, C))
    Ze, _ = L.forwardProp(th, L.asArray(Yh), doDerivative=False)
    s, b = host(th)[:C], host(th)[C:]
    ref = np.empty_like(Yh)
    for n in range(2):
        for p in range(4):
            for c in range(C):
                ref[n, p, c] = s[c] * (Yh[n, p, c] - rm0[c]) / np.sqrt(rv0[c] + 1e-4) + b[c]
    np.testing.assert_allclose(host(Ze), ref, rtol=1e-13)
    # evaluation output of one example does not depend on the others
    Z1, _ = L.forwardProp(th, L.asArray(Yh[1:]), doDerivative=False)
    np.testing.assert_allclose(host(Z1), host(Ze)[1:], rtol=1e-14)
    np.testing.assert_array_equal(host(L.runningMean), rm0)
    # training mode changes them; resetRunningStats restores the constructor's values
    L.forwardProp(th, L.asArray(Yh))
    assert not np.allclose(host(L.runningMean), rm0)
    L.resetRunningStats()
    np.testing.assert_array_equal(host(L.runningMean), rm0)
    np.testing.assert_array_equal(host(L.runningVar), rv0)


def test_batchnorm2_derivatives_use_batch_stats(useGPU, rng):
    """Derivative products linearise the batch map, never touch the running statistics,
    and do not depend on how often forwardProp ran before."""
    L = mg.BatchNormLayer2((3, 4, 2), isWeight=True, useGPU=useGPU)
    th = randTheta(L, 0)
    Y = randn((5, 3, 4, 2), useGPU, rng=1, scale=2.0)
    W = randn(Y.shape, useGPU, rng=2)
    V = randn(Y.shape, useGPU, rng=3)
    _, tmp = L.forwardProp(th, Y)
    g0, d0 = L.JTmv(W, th, Y, tmp)
    j0 = L.JYmv(V, th, Y, tmp)
    for _ in range(5):
        L.forwardProp(th, Y + 1.0)  # moves the running statistics
    L.forwardProp(th, Y, doDerivative=False)
    rm, rv = host(L.runningMean).copy(), host(L.runningVar).copy()
    g1, d1 = L.JTmv(W, th, Y)  # tmp=None: recompute batch statistics
    j1 = L.Jmv(None, V, th, Y)
    np.testing.assert_allclose(host(g1), host(g0), rtol=1e-13)
    np.testing.assert_allclose(host(d1), host(d0), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(host(j1), host(j0), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(host(L.runningMean), rm)
    np.testing.assert_array_equal(host(L.runningVar), rv)
    # the batch-statistics map is what the derivatives linearise (full check, training mode)
    assertElementDerivatives(L, th, Y, rng=4)
    # and matches the reference batch normalization over pixels and examples
    Yh = host(Y)
    ref = refMeanVar(Yh, (0, 1, 2), 1e-4) * host(th)[:2] + host(th)[2:]
    np.testing.assert_allclose(host(L.forwardProp(th, Y)[0]), ref, rtol=1e-12, atol=1e-12)


def test_batchnorm2_momentum_none_and_zero(rng):
    Y = rng.standard_normal((4, 3, 2))
    L = mg.BatchNormLayer2((3, 2), momentum=None)
    Ze, tmp = L.forwardProp(L.initTheta(), Y, doDerivative=False)
    assert tmp is None
    np.testing.assert_allclose(Ze, refMeanVar(Y, (0, 1), 1e-4), rtol=1e-12)
    np.testing.assert_array_equal(L.runningMean, 0)
    np.testing.assert_array_equal(L.runningVar, 1)
    L0 = mg.BatchNormLayer2((3, 2), momentum=0)
    L0.forwardProp(L0.initTheta(), Y)
    np.testing.assert_allclose(L0.runningMean, Y.mean(axis=(0, 1)), rtol=1e-14)
    np.testing.assert_allclose(L0.runningVar, Y.var(axis=(0, 1)), rtol=1e-14)


def test_batchnorm2_backend_switch_moves_running_stats(device):
    L = mg.BatchNormLayer2((4, 3), runningMean=[1.0, 2.0, 3.0])
    L.useGPU = True
    L.precision = "single"
    assert mg.backend.isDeviceArray(L.runningMean) and L.runningMean.dtype == np.float32
    Y = randn((2, 4, 3), True, "single", rng=0)
    Z, _ = L.forwardProp(L.initTheta(), Y)
    assert Z.dtype == np.float32 and L.runningVar.dtype == np.float32
    Ze, _ = L.forwardProp(L.initTheta(), Y, doDerivative=False)
    assert Ze.dtype == np.float32
    L.resetRunningStats()
    np.testing.assert_array_equal(host(L.runningMean), [1, 2, 3])
    assert mg.backend.isDeviceArray(L.runningMean)


# ---------------------------------------------------------------- single precision
@pytest.mark.parametrize("name", ["NormLayer", "BatchNormLayer", "BatchNormLayer2", "InstNormLayer",
                                  "TVNormLayer"])
def test_single_precision(name, useGPU):
    if name == "NormLayer":
        L = mg.NormLayer((4, 5, 3), doNorm=(1, 1, 0), useGPU=useGPU, precision="single")
    else:
        L = make(name, (4, 5, 3), True, useGPU=useGPU, precision="single")
    th = L.initTheta()
    assert th.dtype == np.float32
    Y = randn((3, 4, 5, 3), useGPU, "single", rng=0)
    Z, tmp = L.forwardProp(th, Y)
    assert Z.dtype == np.float32
    W = randn(Z.shape, useGPU, "single", rng=1)
    dth, dY = L.JTmv(W, th, Y, tmp)
    assert dth.dtype == np.float32 and dY.dtype == np.float32
    assert L.Jmv(th, Y, th, Y, tmp).dtype == np.float32
    Zd, _ = L.forwardProp(th, Y, doDerivative=False)
    assert Zd.dtype == np.float32
    if name == "BatchNormLayer2":
        assert L.runningMean.dtype == np.float32 and L.runningVar.dtype == np.float32
    assert mg.checkAdjoint(L.getJYOp(th, Y, tmp), rng=11)[0]  # rng differs from the data seed
    # agrees with double precision
    Ld = mg.NormLayer((4, 5, 3), doNorm=(1, 1, 0)) if name == "NormLayer" else make(name, (4, 5, 3), True)
    Zref, _ = Ld.forwardProp(Ld.initTheta(), host(Y).astype(np.float64))
    np.testing.assert_allclose(host(Z), Zref, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- bad input
def test_weighted_bad_input():
    for cls in (mg.BatchNormLayer, mg.BatchNormLayer2, mg.InstNormLayer, mg.TVNormLayer):
        n = cls.__name__
        with pytest.raises(ValueError, match=rf"{n}: isWeight must be True/False \(or 0/1\); got 2"):
            cls((4, 3), isWeight=2)
        with pytest.raises(ValueError, match=rf"{n}: eps must be a finite positive number; got -1"):
            cls((4, 3), eps=-1)
        with pytest.raises(ValueError, match=rf"{n}: nData must be .*; got 'abc'"):
            cls("abc")
    with pytest.raises(ValueError, match=r"InstNormLayer: nData must be a tuple of at least 2 positive "
                                         r"ints .* got \(5,\)"):
        mg.InstNormLayer((5,))
    with pytest.raises(ValueError, match=r"BatchNormLayer2: momentum must be a number in \[0, 1\] or None; "
                                         r"got 1.5"):
        mg.BatchNormLayer2((4, 3), momentum=1.5)
    with pytest.raises(ValueError, match=r"BatchNormLayer2: runningMean must be a number or an array of "
                                         r"shape \(3,\) \(one value per channel\); got \(2,\)"):
        mg.BatchNormLayer2((4, 3), runningMean=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"BatchNormLayer2: runningVar must be finite and non-negative"):
        mg.BatchNormLayer2((4, 3), runningVar=-1.0)
    L = mg.TVNormLayer((4, 3), isWeight=True)
    with pytest.raises(ValueError, match=r"TVNormLayer.forwardProp: theta must be a flat 1-D array of "
                                         r"length nTheta=6; got shape \(5,\)"):
        L.forwardProp(np.ones(5), np.ones((2, 4, 3)))
    with pytest.raises(TypeError, match=r"TVNormLayer.forwardProp: Y must have dtype float64"):
        L.forwardProp(L.initTheta(), np.ones((2, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"TVNormLayer.JTmv: W must have shape"):
        L.JTmv(np.ones((3, 4, 3)), L.initTheta(), np.ones((2, 4, 3)))


def test_host_device_mismatch(device):
    L = mg.BatchNormLayer2((4, 3), isWeight=True, useGPU=True)
    with pytest.raises(TypeError, match="BatchNormLayer2.forwardProp: Y must be a device"):
        L.forwardProp(L.initTheta(), np.ones((2, 4, 3)))


# ---------------------------------------------------------------------- Meganet.m's [nImg nc nEx]
NORM_CLASSES = [mg.NormLayer, mg.BatchNormLayer, mg.BatchNormLayer2, mg.InstNormLayer, mg.TVNormLayer]


@pytest.mark.parametrize("cls", NORM_CLASSES, ids=lambda c: c.__name__)
def test_meganet_m_size_with_number_of_examples_is_ignored(cls, rng):
    """``(H, W, C, nEx)`` as Meganet.m's drivers pass it builds the layer of ``(H, W, C)``."""
    kw = {} if cls is mg.NormLayer else dict(isWeight=1)
    L4, L3 = cls((6, 5, 3, 125), **kw), cls((6, 5, 3), **kw)
    assert L4.sizeFeatIn() == L4.sizeFeatOut() == (6, 5, 3)
    assert L4.nTheta() == L3.nTheta() == (0 if cls is mg.NormLayer else 6)
    if cls is not mg.NormLayer:
        assert cls((96, 96, 16, 125), **kw).nTheta() == 32
    th = randTheta(L3, 2)
    Y = 1.0 + rng.standard_normal((4, 6, 5, 3))
    np.testing.assert_allclose(L4.forwardProp(th, Y)[0], L3.forwardProp(th, Y)[0], rtol=1e-14, atol=1e-14)
    # inside a layer, as Meganet.m's drivers use it
    K = mg.Conv2D((6, 5), (3, 3, 2, 3))
    layer = mg.SingleLayer(K, activation=mg.reluActivation, normLayer=cls((6, 5, 3, 125), **kw))
    assert layer.nTheta() == K.nTheta() + L3.nTheta()
    assert layer.sizeFeatOut() == (6, 5, 3)
    assertElementDerivatives(layer, nEx=3, rng=3)


@pytest.mark.parametrize("cls", NORM_CLASSES, ids=lambda c: c.__name__)
def test_more_than_four_size_entries_are_refused(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: nData must be the shape of one example, "
                                         r"\(H, W, C\).*\(H, W, C, nEx\), whose nEx is ignored\); "
                                         r"got \(2, 2, 2, 2, 2\)"):
        cls((2, 2, 2, 2, 2))
