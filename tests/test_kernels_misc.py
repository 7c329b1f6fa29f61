"""ScalingKernel and SparseKernel."""
import numpy as np
import pytest
import scipy.sparse

import meganet as mg
from helpers import assertElementDerivatives, randn

# ---------------------------------------------------------------------- ScalingKernel
PATTERNS = [(1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 0, 0)]


def scalingRef(theta, Y, nData, isWeight):
    s = []
    k = 0
    for n, w in zip(nData, isWeight):
        s.append(theta[k:k + n] if w else np.ones(n))
        k += n if w else 0
    Z = np.empty_like(Y)
    for n in range(Y.shape[0]):
        for a in range(Y.shape[1]):
            for b in range(Y.shape[2]):
                Z[n, a, b] = s[0][a] * s[1][b] * s[2][n] * Y[n, a, b]
    return Z


@pytest.mark.parametrize("isWeight", PATTERNS)
def test_scaling_values_and_derivatives(isWeight, useGPU, rng):
    nData = (6, 4, 3)
    K = mg.ScalingKernel(nData, isWeight=isWeight, useGPU=useGPU)
    assert K.nTheta() == sum(n * w for n, w in zip(nData, isWeight))
    assert K.sizeFeatIn() == K.sizeFeatOut() == (6, 4)
    np.testing.assert_array_equal(mg.toHost(K.initTheta()), np.ones(K.nTheta()))
    th = randn((K.nTheta(),), useGPU, rng=rng)
    Y = randn((3, 6, 4), useGPU, rng=rng)
    Zref = scalingRef(mg.toHost(th), mg.toHost(Y), nData, isWeight)
    np.testing.assert_allclose(mg.toHost(K.Amv(th, Y)), Zref, rtol=1e-14)
    np.testing.assert_allclose(mg.toHost(K.ATmv(th, Y)), Zref, rtol=1e-14)
    s1, s2, s3 = K.split(th)
    for s, n, w in zip((s1, s2, s3), nData, isWeight):
        assert (s is None) == (not w) and (s is None or s.shape == (n,))
    assertElementDerivatives(K, th, Y)
    assert mg.checkAdjoint(K.getOp(th), rng=0, tol=1e-13)[0]
    # JthetaATmv (derivative of K(theta)^T Z) is the adjoint of JthetaTmv(Z, theta, .)
    if K.nTheta():
        dth = randn((K.nTheta(),), useGPU, rng=rng)
        Z = randn(Y.shape, useGPU, rng=rng)
        Wz = randn(Y.shape, useGPU, rng=rng)
        lhs = float((Wz * K.JthetaATmv(dth, th, Z)).sum())
        rhs = float((dth * K.JthetaTmv(Z, th, Wz)).sum())
        assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


def test_scaling_without_examples_dimension(useGPU):
    K = mg.ScalingKernel((24, 14), isWeight=(1, 1, 0), useGPU=useGPU)
    assert K.nTheta() == 38
    for N in (1, 8):
        assertElementDerivatives(K, nEx=N)
    K = mg.ScalingKernel((24, 14, 8), isWeight=(0, 1, 0), useGPU=useGPU, precision="single")
    th = K.initTheta()
    Y = randn((5, 24, 14), useGPU, "single", rng=0)
    assert K.Amv(th + 1, Y).dtype == np.float32
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]


def test_scaling_bad_input(useGPU):
    K = mg.ScalingKernel((6, 4, 3), isWeight=(1, 0, 1), useGPU=useGPU)
    th = K.initTheta()
    with pytest.raises(ValueError, match=r"ScalingKernel.Amv: scaling per example \(isWeight\[2\]\) needs "
                                         r"N = nData\[2\] = 3 examples; got N = 2"):
        K.Amv(th, randn((2, 6, 4), useGPU))
    with pytest.raises(ValueError, match=r"JthetaTmv: scaling per example .* got N = 4"):
        K.JthetaTmv(randn((4, 6, 4), useGPU), th, randn((4, 6, 4), useGPU))
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(3, 6, 4\)"):
        K.forwardProp(th, randn((3, 4, 6), useGPU))
    with pytest.raises(ValueError, match="theta must be a flat 1-D array of length nTheta=9"):
        K.Amv(th[:4], randn((3, 6, 4), useGPU))
    with pytest.raises(ValueError, match=r"nData must be \(n1, n2, n3\) or \(n1, n2\) of positive integers; "
                                         r"got \(6, 0, 3\)"):
        mg.ScalingKernel((6, 0, 3))
    with pytest.raises(ValueError, match=r"isWeight must be three flags .*got \(1, 2, 0\)"):
        mg.ScalingKernel((6, 4, 3), isWeight=(1, 2, 0))
    with pytest.raises(ValueError, match=r"isWeight must be three flags .*got \(1, 1\)"):
        mg.ScalingKernel((6, 4, 3), isWeight=(1, 1))
    with pytest.raises(ValueError, match=r"isWeight\[2\] \(scaling per example\) needs "
                                         r"nData = \(n1, n2, n3\)"):
        mg.ScalingKernel((6, 4), isWeight=(0, 0, 1))


# ---------------------------------------------------------------------- SparseKernel
def randomPattern(nK, nnz, rng, duplicates=True):
    ival = rng.integers(0, nK[0], nnz)
    jval = rng.integers(0, nK[1], nnz)
    if duplicates:  # repeat some index pairs: their values add up
        ival[:3], jval[:3] = ival[3], jval[3]
    return ival, jval


