"""Meganet: whole-network derivative checks (every block kind chained), batching, multilevel."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn


def _symConv(nImg, c, useGPU, kernel=mg.Conv2D):
    K = kernel(nImg, (3, 3, c, c), useGPU=useGPU)
    return mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=mg.opCNNBias(nImg + (c,)),
                             normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, useGPU=useGPU))


def _pdeNetwork(useGPU, opening_norm="inst", storeInputs="needed"):
    """opening conv+norm, ResNN, 1x1 connector layer, DoubleHamiltonianNN, pooling, LeapFrogNN, pooling."""
    n1 = (8, 4)
    normCls = mg.InstNormLayer if opening_norm == "inst" else mg.BatchNormLayer
    opening = mg.NN([mg.SingleLayer(mg.Conv2D(n1, (3, 3, 1, 2), useGPU=useGPU),
                                    activation=mg.reluActivation,
                                    normLayer=normCls(n1 + (2,), isWeight=True, useGPU=useGPU))])
    parabolic = mg.ResNN(_symConv(n1, 2, useGPU), 2, 0.3)
    conn1x1 = mg.NN([mg.SingleLayer(mg.Conv2D(n1, (1, 1, 2, 4), useGPU=useGPU),
                                    activation=mg.tanhActivation,
                                    normLayer=mg.BatchNormLayer(n1 + (4,), useGPU=useGPU))])
    hamiltonian = mg.DoubleHamiltonianNN(_symConv(n1, 2, useGPU), _symConv(n1, 2, useGPU), 2, 0.3)
    pool1 = mg.Connector(mg.opPool(n1 + (4,), 2, useGPU=useGPU))
    n2 = (4, 2)
    leapfrog = mg.LeapFrogNN(_symConv(n2, 4, useGPU), 2, 0.4)
    pool2 = mg.Connector(mg.opPool(n2 + (4,), 2, useGPU=useGPU))
    return mg.Meganet([opening, parabolic, conn1x1, hamiltonian, pool1, leapfrog, pool2],
                      storeInputs=storeInputs)


@pytest.mark.parametrize("storeInputs", ["needed", "all"])
@pytest.mark.parametrize("opening_norm", ["inst", "batch"])
def test_meganet_pde_network_derivatives(opening_norm, storeInputs, useGPU):
    net = _pdeNetwork(useGPU, opening_norm, storeInputs)
    assert net.sizeFeatIn() == (8, 4, 1) and net.sizeFeatOut() == (2, 1, 4)
    assertElementDerivatives(net, nEx=2)


def test_meganet_dense_resnn_derivatives_and_values(useGPU, rng):
    """Meganet.m's MegaNetTest: NN + ResNN."""
    blocks = [mg.NN([mg.SingleLayer(mg.Dense((4, 3), useGPU=useGPU))]),
              mg.ResNN(mg.DoubleSymLayer(mg.Dense((5, 4), useGPU=useGPU)), 3, 0.2),
              mg.LeapFrogNN(mg.SingleLayer(mg.Dense((4, 4), useGPU=useGPU)), 2, 0.5),
              mg.HamiltonianNN(mg.tanhActivation, mg.Dense((4, 4), useGPU=useGPU), None, 2, 0.3),
              mg.ResNNrk4(mg.SingleLayer(mg.getDenseAntiSym(4, useGPU=useGPU)), [0, 0.5, 1.0]),
              mg.Connector(np.ones((2, 4)) / 4, useGPU=useGPU)]
    net = mg.Meganet(blocks)
    assertElementDerivatives(net, nEx=3)
    th = mg.asArray(rng.standard_normal(net.nTheta()), useGPU=useGPU)
    Y = randn((3, 3), useGPU, rng=3)
    Z, tmp = net.forwardProp(th, Y)
    ref = Y
    for b, t in zip(blocks, net.split(th)):
        ref = b.forwardProp(t, ref)[0]
    np.testing.assert_allclose(mg.toHost(Z), mg.toHost(ref), rtol=1e-14)
    assert len(tmp) == len(blocks) and tmp[0][0] is Y
    idx = net.getBlockIndices()
    assert idx.shape == (net.nTheta(),)
    assert [int((idx == k).sum()) for k in range(len(blocks))] == [b.nTheta() for b in blocks]
    # first block needs no input gradient
    dth, dY = net.JTmv(Z, th, Y, tmp, doDerivative=(True, False))
    assert dY is None and dth.shape == (net.nTheta(),)


