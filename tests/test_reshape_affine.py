"""AffineScalingLayer and ReshapeLayer."""
import itertools

import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn

LAYOUTS = [(4, 5, 3), (6, 3), (5,)]
FLAGS = list(itertools.product((0, 1), repeat=3))  # all 8, including no weights


def host(a):
    return mg.toHost(a)


# ---------------------------------------------------------------- AffineScalingLayer
def affineRef(Y, isWeight, th):
    """Explicit loops over examples, pixels and channels."""
    N = Y.shape[0]
    Y3 = Y.reshape(N, -1, Y.shape[-1])
    n1, n2 = Y3.shape[1:]
    sizes = [n1 if isWeight[0] else 0, n2 if isWeight[1] else 0, N if isWeight[2] else 0]
    parts, start = [], 0
    for n in sizes:
        parts.append((th[start:start + n], th[start + n:start + 2 * n]))
        start += 2 * n
    Z = np.empty_like(Y3)
    for n in range(N):
        for p in range(n1):
            for c in range(n2):
                idx = (p, c, n)
                val = Y3[n, p, c]
                for k in range(3):
                    if isWeight[k]:
                        val *= parts[k][0][idx[k]]
                for k in range(3):
                    if isWeight[k]:
                        val += parts[k][1][idx[k]]
                Z[n, p, c] = val
    return Z.reshape(Y.shape)


@pytest.mark.parametrize("nData", LAYOUTS)
@pytest.mark.parametrize("isWeight", FLAGS)
def test_affine_derivatives(nData, isWeight, useGPU):
    nEx = 4
    L = mg.AffineScalingLayer(nData, isWeight=isWeight, nEx=nEx, useGPU=useGPU)
    n1, n2 = int(np.prod(nData[:-1])), nData[-1]
    assert L.nTheta() == 2 * (n1 * isWeight[0] + n2 * isWeight[1] + nEx * isWeight[2])
    assert L.sizeFeatIn() == nData and L.sizeFeatOut() == nData
    assertElementDerivatives(L, nEx=nEx, rng=1)
    L1 = mg.AffineScalingLayer(nData, isWeight=isWeight, nEx=1, useGPU=useGPU)
    assertElementDerivatives(L1, nEx=1, rng=2)


@pytest.mark.parametrize("nData", LAYOUTS)
@pytest.mark.parametrize("isWeight", FLAGS)
def test_affine_values(nData, isWeight, rng):
    N = 3
    L = mg.AffineScalingLayer(nData, isWeight=isWeight, nEx=N)
    th = rng.standard_normal(L.nTheta())
    Y = rng.standard_normal((N,) + nData)
    Z, tmp = L.forwardProp(th, Y)
    assert tmp is None
    np.testing.assert_allclose(Z, affineRef(Y, isWeight, th), rtol=1e-13)
    # initial weights: the identity map
    np.testing.assert_array_equal(L.forwardProp(L.initTheta(), Y)[0], Y)
    # J_theta^T column by column against the explicit Jacobian (the map is linear in each weight)
    W = rng.standard_normal(Y.shape)
    g = L.JthetaTmv(W, th, Y)
    h = 1e-6
    gfd = np.array([np.sum(W * (affineRef(Y, isWeight, th + h * e) - affineRef(Y, isWeight, th - h * e)))
                    / (2 * h) for e in np.eye(L.nTheta())]).reshape(-1)
    np.testing.assert_allclose(g, gfd, rtol=1e-7, atol=1e-8)


def test_affine_split_order_and_init():
    L = mg.AffineScalingLayer((2, 3, 4), isWeight=(1, 1, 1), nEx=5)
    th = np.arange(L.nTheta(), dtype=float)
    s1, b1, s2, b2, s3, b3 = L.split(th)
    assert [len(v) for v in (s1, b1, s2, b2, s3, b3)] == [6, 6, 4, 4, 5, 5]
    np.testing.assert_array_equal(np.concatenate([s1, b1, s2, b2, s3, b3]), th)
    assert s2[0] == 12 and b3[-1] == L.nTheta() - 1
    parts = L.split(L.initTheta())
    for k in range(3):
        np.testing.assert_array_equal(parts[2 * k], 1)
        np.testing.assert_array_equal(parts[2 * k + 1], 0)
    L2 = mg.AffineScalingLayer((2, 3, 4), isWeight=(0, 1, 0))
    s1, b1, s2, b2, s3, b3 = L2.split(np.arange(8.0))
    assert s1.size == b1.size == s3.size == b3.size == 0
    np.testing.assert_array_equal(s2, [0, 1, 2, 3])
    np.testing.assert_array_equal(b2, [4, 5, 6, 7])


