"""Meganet.m's calling forms: empty arguments, ``op * x``, options it ignores, normLayer sizes."""
import warnings

import numpy as np
import pytest

import meganet as mg
from meganet.backend import toHost


# ---------------------------------------------------------------- xref = [], alpha = []
@pytest.mark.parametrize("empty", [None, [], (), np.zeros(0), np.zeros((0, 0))])
def test_regularizers_take_empty_xref_and_alpha(empty, rng):
    n = 6
    x = rng.standard_normal(n)
    B = rng.standard_normal((4, n))
    for make, default in [
            (lambda a, r: mg.TikhonovReg(B, alpha=a, xref=r), mg.TikhonovReg(B, alpha=1.0, xref=0.0)),
            (lambda a, r: mg.L2Reg(B, alpha=a, xref=r), mg.L2Reg(B, alpha=(1.0, 1.0), xref=0.0)),
            (lambda a, r: mg.L1Reg(B, alpha=a, xref=r), mg.L1Reg(B, alpha=(1.0, 1.0), xref=0.0))]:
        reg = make(empty, empty)
        assert reg.xref == 0.0 and reg.alpha == default.alpha
        Sc, _, dS, _ = reg.regularizer(x)[:4]
        Sd, _, dSd, _ = default.regularizer(x)[:4]
        assert float(Sc) == float(Sd)
        np.testing.assert_array_equal(dS, dSd)
    with pytest.raises(ValueError, match="xref must be a number or a flat vector"):
        mg.TikhonovReg(B, xref="none")


# ---------------------------------------------------------------- op * x
def test_operator_times_array_applies_it(useGPU, rng):
    A = rng.standard_normal((3, 4))
    xp = mg.getArrayModule(useGPU)
    op = mg.LinearOperator(xp.asarray(A))
    x = xp.asarray(rng.standard_normal(4))
    y = op * x
    assert isinstance(y, xp.ndarray) and y.shape == (3,)
    np.testing.assert_allclose(toHost(y), A @ toHost(x), rtol=1e-14)
    np.testing.assert_allclose(toHost(op.T * y), A.T @ toHost(y), rtol=1e-14)
    X = xp.asarray(rng.standard_normal((5, 4)))          # a batch, examples first
    np.testing.assert_allclose(toHost(op * X), toHost(X) @ A.T, rtol=1e-14)
    # scalars on either side scale, operators compose
    for scaled in (2.0 * op, op * 2.0, np.float64(2.0) * op, op * np.float64(2.0)):
        assert isinstance(scaled, mg.LinearOperator)
        np.testing.assert_allclose(toHost(scaled * x), 2 * A @ toHost(x), rtol=1e-14)
    np.testing.assert_allclose(toHost((op.T * op) * x), A.T @ A @ toHost(x), rtol=1e-13)
    with pytest.raises(TypeError, match=r"array \* operator is not defined .* write op \* x"):
        y * op
    with pytest.raises(TypeError, match=r"array @ operator is not defined"):
        y @ op


def test_structured_operator_times_array(rng):
    P = mg.opPool((4, 4, 2), 2)
    Y = rng.standard_normal((3, 4, 4, 2))
    op = mg.opEye((4, 4, 2))
    np.testing.assert_array_equal(op * Y, Y)
    np.testing.assert_allclose(P * Y, P.Amv(Y), rtol=1e-15)