def test_sparse_matches_scipy(useGPU, rng):
    nK = (9, 7)
    ival, jval = randomPattern(nK, 20, rng)
    K = mg.SparseKernel(ival, jval, nK, useGPU=useGPU)
    assert K.nTheta() == K.nnz() == 20 and K.sizeFeatIn() == (7,) and K.sizeFeatOut() == (9,)
    th = K.initTheta(rng=1)
    t = mg.toHost(th)
    assert t.min() >= 0 and t.max() < 1
    M = scipy.sparse.coo_matrix((t, (ival, jval)), shape=nK).toarray()
    assert np.count_nonzero(M.sum(axis=1) == 0) > 0   # some rows are empty
    np.testing.assert_allclose(mg.toHost(K.getMatrix(th)), M, rtol=1e-14)
    for N in (1, 4):
        Y = randn((N, 7), useGPU, rng=N)
        Wz = randn((N, 9), useGPU, rng=N + 5)
        np.testing.assert_allclose(mg.toHost(K.Amv(th, Y)), mg.toHost(Y) @ M.T, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(mg.toHost(K.ATmv(th, Wz)), mg.toHost(Wz) @ M, rtol=1e-13, atol=1e-14)
        per = np.array([[mg.toHost(Wz)[n, i] * mg.toHost(Y)[n, j] for i, j in zip(ival, jval)]
                        for n in range(N)])
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y, reduceDim=False)), per, rtol=1e-13)
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y)), per.sum(0), rtol=1e-13)


def test_sparse_derivatives(useGPU, rng):
    nK = (100, 200)
    S = scipy.sparse.random(*nK, density=0.1, random_state=np.random.RandomState(0), format="coo")
    K = mg.SparseKernel(S.row, S.col, nK, useGPU=useGPU)
    th = K.initTheta(rng=0)
    assert mg.checkAdjoint(K.getOp(th), rng=0, tol=1e-13)[0]
    assertElementDerivatives(K, nEx=3)
    ival, jval = randomPattern((6, 8), 15, rng)
    K = mg.SparseKernel(ival, jval, (6, 8), useGPU=useGPU)
    assertElementDerivatives(K, nEx=1)


def test_sparse_with_Qs(useGPU, rng):
    ival, jval = randomPattern((6, 5), 12, rng)
    Qs = rng.standard_normal((12, 4))
    K = mg.SparseKernel(ival, jval, (6, 5), Qs=Qs, useGPU=useGPU)
    assert K.nTheta() == 4
    th = K.initTheta(rng=0)
    M = scipy.sparse.coo_matrix((Qs @ mg.toHost(th), (ival, jval)), shape=(6, 5)).toarray()
    np.testing.assert_allclose(mg.toHost(K.getMatrix(th)), M, rtol=1e-13, atol=1e-15)
    assertElementDerivatives(K, nEx=3)
    Qop = mg.LinearOperator(12, 4, lambda x: Qs @ x, lambda y: Qs.T @ y)
    assertElementDerivatives(mg.SparseKernel(ival, jval, (6, 5), Qs=Qop), nEx=2)


def test_sparse_single_precision_and_time_step(useGPU, rng):
    ival, jval = randomPattern((5, 5), 12, rng)
    K = mg.SparseKernel(ival, jval, (5, 5), useGPU=useGPU, precision="single")
    th = K.initTheta(rng=0)
    assert th.dtype == np.float32
    Y = randn((3, 5), useGPU, "single", rng=1)
    assert K.Amv(th, Y).dtype == np.float32 and K.JthetaTmv(Y, th, Y).dtype == np.float32
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]
    Kd = mg.SparseKernel(ival, jval, (5, 5), useGPU=useGPU)
    thd = Kd.initTheta(rng=0)
    Yd = randn((3, 5), useGPU, rng=1)
    Z = Kd.implicitTimeStep(thd, Yd, 0.5)
    M = mg.toHost(Kd.getMatrix(thd))
    np.testing.assert_allclose(mg.toHost(Z) @ (0.5 * M.T @ M + np.eye(5)).T, mg.toHost(Yd), atol=1e-12)


def test_sparse_bad_input(useGPU):
    K = mg.SparseKernel([0, 1, 2], [1, 1, 0], (3, 2), useGPU=useGPU)
    th = K.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(4, 2\); "
                                         r"got \(4, 3\)"):
        K.Amv(th, randn((4, 3), useGPU))
    with pytest.raises(ValueError, match="theta must be a flat 1-D array of length nTheta=3"):
        K.Amv(th[:2], randn((4, 2), useGPU))
    with pytest.raises(ValueError, match="ival and jval must have the same length; got 3 and 2"):
        mg.SparseKernel([0, 1, 2], [1, 1], (3, 2))
    with pytest.raises(ValueError, match=r"jval must hold 0-based indices in \[0, 1\]; "
                                         r"got values in \[0, 2\]"):
        mg.SparseKernel([0, 1, 2], [1, 2, 0], (3, 2))
    with pytest.raises(ValueError, match="ival must be a 1-D array of integer indices; got dtype float64"):
        mg.SparseKernel([0.0, 1.0], [1, 0], (3, 2))
    with pytest.raises(ValueError, match=r"nK must be two positive integers \(nOut, nIn\); got \(3,\)"):
        mg.SparseKernel([0], [0], (3,))
    with pytest.raises(ValueError, match=r"Qs must be a matrix with 3 rows \(len\(ival\)\)"):
        mg.SparseKernel([0, 1, 2], [1, 1, 0], (3, 2), Qs=np.ones((2, 2)))
    with pytest.raises(ValueError, match="implicitTimeStep needs a square kernel"):
        K.implicitTimeStep(th, randn((2, 2), useGPU), 1.0)