def test_meganet_forward_prop_batch(rng):
    net = mg.Meganet([mg.NN([mg.SingleLayer(mg.Dense((4, 3)))]),
                      mg.ResNN(mg.DoubleSymLayer(mg.Dense((4, 4))), 2, 0.2)])
    th = net.initTheta(rng=0)
    Y = rng.standard_normal((7, 3))
    Z = net.forwardProp(th, Y)[0]
    for bs in (None, 1, 3, 7, 20):
        np.testing.assert_allclose(net.forwardPropBatch(th, Y, bs), Z, rtol=1e-14)
    with pytest.raises(ValueError, match=r"Meganet.forwardPropBatch: batchSize must be >= 1 or None; got 0"):
        net.forwardPropBatch(th, Y, 0)


def test_meganet_prolongate_weights_delegates(rng):
    res = mg.ResNN(mg.SingleLayer(mg.Dense((3, 3))), 2, 0.5)
    lf = mg.LeapFrogNN(mg.DoubleSymLayer(mg.Dense((3, 3))), 3, 0.2)
    dh = mg.DoubleHamiltonianNN(mg.DoubleSymLayer(mg.Dense((2, 2))),
                                mg.DoubleSymLayer(mg.Dense((2, 2))), 1, 0.4)
    opening = mg.NN([mg.SingleLayer(mg.Dense((3, 2)))])
    conn = mg.Connector(np.vstack([np.eye(3), np.zeros((1, 3))]))  # 3 -> 4 features
    net = mg.Meganet([opening, res, lf, conn, dh])
    th = rng.standard_normal(net.nTheta())
    parts = net.split(th)
    th2 = net.prolongateWeights(th)
    assert (res.nt, res.h, lf.nt, lf.h, dh.nt, dh.h) == (4, 0.25, 6, 0.1, 2, 0.2)
    parts2 = net.split(th2)
    np.testing.assert_array_equal(parts2[0], parts[0])
    assert parts2[1].size == 2 * parts[1].size and parts2[4].size == 2 * parts[4].size
    Y = rng.standard_normal((2, 2))
    assert net.forwardProp(th2, Y)[0].shape == (2, 4)


def test_meganet_conv_stencils_delegate():
    nImg = (4, 4)
    blocks = [mg.NN([mg.SingleLayer(mg.Conv2D(nImg, (3, 3, 1, 2)))]),
              mg.ResNN(mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, 2, 2))), 2, 0.1),
              mg.Connector(mg.opPool(nImg + (2,), 2))]
    net = mg.Meganet(blocks)
    th = net.initTheta(rng=0)
    thc = net.restrictConvStencils(th)
    ref = np.concatenate([b.restrictConvStencils(t) for b, t in zip(blocks, net.split(th))])
    np.testing.assert_allclose(thc, ref)
    np.testing.assert_allclose(net.prolongateConvStencils(thc), th, atol=1e-12)


def test_meganet_backend_push(device):
    blocks = [mg.NN([mg.SingleLayer(mg.Dense((4, 3)))]),
              mg.ResNN(mg.DoubleSymLayer(mg.Dense((4, 4))), 2, 0.2, A=np.ones((1, 2))),
              mg.Connector(np.ones((2, 4)))]
    net = mg.Meganet(blocks, useGPU=True, precision="single")
    assert blocks[1].layer.K.useGPU and blocks[1].A.dtype == np.float32
    assert blocks[2].K.dtype == np.float32 and not isinstance(blocks[2].K, np.ndarray)
    th = net.initTheta(rng=1)
    Y = randn((2, 3), True, "single")
    Z, tmp = net.forwardProp(th, Y)
    dth, dY = net.JTmv(Z, th, Y, tmp)
    assert dth.dtype == np.float32 and dY.dtype == np.float32
    net.useGPU, net.precision = False, "double"
    assert isinstance(blocks[1].A, np.ndarray) and blocks[2].K.dtype == np.float64