def test_affine_per_example_gradients(useGPU):
    """Example weights: example n contributes to entry n only."""
    N = 3
    L = mg.AffineScalingLayer((2, 2), isWeight=(0, 0, 1), nEx=N, useGPU=useGPU)
    th = L.asArray(np.array([1.0, 2.0, 3.0, 0.5, 0.5, 0.5]))
    Y = randn((N, 2, 2), useGPU, rng=0)
    W = randn((N, 2, 2), useGPU, rng=1)
    G = host(L.JthetaTmv(W, th, Y, reduceDim=False))
    assert G.shape == (N, 2 * N)
    Yh, Wh = host(Y), host(W)
    np.testing.assert_allclose(G[:, :N], np.diag((Yh * Wh).sum(axis=(1, 2))), rtol=1e-14)
    np.testing.assert_allclose(G[:, N:], np.diag(Wh.sum(axis=(1, 2))), rtol=1e-14)


def test_affine_single_precision(useGPU):
    L = mg.AffineScalingLayer((4, 5, 3), isWeight=(1, 1, 1), nEx=2, useGPU=useGPU, precision="single")
    th = L.initTheta()
    assert th.dtype == np.float32
    Y = randn((2, 4, 5, 3), useGPU, "single", rng=0)
    Z, _ = L.forwardProp(th, Y)
    assert Z.dtype == np.float32
    dth, dY = L.JTmv(Z, th, Y)
    assert dth.dtype == np.float32 and dY.dtype == np.float32
    assert L.JthetaTmv(Z, th, Y, reduceDim=False).dtype == np.float32
    assert mg.checkAdjoint(L.getJthetaOp(th, Y), rng=3)[0]


def test_affine_bad_input():
    with pytest.raises(ValueError, match=r"AffineScalingLayer: isWeight\[2\] \(per-example weights\) needs "
                                         r"the number of examples, nEx=...; got nEx=None"):
        mg.AffineScalingLayer((8, 4), isWeight=(1, 1, 1))
    with pytest.raises(ValueError, match=r"AffineScalingLayer: nEx must be a positive int or None; got 0"):
        mg.AffineScalingLayer((8, 4), nEx=0)
    with pytest.raises(ValueError, match=r"AffineScalingLayer: isWeight must be 3 flags .* got \[1, 1\]"):
        mg.AffineScalingLayer((8, 4), isWeight=[1, 1])
    with pytest.raises(ValueError, match=r"AffineScalingLayer: nData must be .* got \(8, -4\)"):
        mg.AffineScalingLayer((8, -4))
    L = mg.AffineScalingLayer((8, 4), isWeight=(1, 0, 1), nEx=23)
    th = L.initTheta()
    Y = np.ones((5, 8, 4))
    for call in (lambda: L.forwardProp(th, Y), lambda: L.JYmv(Y, th, Y), lambda: L.JTmv(Y, th, Y)):
        with pytest.raises(ValueError, match=r"per-example weights \(isWeight\[2\]\) need N == nEx = 23 "
                                             r"examples; got N = 5"):
            call()
    with pytest.raises(ValueError, match=r"AffineScalingLayer.forwardProp: theta must be a flat 1-D array "
                                         r"of length nTheta=62"):
        L.forwardProp(np.ones(3), np.ones((23, 8, 4)))


# ---------------------------------------------------------------- ReshapeLayer
RESHAPES = [
    ((4, 4, 8), (128,), None),
    ((4, 4, 8), (128,), (2, 0, 1)),
    ((3, 5, 2), (5, 6), (1, 0, 2)),
    ((30,), (3, 5, 2), None),
    ((6, 4), (2, 3, 4), (1, 0)),
]


@pytest.mark.parametrize("nIn,nOut,perm", RESHAPES)
def test_reshape_derivatives(nIn, nOut, perm, useGPU):
    L = mg.ReshapeLayer(nIn, nOut, perm=perm, useGPU=useGPU)
    assert L.nTheta() == 0 and L.sizeFeatIn() == nIn and L.sizeFeatOut() == nOut
    assertElementDerivatives(L, nEx=3, rng=1)
    assertElementDerivatives(L, nEx=1, rng=2)


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("nIn,nOut,perm", RESHAPES)
def test_reshape_values(nIn, nOut, perm, order, useGPU, rng):
    L = mg.ReshapeLayer(nIn, nOut, perm=perm, order=order, useGPU=useGPU)
    p = tuple(range(len(nIn))) if perm is None else perm
    Yh = rng.standard_normal((2,) + nIn)
    Z = host(L.forwardProp(L.initTheta(), L.asArray(Yh))[0])
    assert Z.shape == (2,) + nOut
    # entry Y[n, idx] lands at the position (in ``order``) of the permuted index in the
    # permuted shape, counted in the output in the same order
    shapeP = tuple(nIn[k] for k in p)
    for n in range(2):
        Zf = Z[n].ravel(order=order)
        for idx in itertools.product(*[range(s) for s in nIn]):
            pos = np.ravel_multi_index(tuple(idx[k] for k in p), shapeP, order=order)
            assert Zf[pos] == Yh[(n,) + idx]
    # J_Y^T undoes the map exactly (it is a permutation of the entries)
    back = L.JYTmv(L.asArray(Z), L.initTheta(), L.asArray(Yh))
    np.testing.assert_array_equal(host(back), Yh)


