"""SingleLayer, DoubleLayer and DoubleSymLayer: derivatives in every configuration and values."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn

ACTS = [mg.tanhActivation, mg.reluActivation, mg.identityActivation, mg.smoothReluActivation]
ACT_IDS = [a.__name__ for a in ACTS]


def _Bmat(n, nb, seed=0):
    return np.random.default_rng(seed).standard_normal((n, nb))


# ---------------------------------------------------------------- SingleLayer
@pytest.mark.parametrize("act", ACTS, ids=ACT_IDS)
@pytest.mark.parametrize("bias", ["none", "Bin", "Bout", "both"])
@pytest.mark.parametrize("storeInterm", [False, True])
def test_single_layer_dense(act, bias, storeInterm, useGPU):
    K = mg.Dense((5, 4), useGPU=useGPU)
    kw = {}
    if bias in ("Bin", "both"):
        kw["Bin"] = _Bmat(5, 2, 1)
    if bias in ("Bout", "both"):
        kw["Bout"] = _Bmat(5, 3, 2)
    L = mg.SingleLayer(K, activation=act, storeInterm=storeInterm, **kw)
    assert L.nTheta() == 20 + (2 if "Bin" in kw else 0) + (3 if "Bout" in kw else 0)
    assertElementDerivatives(L, nEx=4)
    assertElementDerivatives(L, nEx=1)


def test_single_layer_values(rng):
    K = mg.Dense((3, 4))
    Bin, Bout = _Bmat(3, 2, 1), _Bmat(3, 1, 2)
    L = mg.SingleLayer(K, activation=mg.tanhActivation, Bin=Bin, Bout=Bout)
    th = rng.standard_normal(L.nTheta())
    thK, thBin, thBout, thN = L.split(th)
    assert thK.size == 12 and thBin.size == 2 and thBout.size == 1 and thN.size == 0
    Y = rng.standard_normal((6, 4))
    Z, tmp = L.forwardProp(th, Y)
    ref = np.tanh(Y @ thK.reshape(3, 4).T + Bin @ thBin) + Bout @ thBout
    np.testing.assert_allclose(Z, ref, rtol=1e-13)
    assert tmp is None
    th0 = L.initTheta(rng=0)
    assert np.all(th0[12:] == 0)


# ---------------------------------------------------------------- DoubleLayer
@pytest.mark.parametrize("acts", [(mg.tanhActivation, mg.tanhActivation),
                                  (mg.reluActivation, mg.identityActivation),
                                  (mg.smoothReluActivation, mg.tanhActivation)],
                         ids=["tanh-tanh", "relu-id", "srelu-tanh"])
@pytest.mark.parametrize("biases", [(), ("Bin1",), ("Bin2",), ("Bout",), ("Bin1", "Bin2", "Bout")],
                         ids=["nobias", "Bin1", "Bin2", "Bout", "all"])
def test_double_layer_dense(acts, biases, useGPU):
    K1 = mg.Dense((5, 4), useGPU=useGPU)
    K2 = mg.Dense((3, 5), useGPU=useGPU)
    sizes = {"Bin1": 5, "Bin2": 3, "Bout": 3}
    kw = {b: _Bmat(sizes[b], 2, i) for i, b in enumerate(biases)}
    L = mg.DoubleLayer(K1, K2, activation1=acts[0], activation2=acts[1], **kw)
    assert L.sizeFeatIn() == (4,) and L.sizeFeatOut() == (3,)
    assertElementDerivatives(L, nEx=4)
    assertElementDerivatives(L, nEx=1)


def test_double_layer_values(rng):
    K1, K2 = mg.Dense((5, 4)), mg.Dense((3, 5))
    B = _Bmat(3, 1)
    L = mg.DoubleLayer(K1, K2, Bout=B, storeInterm=True)
    th = rng.standard_normal(L.nTheta())
    t1, t2, t3, t4, t5, t6, t7 = L.split(th)
    Y = rng.standard_normal((2, 4))
    Z, tmp = L.forwardProp(th, Y)
    ref = np.tanh(np.tanh(Y @ t1.reshape(5, 4).T) @ t2.reshape(3, 5).T) + B @ t5
    np.testing.assert_allclose(Z, ref, rtol=1e-13)
    assert tmp is not None
    assert np.allclose(L.initTheta(rng=0)[35:], 0.1)


# ---------------------------------------------------------------- DoubleSymLayer
@pytest.mark.parametrize("act", ACTS, ids=ACT_IDS)
@pytest.mark.parametrize("bias", ["none", "Bin", "Bout", "both"])
def test_double_sym_layer_dense(act, bias, useGPU):
    K = mg.Dense((6, 4), useGPU=useGPU)
    kw = {}
    if bias in ("Bin", "both"):
        kw["Bin"] = _Bmat(6, 3, 1)
    if bias in ("Bout", "both"):
        kw["Bout"] = _Bmat(4, 2, 2)
    L = mg.DoubleSymLayer(K, activation=act, **kw)
    assert L.sizeFeatIn() == L.sizeFeatOut() == (4,)
    assertElementDerivatives(L, nEx=4)
    assertElementDerivatives(L, nEx=1)
    assertElementDerivatives(mg.DoubleSymLayer(K, activation=act, storeInterm=True, **kw), nEx=2)


def test_double_sym_layer_with_offset_kernel(useGPU):
    """The K^T-derivative must use the linear part of K (Dense with an offset q)."""
    K = mg.getDenseAntiSym(4, useGPU=useGPU)
    assertElementDerivatives(mg.DoubleSymLayer(K, activation=mg.tanhActivation), nEx=3)


def test_double_sym_layer_values_and_symmetry(rng):
    K = mg.Dense((6, 4))
    Bin = _Bmat(6, 1)
    L = mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=Bin)
    th = rng.standard_normal(L.nTheta())
    tK, tb, _, _, _ = L.split(th)
    M = tK.reshape(6, 4)
    Y = rng.standard_normal((3, 4))
    Z, _ = L.forwardProp(th, Y)
    np.testing.assert_allclose(Z, -(np.tanh(Y @ M.T + Bin @ tb)) @ M, rtol=1e-13)
    # J_Y = -K^T diag(sigma') K: symmetric negative semi-definite (per example)
    J = L.getJYOp(th, Y[:1]).toDense()
    np.testing.assert_allclose(J, J.T, atol=1e-13)
    assert np.linalg.eigvalsh(J).max() <= 1e-12


def test_layers_single_precision(useGPU):
    K = mg.Dense((5, 4), useGPU=useGPU, precision="single")
    for L in (mg.SingleLayer(K, Bin=_Bmat(5, 1)), mg.DoubleSymLayer(K, Bout=_Bmat(4, 1)),
              mg.DoubleLayer(K, mg.Dense((3, 5), useGPU=useGPU, precision="single"))):
        th = L.initTheta(rng=0)
        assert th.dtype == np.float32
        Y = randn((3, 4), useGPU, "single", rng=1)
        Z, _ = L.forwardProp(th, Y)
        assert Z.dtype == np.float32
        dth, dY = L.JTmv(randn(Z.shape, useGPU, "single", rng=2), th, Y)
        assert dth.dtype == np.float32 and dY.dtype == np.float32


def test_layer_inherits_and_pushes_backend(device):
    K = mg.Dense((5, 4))
    L = mg.SingleLayer(K, Bin=_Bmat(5, 2))
    assert not L.useGPU and L.precision == "double"
    L2 = mg.DoubleSymLayer(mg.Dense((5, 4)), Bin=_Bmat(5, 2), useGPU=True, precision="single")
    assert L2.K.useGPU and L2.K.precision == "single"
    assert mg.backend.isDeviceArray(L2.Bin) and L2.Bin.dtype == np.float32


def test_layers_bad_input():
    K = mg.Dense((5, 4))
    with pytest.raises(ValueError, match=r"Bin must be None, a LinearOperator or a matrix with 5 rows"):
        mg.SingleLayer(K, Bin=np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"Bout must be None, a LinearOperator or a matrix with 4 rows"):
        mg.DoubleSymLayer(K, Bout=np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"K1.sizeFeatOut\(\) must equal K2.sizeFeatIn\(\); got \(5,\) and \(4,\)"):
        mg.DoubleLayer(K, mg.Dense((3, 4)))
    with pytest.raises(TypeError, match="activation must be callable"):
        mg.SingleLayer(K, activation="relu")
    with pytest.raises(ValueError, match="normLayer.sizeFeatIn"):
        mg.SingleLayer(K, normLayer=mg.Dense((4, 4)))
    L = mg.SingleLayer(K)
    th = L.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"sizeFeatIn\(\) = \(2, 4\); got \(2, 3\)"):
        L.forwardProp(th, np.ones((2, 3)))
    with pytest.raises(ValueError, match="length nTheta=20"):
        L.forwardProp(th[1:], np.ones((2, 4)))


# ---------------------------------------------------------------- with normalization layers
def _norms(n, useGPU):
    return {
        "batch": mg.BatchNormLayer((n,), isWeight=True, useGPU=useGPU),
        "batch2": mg.BatchNormLayer2((n,), isWeight=True, useGPU=useGPU),
        "tv": mg.TVNormLayer((n,), isWeight=True, useGPU=useGPU),
        "norm": mg.NormLayer((n,), doNorm=(0, 1, 0), useGPU=useGPU),
    }


@pytest.mark.parametrize("kind", ["batch", "batch2", "tv", "norm"])
def test_single_layer_with_norm(kind, useGPU):
    K = mg.Dense((5, 4), useGPU=useGPU)
    L = mg.SingleLayer(K, activation=mg.tanhActivation, normLayer=_norms(5, useGPU)[kind],
                       Bin=_Bmat(5, 1), Bout=_Bmat(5, 1))
    assertElementDerivatives(L, nEx=4)
    assertElementDerivatives(mg.SingleLayer(K, normLayer=_norms(5, useGPU)[kind], storeInterm=True), nEx=3)


@pytest.mark.parametrize("kinds", [("tv", None), (None, "batch"), ("batch2", "tv"), ("norm", "norm")])
def test_double_sym_layer_with_norms(kinds, useGPU):
    K = mg.Dense((6, 4), useGPU=useGPU)
    n1 = _norms(6, useGPU)[kinds[0]] if kinds[0] else None
    n2 = _norms(4, useGPU)[kinds[1]] if kinds[1] else None
    L = mg.DoubleSymLayer(K, activation=mg.tanhActivation, normLayer1=n1, normLayer2=n2,
                          Bin=_Bmat(6, 2), Bout=_Bmat(4, 1))
    assertElementDerivatives(L, nEx=4)


def test_double_layer_with_norms(useGPU):
    K1, K2 = mg.Dense((5, 4), useGPU=useGPU), mg.Dense((3, 5), useGPU=useGPU)
    L = mg.DoubleLayer(K1, K2, normLayer1=_norms(5, useGPU)["tv"], normLayer2=_norms(3, useGPU)["batch"],
                       Bin1=_Bmat(5, 1), Bin2=_Bmat(3, 1), Bout=_Bmat(3, 2))
    assertElementDerivatives(L, nEx=4)


# ---------------------------------------------------------------- convolutional layers
@pytest.mark.parametrize("kernel", [mg.Conv2D, mg.ConvFFT])
@pytest.mark.parametrize("norm", [None, "inst", "batch", "tv"])
def test_conv_layers(kernel, norm, useGPU):
    nImg, c = (6, 4), 3
    K = kernel(nImg, (3, 3, c, c), useGPU=useGPU)

    def nl():
        return {None: None,
                "inst": mg.InstNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU),
                "batch": mg.BatchNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU),
                "tv": mg.TVNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU)}[norm]

    bias = mg.opCNNBias(nImg + (c,))
    assertElementDerivatives(mg.SingleLayer(K, activation=mg.reluActivation, Bin=bias, normLayer=nl()), nEx=2)
    assertElementDerivatives(mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=bias, Bout=bias,
                                               normLayer1=nl(), normLayer2=nl()), nEx=2)
    K2 = kernel(nImg, (5, 3, c, 2), useGPU=useGPU)
    assertElementDerivatives(mg.DoubleLayer(K, K2, activation1=mg.reluActivation, Bin1=bias,
                                            Bout=mg.opCNNBias(nImg + (2,)), normLayer1=nl()), nEx=1)


def test_forwardProp_storeInterm_override():
    L = mg.DoubleSymLayer(mg.Dense((5, 4)))
    th = L.initTheta(rng=0)
    Y = np.ones((2, 4))
    assert L.forwardProp(th, Y)[1] is None
    Z, tmp = L.forwardProp(th, Y, storeInterm=True)
    assert tmp is not None and L.storeInterm is False
    np.testing.assert_allclose(L.JYTmv(Z, th, Y, tmp), L.JYTmv(Z, th, Y))
    assert L.forwardProp(th, Y, doDerivative=False, storeInterm=True)[1] is None


def test_layer_stencil_restriction_maps_every_kernel():
    nImg = (8, 8)
    K1, K2 = mg.ConvFFT(nImg, (3, 3, 2, 3)), mg.ConvFFT(nImg, (3, 3, 3, 2))
    L = mg.DoubleLayer(K1, K2, Bout=mg.opCNNBias(nImg + (2,)))
    th = L.initTheta(rng=0)
    t1, t2, _, _, t5, _, _ = L.split(th)
    thc = L.restrictConvStencils(th)
    np.testing.assert_allclose(thc[:K1.nTheta()], K1.restrictConvStencils(t1))
    np.testing.assert_allclose(thc[K1.nTheta():K1.nTheta() + K2.nTheta()], K2.restrictConvStencils(t2))
    np.testing.assert_array_equal(thc[-2:], t5)
    np.testing.assert_allclose(L.prolongateConvStencils(thc), th, rtol=1e-12, atol=1e-14)
    S = mg.DoubleSymLayer(K1, Bin=mg.opCNNBias(nImg + (3,)))
    ths = S.initTheta(rng=1)
    np.testing.assert_allclose(S.restrictConvStencils(ths)[:K1.nTheta()], K1.restrictConvStencils(ths[:K1.nTheta()]))


def test_single_layer_recomputation_leaves_running_statistics(rng):
    """JTmv/Jmv without tmp recompute the layer's intermediates (in training mode) without
    updating a BatchNormLayer2's running statistics a second time; the products agree with
    those from the stored intermediates."""
    nl = mg.BatchNormLayer2((4, 4, 3), momentum=0.5, isWeight=True)
    L = mg.SingleLayer(mg.Conv2D((4, 4), (3, 3, 2, 3)), activation=mg.reluActivation, normLayer=nl)
    th = L.initTheta(rng=1)
    Y = rng.standard_normal((3, 4, 4, 2))
    Z, tmp = L.forwardProp(th, Y, storeInterm=True)
    mean, var = nl.runningMean.copy(), nl.runningVar.copy()
    W = rng.standard_normal(Z.shape)
    v = rng.standard_normal(th.shape)
    for a, b in zip(L.JTmv(W, th, Y), L.JTmv(W, th, Y, tmp)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(L.Jthetamv(v, th, Y), L.Jthetamv(v, th, Y, tmp), rtol=1e-12)
    np.testing.assert_array_equal(nl.runningMean, mean)
    np.testing.assert_array_equal(nl.runningVar, var)