def test_meganet_bad_input():
    with pytest.raises(ValueError, match=r"Meganet: blocks\[1\].sizeFeatIn\(\) must equal "
                                         r"blocks\[0\].sizeFeatOut\(\) "
                                         r"= \(4,\); got \(3,\)"):
        mg.Meganet([mg.NN([mg.SingleLayer(mg.Dense((4, 3)))]),
                    mg.ResNN(mg.SingleLayer(mg.Dense((3, 3))), 2, 0.1)])
    with pytest.raises(ValueError, match="Meganet: blocks must contain at least one block"):
        mg.Meganet([])


# ---------------------------------------------------------------- memory of the training sweep
def _tmpArrays(tmp, out):
    """Ids and sizes of the arrays reachable from a (nested) tmp."""
    if tmp is None:
        return out
    if hasattr(tmp, "shape") and hasattr(tmp, "nbytes"):
        out[id(tmp)] = tmp.nbytes
    elif isinstance(tmp, (tuple, list)):
        for t in tmp:
            _tmpArrays(t, out)
    return out


def test_meganet_store_inputs_needed_keeps_what_jtmv_reads(rng):
    net = _pdeNetwork(False)
    assert net.storeInputs == "needed"
    th = net.initTheta(rng=1)
    Y = rng.standard_normal((3,) + net.sizeFeatIn())
    Z, tmp = net.forwardProp(th, Y)
    # kept: the network's input, the inputs of the ResNN and of the 1x1 layer, and the
    # outputs of the reversible blocks (held by their tmp anyway) as the connectors'
    # inputs; not kept: the inputs of the reversible blocks (Hamiltonian, leapfrog)
    assert [s.Y is not None for s in tmp] == [True, True, True, False, True, False, True]
    assert tmp[4].Y is tmp[3].tmp and tmp[6].Y is tmp[5].tmp.YN
    assert tmp[0].Y is Y
    assert tmp[0].tmp[0].Y is Y and tmp[2].tmp[0].Y is tmp[2].Y     # NN's own records
    full = _pdeNetwork(False, storeInputs="all")
    Zf, tmpf = full.forwardProp(th, Y)
    np.testing.assert_array_equal(Z, Zf)
    assert all(s.Y is not None for s in tmpf)
    lean, every = sum(_tmpArrays(tmp, {}).values()), sum(_tmpArrays(tmpf, {}).values())
    assert lean < every
    # the same products from either tmp (JTmv reads nothing more, Jmv recomputes the inputs)
    W = rng.standard_normal(Z.shape)
    dth, dY = net.JTmv(W, th, Y, tmp)
    dthf, dYf = full.JTmv(W, th, Y, tmpf)
    np.testing.assert_allclose(dth, dthf, rtol=1e-12)
    np.testing.assert_allclose(dY, dYf, rtol=1e-12)
    v, dV = rng.standard_normal(th.shape), rng.standard_normal(Y.shape)
    ref = full.Jmv(v, dV, th, Y, tmpf)
    np.testing.assert_allclose(net.Jmv(v, dV, th, Y, tmp), ref, rtol=1e-12)
    np.testing.assert_allclose(net.Jmv(v, dV, th, Y, None), ref, rtol=1e-12)
    np.testing.assert_allclose(net.Jmv(None, dV, th, Y, tmp), full.JYmv(dV, th, Y, tmpf), rtol=1e-12)