def test_reshape_roundtrip_and_matlab_perm(rng):
    """MATLAB's 'perm', [2 1 3] becomes perm=(1, 0, 2)."""
    enc = mg.ReshapeLayer((7, 7, 4), 7 * 7 * 4)
    dec = mg.ReshapeLayer(196, (7, 7, 4))
    assert enc.sizeFeatOut() == (196,) and dec.sizeFeatIn() == (196,)
    Y = rng.standard_normal((3, 7, 7, 4))
    Z, _ = enc.forwardProp(enc.initTheta(), Y)
    np.testing.assert_array_equal(dec.forwardProp(dec.initTheta(), Z)[0], Y)
    np.testing.assert_array_equal(Z[1, :7], Y[1, :, 0, 0])  # column-major: rows fastest
    C = mg.ReshapeLayer((7, 7, 4), 7 * 7 * 4, order="C")
    np.testing.assert_array_equal(C.forwardProp(C.initTheta(), Y)[0][1, :4], Y[1, 0, 0, :])
    with pytest.raises(ValueError, match=r"ReshapeLayer: order must be 'F' \(column-major, as "
                                         r"Meganet.m\) or 'C' \(row-major\); got 'A'"):
        mg.ReshapeLayer((7, 7, 4), 196, order="A")
    T = mg.ReshapeLayer((2, 3, 4), (3, 2, 4), perm=[1, 0, 2])
    Y = rng.standard_normal((2, 2, 3, 4))
    np.testing.assert_array_equal(T.forwardProp(T.initTheta(), Y)[0], Y.transpose(0, 2, 1, 3))


def test_reshape_single_precision(useGPU):
    L = mg.ReshapeLayer((4, 3), (12,), perm=(1, 0), useGPU=useGPU, precision="single")
    Y = randn((2, 4, 3), useGPU, "single", rng=0)
    Z, _ = L.forwardProp(L.initTheta(), Y)
    assert Z.dtype == np.float32 and L.initTheta().dtype == np.float32
    dth, dY = L.JTmv(Z, L.initTheta(), Y)
    assert dth.shape == (0,) and dY.dtype == np.float32
    assert L.JthetaTmv(Z, L.initTheta(), Y, reduceDim=False).shape == (2, 0)


def test_reshape_bad_input():
    with pytest.raises(ValueError, match=r"ReshapeLayer: prod\(nIn\) must equal prod\(nOut\); got nIn="
                                         r"\(4, 4, 8\) \(128 entries\) and nOut=\(100,\) \(100 entries\)"):
        mg.ReshapeLayer((4, 4, 8), 100)
    with pytest.raises(ValueError, match=r"ReshapeLayer: perm must be a permutation of the 3 feature axes "
                                         r"\(0, 1, 2\) \(0-based\); got \[1, 2, 3\]"):
        mg.ReshapeLayer((4, 4, 8), 128, perm=[1, 2, 3])
    with pytest.raises(ValueError, match=r"ReshapeLayer: perm must be a permutation .* got \(0, 0, 1\)"):
        mg.ReshapeLayer((4, 4, 8), 128, perm=(0, 0, 1))
    with pytest.raises(ValueError, match=r"ReshapeLayer: nIn must be a positive int or a tuple of positive "
                                         r"ints \(the shape of one example\); got \(4, 0\)"):
        mg.ReshapeLayer((4, 0), 0)
    with pytest.raises(ValueError, match=r"ReshapeLayer: nOut must be .* got 2.5"):
        mg.ReshapeLayer((4,), 2.5)
    L = mg.ReshapeLayer((4, 3), 12)
    with pytest.raises(ValueError, match=r"ReshapeLayer.forwardProp: Y must have shape \(N,\) \+ "
                                         r"sizeFeatIn\(\) = \(2, 4, 3\); got \(2, 12\)"):
        L.forwardProp(L.initTheta(), np.ones((2, 12)))