# ---------------------------------------------------------------- options Meganet.m ignores
def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def test_ignored_options_warn_and_are_ignored(rng):
    with pytest.warns(UserWarning, match=r"NormLayer: Meganet.m's option\(s\) 'isWeight' are "
                                         r"ignored \(as Meganet.m ignores them: normLayer has no "
                                         r"weights"):
        L = mg.NormLayer((4, 4, 3), isWeight=1)
    assert L.nTheta() == 0
    Y = rng.standard_normal((2, 4, 4, 3))
    ref = _quiet(lambda: mg.NormLayer((4, 4, 3)))
    np.testing.assert_array_equal(L.forwardProp(L.initTheta(), Y)[0],
                                  ref.forwardProp(ref.initTheta(), Y)[0])
    # as in Meganet.m's EResNN_MNIST_tf.m: doubleSymLayer has no Bin1/activation1/activation2
    K = mg.Dense((3, 3))
    with pytest.warns(UserWarning, match=r"DoubleSymLayer: Meganet.m's option\(s\) 'Bin1', "
                                         r"'activation1', 'activation2' are ignored"):
        D = mg.DoubleSymLayer(K, Bin1=np.ones((3, 1)), activation1=mg.reluActivation,
                              activation2=mg.identityActivation)
    assert D.nTheta() == 9 and D.activation is mg.tanhActivation
    with pytest.warns(UserWarning, match=r"NN: Meganet.m's option\(s\) 'nt'"):
        net = mg.NN([mg.SingleLayer(mg.Dense((3, 3)))], nt=5)
    with pytest.warns(UserWarning, match=r"Meganet: Meganet.m's option\(s\) 'nBlocks'"):
        mg.Meganet([net], nBlocks=3)
    with pytest.warns(UserWarning, match=r"ResNNrk4: Meganet.m's option\(s\) 'nt' are ignored .*tY"):
        mg.ResNNrk4(mg.SingleLayer(mg.Dense((3, 3))), [0.0, 0.5], nt=7)
    # anything else is still an error, and the option names stay exact
    with pytest.raises(TypeError, match="unexpected keyword argument 'isweight'"):
        mg.NormLayer((4, 4, 3), isweight=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'Bin2'"):
        mg.DoubleSymLayer(K, Bin2=np.ones((3, 1)))
    _quiet(lambda: mg.BatchNormLayer((4, 4, 3), isWeight=1))   # a real option: no warning


# ---------------------------------------------------------------- normLayer sizes
def _matlabNormLayer(Y, doNorm, eps):
    """Meganet.m's normLayer on data nPix x nC x nEx: mean/variance over the flagged dims."""
    axes = tuple(k for k in range(3) if doNorm[k])
    F = Y - Y.mean(axis=axes, keepdims=True)
    return F / np.sqrt((F ** 2).mean(axis=axes, keepdims=True) + eps)


@pytest.mark.parametrize("doNorm", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 1, 1)])
def test_normlayer_three_entries_of_meganet_m(doNorm, rng):
    """Meganet.m's normLayer([nPix nC nEx]) is NormLayer((nPix, nC)) here."""
    nPix, nC, nEx = 20, 3, 12
    Y_m = rng.standard_normal((nPix, nC, nEx))
    L = mg.NormLayer((nPix, nC), doNorm=doNorm)
    Z = L.forwardProp(L.initTheta(), mg.featuresFromMatlab(Y_m, (nPix, nC)))[0]
    ref = _matlabNormLayer(Y_m, doNorm, L.eps)
    np.testing.assert_allclose(mg.featuresToMatlab(Z), ref.reshape(-1, nEx, order="F"),
                               rtol=1e-12, atol=1e-14)
    wrong = mg.NormLayer((nPix, nC, nEx), doNorm=doNorm)        # an image layer with nEx channels
    with pytest.raises(ValueError, match=r"must have shape \(N,\) \+ sizeFeatIn\(\) = "
                                         r"\(12, 20, 3, 12\); got \(12, 20, 3\)"):
        wrong.forwardProp(wrong.initTheta(), mg.featuresFromMatlab(Y_m, (nPix, nC)))


def test_norm_layers_four_entries_ignore_nex():
    assert mg.BatchNormLayer((96, 96, 16, 125), isWeight=1).nTheta() == 32
    assert mg.TVNormLayer((8, 8, 4, 10), isWeight=1).sizeFeatIn() == (8, 8, 4)