def test_meganet_lean_jmv_leaves_running_statistics(rng):
    """Recomputing a missing input runs the elements before it forwards without changing
    their state (BatchNormLayer2's running statistics)."""
    n = (4, 4)
    bn2 = mg.BatchNormLayer2(n + (2,), momentum=0.5)
    net = mg.Meganet([mg.NN([mg.SingleLayer(mg.Conv2D(n, (3, 3, 1, 2)), normLayer=bn2)]),
                      mg.Connector(mg.opPool(n + (2,), 2)),
                      mg.LeapFrogNN(mg.DoubleSymLayer(mg.Conv2D((2, 2), (3, 3, 2, 2))), 2, 0.3)])
    th = net.initTheta(rng=2)
    Y = rng.standard_normal((3,) + net.sizeFeatIn())
    Z, tmp = net.forwardProp(th, Y)
    assert tmp[2].Y is None
    state = net.getState()
    v = rng.standard_normal(th.shape)
    Jv = net.Jthetamv(v, th, Y, tmp)
    for k, val in net.getState().items():
        np.testing.assert_array_equal(val, state[k])
    net.setState(state)
    full = mg.Meganet(net.blocks, storeInputs="all")
    Zf, tmpf = full.forwardProp(th, Y)
    np.testing.assert_allclose(Jv, full.Jthetamv(v, th, Y, tmpf), rtol=1e-12)


def test_meganet_store_interm_passed_to_the_layers(rng):
    net = _pdeNetwork(False)
    th = net.initTheta(rng=3)
    Y = rng.standard_normal((2,) + net.sizeFeatIn())
    _, tmp = net.forwardProp(th, Y)
    assert tmp[0].tmp[0].tmp is None and tmp[1].tmp[0].tmp is None
    Z, tmpI = net.forwardProp(th, Y, storeInterm=True)
    assert tmpI[0].tmp[0].tmp is not None and tmpI[1].tmp[0].tmp is not None
    W = rng.standard_normal(Z.shape)
    for a, b in zip(net.JTmv(W, th, Y, tmpI), net.JTmv(W, th, Y, tmp)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_meganet_store_inputs_bad_value():
    with pytest.raises(ValueError, match=r"Meganet: storeInputs must be one of \('needed', 'all'\); "
                                         r"got 'some'"):
        mg.Meganet([mg.NN([mg.SingleLayer(mg.Dense((4, 3)))])], storeInputs="some")
    with pytest.raises(ValueError, match=r"NN: storeInputs must be one of"):
        mg.NN([mg.SingleLayer(mg.Dense((4, 3)))], storeInputs=True)


def test_meganet_keep_tmp_releases_records_as_jtmv_consumes_them(rng):
    net = _pdeNetwork(False)
    assert net.keepTmp is False
    th = net.initTheta(rng=4)
    Y = rng.standard_normal((2,) + net.sizeFeatIn())
    Z, tmp = net.forwardProp(th, Y)
    assert isinstance(tmp, list)
    inner = tmp[0].tmp
    W = rng.standard_normal(Z.shape)
    dth, dY = net.JTmv(W, th, Y, tmp)
    assert tmp == [None] * len(net.blocks) and inner == [None]     # nested NN released too
    # a released tmp is recomputed: the same products
    for a, b in zip(net.JTmv(W, th, Y, tmp), (dth, dY)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    v = rng.standard_normal(th.shape)
    ref = net.Jthetamv(v, th, Y, None)
    np.testing.assert_allclose(net.Jthetamv(v, th, Y, tmp), ref, rtol=1e-12)
    # keepTmp=True (and Meganet.m's storeInputs='all'): tmp stays intact
    keep = mg.Meganet(net.blocks, storeInputs="all", keepTmp=True)
    Z2, tmp2 = keep.forwardProp(th, Y)
    before = [(s.Y, s.tmp) for s in tmp2]
    for a, b in zip(keep.JTmv(W, th, Y, tmp2), (dth, dY)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert all(s.Y is b[0] and s.tmp is b[1] for s, b in zip(tmp2, before))
    np.testing.assert_allclose(keep.Jthetamv(v, th, Y, tmp2), ref, rtol=1e-12)
    assertElementDerivatives(keep, nEx=2)


def test_meganet_keep_tmp_bad_value():
    with pytest.raises(TypeError, match=r"Meganet: keepTmp must be True or False; got 'yes'"):
        mg.Meganet([mg.NN([mg.SingleLayer(mg.Dense((4, 3)))])], keepTmp="yes")
