"""NN and Connector: derivatives, values, multilevel delegation, backend, bad input."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


# ---------------------------------------------------------------- NN
def test_nn_dense_derivatives_and_values(useGPU, rng):
    L1 = mg.SingleLayer(mg.Dense((5, 3), useGPU=useGPU), activation=mg.tanhActivation,
                        Bin=np.ones((5, 1)))
    L2 = mg.SingleLayer(mg.Dense((2, 5), useGPU=useGPU), activation=mg.reluActivation)
    net = mg.NN([L1, L2])
    assert net.nTheta() == 16 + 10 and net.sizeFeatIn() == (3,) and net.sizeFeatOut() == (2,)
    assertElementDerivatives(net, nEx=4)
    th = mg.asArray(rng.standard_normal(net.nTheta()), useGPU=useGPU)
    t1, t2 = net.split(th)
    assert t1.size == 16 and t2.size == 10
    Y = randn((3, 3), useGPU, rng=1)
    Z, tmp = net.forwardProp(th, Y)
    ref = L2.forwardProp(t2, L1.forwardProp(t1, Y)[0])[0]
    np.testing.assert_allclose(mg.toHost(Z), mg.toHost(ref), rtol=1e-14)
    assert len(tmp) == 2 and tmp[0][0] is Y
    assert net.forwardProp(th, Y, doDerivative=False)[1] is None


def test_nn_conv_norm_derivatives(useGPU):
    nImg = (4, 6)
    L1 = mg.SingleLayer(mg.Conv2D(nImg, (3, 3, 1, 2), useGPU=useGPU), activation=mg.tanhActivation,
                        normLayer=mg.BatchNormLayer(nImg + (2,), isWeight=True, useGPU=useGPU))
    L2 = mg.SingleLayer(mg.Conv2D(nImg, (1, 1, 2, 3), useGPU=useGPU), activation=mg.reluActivation,
                        normLayer=mg.InstNormLayer(nImg + (3,), useGPU=useGPU))
    net = mg.NN([L1, L2])
    assertElementDerivatives(net, nEx=2)


def test_nn_conv_reshape_dense_derivatives(useGPU):
    """Meganet.m's NNTest: conv + reshapeLayer + dense."""
    nImg = (4, 4)
    net = mg.NN([mg.SingleLayer(mg.Conv2D(nImg, (3, 3, 1, 2), useGPU=useGPU)),
                 mg.ReshapeLayer((4, 4, 2), (32,), useGPU=useGPU),
                 mg.SingleLayer(mg.Dense((3, 32), useGPU=useGPU))])
    assert net.nTheta() == 18 + 96
    assertElementDerivatives(net, nEx=2)


def test_nn_jtmv_options_and_tmp_none(rng):
    net = mg.NN([mg.SingleLayer(mg.Dense((4, 3))), mg.ReshapeLayer((4,), (2, 2)),
                 mg.ReshapeLayer((2, 2), (4,)), mg.SingleLayer(mg.Dense((2, 4)))])
    th = rng.standard_normal(net.nTheta())
    Y = rng.standard_normal((3, 3))
    Z, tmp = net.forwardProp(th, Y)
    W = rng.standard_normal(Z.shape)
    dth, dY = net.JTmv(W, th, Y, tmp)
    a, b = net.JTmv(W, th, Y, None, doDerivative=(True, False))
    np.testing.assert_allclose(a, dth, rtol=1e-14)
    assert b is None
    a, b = net.JTmv(W, th, Y, tmp, doDerivative=(False, True))
    np.testing.assert_allclose(b, dY, rtol=1e-14)
    assert a is None
    per = net.JthetaTmv(W, th, Y, tmp, reduceDim=False)
    assert per.shape == (3, net.nTheta())
    np.testing.assert_allclose(per.sum(axis=0), dth, rtol=1e-12)
    # directions only in the weight-free layers' slots are fine (Jmv skips them)
    dZ = net.Jmv(None, rng.standard_normal(Y.shape), th, Y)
    assert dZ.shape == Z.shape


def test_nn_multilevel_delegation(rng):
    nImg = (4, 4)
    L1 = mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, 2, 2)))
    L2 = mg.SingleLayer(mg.Conv2D(nImg, (1, 1, 2, 2)))
    net = mg.NN([L1, L2])
    th = net.initTheta(rng=0)
    t1, t2 = net.split(th)
    thc = net.restrictConvStencils(th)
    np.testing.assert_allclose(thc, np.concatenate([L1.restrictConvStencils(t1),
                                                    L2.restrictConvStencils(t2)]))
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, atol=1e-12)
    # weights of layers without time pass through prolongateWeights unchanged
    np.testing.assert_array_equal(net.prolongateWeights(th), th)


def test_nn_backend_defaults_and_push(device):
    L1 = mg.SingleLayer(mg.Dense((3, 2)))
    L2 = mg.SingleLayer(mg.Dense((2, 3)))
    net = mg.NN([L1, L2])
    assert net.useGPU is False and net.precision == "double"
    net = mg.NN([L1, L2], useGPU=True, precision="single")
    assert L1.K.useGPU and L2.K.useGPU and L2.K.precision == "single"
    th = net.initTheta(rng=0)
    assert th.dtype == np.float32 and not isinstance(th, np.ndarray)
    L3 = mg.SingleLayer(mg.Dense((3, 2)))
    with pytest.raises(ValueError, match=r"NN: the children disagree on useGPU \(\[False, True\]\); pass "
                                         r"useGPU="):
        mg.NN([L3, L2])
    L3.useGPU = True
    with pytest.raises(ValueError, match=r"NN: the children disagree on precision \(\['double', "
                                         r"'single'\]\)"):
        mg.NN([L3, L2])
    net = mg.NN([L3, L2], precision="double")
    assert L2.K.precision == "double"


def test_nn_bad_input():
    with pytest.raises(ValueError, match=r"NN: layers\[1\].sizeFeatIn\(\) must equal "
                                         r"layers\[0\].sizeFeatOut\(\) "
                                         r"= \(3,\); got \(4,\)"):
        mg.NN([mg.SingleLayer(mg.Dense((3, 2))), mg.SingleLayer(mg.Dense((2, 4)))])
    with pytest.raises(ValueError, match="NN: layers must contain at least one layer; got an empty list"):
        mg.NN([])
    with pytest.raises(TypeError, match="NN: layers must be a list of elements; got SingleLayer"):
        mg.NN(mg.SingleLayer(mg.Dense((3, 2))))
    with pytest.raises(TypeError, match=r"NN: layers\[1\] must be a meganet element"):
        mg.NN([mg.SingleLayer(mg.Dense((3, 2))), np.eye(3)])
    net = mg.NN([mg.SingleLayer(mg.Dense((3, 2)))])
    with pytest.raises(ValueError, match=r"theta must be a flat 1-D array of length nTheta=6; got shape "
                                         r"\(5,\)"):
        net.forwardProp(np.zeros(5), np.zeros((2, 2)))


# ---------------------------------------------------------------- Connector
def test_connector_matrix_derivatives_and_values(useGPU, rng):
    """Meganet.m's connectorTest: connector(randn(24,10), randn(24,1))."""
    K, b = rng.standard_normal((24, 10)), rng.standard_normal(24)
    con = mg.Connector(mg.asArray(K, useGPU=useGPU), mg.asArray(b, useGPU=useGPU))
    assert con.useGPU == useGPU and con.nTheta() == 0
    assert con.sizeFeatIn() == (10,) and con.sizeFeatOut() == (24,)
    assertElementDerivatives(con, nEx=3)
    Y = randn((4, 10), useGPU, rng=2)
    Z, tmp = con.forwardProp(con.initTheta(), Y)
    np.testing.assert_allclose(mg.toHost(Z), mg.toHost(Y) @ K.T + b, rtol=1e-13)
    assert tmp is None
    dth, dY = con.JTmv(Z, con.initTheta(), Y, reduceDim=False)
    assert dth.shape == (4, 0) and dY.shape == (4, 10)


def test_connector_reshape_and_image_shapes(useGPU, rng):
    # flattening image features with K = I
    con = mg.Connector(np.eye(24), sizeFeatIn=(2, 3, 4), sizeFeatOut=(24,), useGPU=useGPU)
    Y = randn((2, 2, 3, 4), useGPU, rng=1)
    Z, _ = con.forwardProp(con.initTheta(), Y)
    np.testing.assert_array_equal(mg.toHost(Z), mg.toHost(Y).reshape(2, 24))
    assertElementDerivatives(con, nEx=2)
    # image -> image with a matrix on the flattened examples and an image-shaped bias
    K = rng.standard_normal((12, 24))
    b = rng.standard_normal((2, 3, 2))
    con = mg.Connector(K, b, sizeFeatIn=(2, 3, 4), sizeFeatOut=(2, 3, 2), useGPU=useGPU)
    Z, _ = con.forwardProp(con.initTheta(), Y)
    ref = (mg.toHost(Y).reshape(2, 24) @ K.T).reshape(2, 2, 3, 2) + b
    np.testing.assert_allclose(mg.toHost(Z), ref, rtol=1e-13)
    assertElementDerivatives(con, nEx=2)


def test_connector_products_do_not_read_the_input(rng):
    """NN/Meganet need not keep a connector's input: its products use the direction only."""
    con = mg.Connector(mg.opPool((4, 4, 2), 2))
    assert con.readsInput("JTmv") is False and con.readsInput("Jmv") is False
    net = mg.NN([mg.SingleLayer(mg.Conv2D((4, 4), (1, 1, 1, 2))), con])
    th, Y = net.initTheta(rng=0), rng.standard_normal((3, 4, 4, 1))
    Z, tmp = net.forwardProp(th, Y)
    assert tmp[0].Y is not None and tmp[1].Y is None
    full = mg.NN(net.layers, storeInputs="all")
    W = rng.standard_normal(Z.shape)
    for a, b in zip(net.JTmv(W, th, Y, tmp), full.JTmv(W, th, Y, full.forwardProp(th, Y)[1])):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_connector_pooling_operator(useGPU, rng):
    P = mg.opPool((4, 6, 3), 2, useGPU=useGPU)
    con = mg.Connector(P)
    assert con.sizeFeatIn() == (4, 6, 3) and con.sizeFeatOut() == (2, 3, 3)
    assertElementDerivatives(con, nEx=2)
    Yh = rng.standard_normal((2, 4, 6, 3))
    Z, _ = con.forwardProp(con.initTheta(), mg.asArray(Yh, useGPU=useGPU))
    ref = Yh.reshape(2, 2, 2, 3, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(mg.toHost(Z), ref, rtol=1e-14)
    # flat output shape through the same operator
    con = mg.Connector(P, sizeFeatOut=(18,))
    assert con.forwardProp(con.initTheta(), mg.asArray(Yh, useGPU=useGPU))[0].shape == (2, 18)
    # the precision given is pushed to the operator
    con = mg.Connector(mg.opPool((4, 6, 3), 2), precision="single")
    assert con.K.precision == "single"


def test_connector_no_weights_multilevel(rng):
    con = mg.Connector(np.ones((2, 3)))
    th = con.initTheta()
    assert th.shape == (0,)
    for f in (con.prolongateWeights, con.restrictConvStencils, con.prolongateConvStencils):
        assert f(th).shape == (0,)


def test_connector_single_precision(useGPU):
    con = mg.Connector(np.ones((2, 3), dtype=np.float32), 0.5)
    assert con.precision == "single"
    con = mg.Connector(np.ones((2, 3)), 0.5, useGPU=useGPU, precision="single")
    Z, _ = con.forwardProp(con.initTheta(), randn((4, 3), useGPU, "single"))
    assert Z.dtype == np.float32


def test_connector_bad_input():
    with pytest.raises(TypeError, match="Connector: K must be a 2-D array .* or a LinearOperator; got "
                                        "ndarray of shape"):
        mg.Connector(np.ones(3))
    with pytest.raises(ValueError, match=r"Connector: sizeFeatIn must have prod\(K.shape\[1\]\) = 6 "
                                         r"entries; got \(2, 2\)"):
        mg.Connector(np.ones((4, 6)), sizeFeatIn=(2, 2))
    with pytest.raises(ValueError, match=r"Connector: sizeFeatOut must have prod\(K.m\) = 12 entries; got "
                                         r"\(5,\)"):
        mg.Connector(mg.opPool((4, 6, 2), 2), sizeFeatOut=(5,))
    with pytest.raises(ValueError, match=r"Connector: b must be a number or have prod\(sizeFeatOut\) = 4 "
                                         r"entries; got shape \(3,\)"):
        mg.Connector(np.ones((4, 6)), np.ones(3))
    with pytest.raises(ValueError, match=r"Connector: sizeFeatIn must be a tuple of positive integers; got "
                                         r"\(0, 6\)"):
        mg.Connector(np.ones((4, 6)), sizeFeatIn=(0, 6))
    # an operator that does not keep the examples along the first axis
    M = np.ones((2, 3))
    op = mg.LinearOperator(2, 3, lambda x: M @ x.T, lambda y: M.T @ y.T)
    con = mg.Connector(op)
    with pytest.raises(ValueError, match=r"Connector: K.Amv must map a batch of shape \(4, 3\) to \(4, 2\)"):
        con.forwardProp(con.initTheta(), np.ones((4, 3)))
