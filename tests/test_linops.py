"""Matrix-free operators: each against an explicit matrix, adjoints, shapes, backends, bad input."""
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse

import meganet as mg
from meganet.backend import isDeviceArray, toHost
from meganet.linops import (LinearOperator, blkdiag, hcat, opBlkdiag, opDiag, opEye, opGrad, opHcat,
                            opKron, opMask, opPool, opRemoveAvg, opTimeDer)
from helpers import randn


def relErr(A, B):
    A, B = np.asarray(toHost(A), float), np.asarray(toHost(B), float)
    assert A.shape == B.shape, (A.shape, B.shape)
    den = np.linalg.norm(B)
    return np.linalg.norm(A - B) / (den if den > 0 else 1.0)


def assertMatchesMatrix(op, M, tol=1e-14):
    """op vs its explicit matrix, the adjoint vs M^T, and the adjoint test."""
    assert op.shape == M.shape
    assert relErr(op.toDense(), M) <= tol
    assert relErr(op.T.toDense(), M.T) <= tol
    ok, err = mg.checkAdjoint(op, rng=0)
    assert ok and err < 1e-12, err


def forwardDifference(n, h=1.0):
    D = np.zeros((n - 1, n))
    for k in range(n - 1):
        D[k, k], D[k, k + 1] = -1.0 / h, 1.0 / h
    return D


# ---------------------------------------------------------------------------- LinearOperator

def test_linearOperator_matrix_wrapper(useGPU, rng):
    A = randn((4, 6), useGPU, rng=rng)
    op = LinearOperator(A)
    assert op.m == (4,) and op.n == (6,) and op.useGPU == useGPU and op.precision == "double"
    assertMatchesMatrix(op, toHost(A))
    X = randn((3, 6), useGPU, rng=rng)
    Z = op @ X                                      # batched: (N, 6) -> (N, 4)
    assert Z.shape == (3, 4) and isDeviceArray(Z) == useGPU
    assert relErr(Z, toHost(X) @ toHost(A).T) < 1e-14
    with pytest.raises(ValueError, match=r"input must have shape \(6,\) or \(N, 6\); got \(5,\)"):
        op @ randn(5, useGPU)


def test_linearOperator_matrix_on_other_backend_and_precision(device):
    A = np.random.default_rng(1).standard_normal((3, 5))
    op = LinearOperator(A)                          # host matrix ...
    x = randn(5, True, "single", rng=2)             # ... applied to single-precision device data
    y = op @ x
    assert isDeviceArray(y) and y.dtype == np.float32
    assert relErr(y, A @ toHost(x).astype(float)) < 1e-6


def test_linearOperator_sparse_and_bad_matrix(rng):
    S = scipy.sparse.random(5, 4, density=0.5, random_state=0, format="csr")
    op = LinearOperator(S)
    assertMatchesMatrix(op, S.toarray())
    with pytest.raises(TypeError, match="2-D array"):
        LinearOperator(np.ones(3))
    with pytest.raises(TypeError, match=r"give \(m, n, Amv\[, ATmv\]\) or a single matrix"):
        LinearOperator(3, 4)


def test_linearOperator_existing_api_unchanged():
    M = np.arange(6.0).reshape(2, 3)
    op = LinearOperator(2, 3, lambda x: M @ x, lambda y: M.T @ y)
    assert op.useGPU is False and op.precision == "double" and op.shape == (2, 3)
    assert relErr((2.0 * op - op + op).toDense(), 2 * M) < 1e-15
    assert relErr((op.T @ op).toDense(), M.T @ M) < 1e-15


def test_blkdiag_and_hcat_methods(useGPU, rng):
    A = LinearOperator(randn((3, 2), useGPU, rng=rng))
    B = opTimeDer(6, 3, useGPU=useGPU)
    C = opEye((2, 2), useGPU=useGPU)
    Bd = A.blkdiag(B, C)
    assert isinstance(Bd, opBlkdiag)
    assertMatchesMatrix(Bd, scipy.linalg.block_diag(A.toDense(), B.toDense(), C.toDense()))
    D = randn((3, 4), useGPU, rng=rng)
    H = A.hcat(D)
    assert isinstance(H, opHcat)
    assertMatchesMatrix(H, np.hstack([A.toDense(), toHost(D)]))


# ---------------------------------------------------------------------------- opEye / opDiag

def test_opEye(useGPU):
    op = opEye((2, 3, 4), useGPU=useGPU)
    assert op.n == op.m == (2, 3, 4)
    assertMatchesMatrix(op, np.eye(24))
    X = randn((5, 2, 3, 4), useGPU, rng=0)
    Z = op @ X
    assert Z.shape == X.shape and isDeviceArray(Z) == useGPU and Z is not X
    assert relErr(op.PCmv(X, 2.0, 0.5), toHost(X) / 2.5) < 1e-15
    assert op.getPCop() is op
    with pytest.raises(ValueError, match="opEye: n must be at least 1 positive integer"):
        opEye(0)


def test_opDiag(useGPU, rng):
    d = rng.standard_normal((3, 4))
    d[1, 2] = 0.0
    op = opDiag(d, useGPU=useGPU)
    assert op.n == op.m == (3, 4)
    assertMatchesMatrix(op, np.diag(d.ravel()))
    X = randn((2, 3, 4), useGPU, rng=rng)
    assert relErr(op @ X, toHost(X) * d) < 1e-15           # batched
    # PCmv: minimum-norm solution of (alpha D^2 + gamma I) y = x
    x = randn(12, useGPU, rng=rng)
    A = np.diag(d.ravel() ** 2)
    assert relErr(op.PCmv(x), np.linalg.pinv(A) @ toHost(x)) < 1e-13
    assert relErr(op.PCmv(x, 0.3, 2.0), np.linalg.solve(0.3 * A + 2 * np.eye(12), toHost(x))) < 1e-14
    assert relErr(op.getPCop().toDense(), np.linalg.pinv(A)) < 1e-13
    with pytest.raises(ValueError, match=r"opDiag: D must be a non-empty array; got shape \(\)"):
        opDiag(3.0)


def test_opDiag_device_diagonal(device):
    d = randn(5, True, rng=3)
    op = opDiag(d, useGPU=True)
    x = randn(5, True, rng=4)
    assert relErr(op @ x, toHost(d) * toHost(x)) < 1e-15
    with pytest.raises(TypeError, match="numpy.ndarray was mixed with device arrays"):
        toHost(d) + x          # the test backend refuses mixing, so the above really used device data


# ---------------------------------------------------------------------------- opTimeDer

@pytest.mark.parametrize("ntheta,nt", [(40, 8), (30, 6), (7, 7), (5, 1)])
def test_opTimeDer_matrix_and_adjoint(useGPU, rng, ntheta, nt):
    h, beta = 0.37, 0.8
    op = opTimeDer(ntheta, nt, h, useGPU=useGPU)
    op.beta = beta
    p = ntheta // nt
    # explicit matrix: row (k, j) of the output = beta/h (theta[k+1, j] - theta[k, j])
    L = np.zeros(((nt - 1) * p, ntheta))
    for k in range(nt - 1):
        for j in range(p):
            L[k * p + j, (k + 1) * p + j] = beta / h
            L[k * p + j, k * p + j] = -beta / h
    assert op.shape == L.shape
    if nt > 1:
        assertMatchesMatrix(op, L)
        assert relErr(L, beta * np.kron(forwardDifference(nt, h), np.eye(p))) < 1e-15
    else:
        assert op.toDense().shape == (0, ntheta)
        assert toHost(op.T @ randn(0, useGPU)).tolist() == [0.0] * ntheta
    # batched application: (N, ntheta) -> (N, (nt-1) p)
    X = randn((3, ntheta), useGPU, rng=rng)
    Z = op @ X
    assert Z.shape == (3, (nt - 1) * p) and isDeviceArray(Z) == useGPU
    assert relErr(Z, toHost(X) @ L.T) < 1e-14
    assert relErr(op.T @ Z, toHost(Z) @ L) < 1e-14


@pytest.mark.parametrize("ntheta,nt", [(80, 8), (18, 6), (4, 1)])
def test_opTimeDer_PCmv(useGPU, rng, ntheta, nt):
    h, beta = 0.7, 1.3
    op = opTimeDer(ntheta, nt, h, useGPU=useGPU)
    op.beta = beta
    L = beta * np.kron(forwardDifference(nt, h), np.eye(ntheta // nt)) if nt > 1 else np.zeros((0, ntheta))
    A = L.T @ L
    rhs = randn(ntheta, useGPU, rng=rng)
    t1 = np.linalg.pinv(A) @ toHost(rhs)
    assert relErr(op.PCmv(rhs), t1) < 1e-13 if nt > 1 else np.all(toHost(op.PCmv(rhs)) == 0)
    # proximal problem: min_x 0.5 a |L x|^2 + 0.5 |x - y|^2
    a = 0.45
    t2 = np.linalg.solve(a * A + np.eye(ntheta), toHost(rhs))
    assert relErr(op.PCmv(rhs, a, 1.0), t2) < 1e-13
    assert relErr(op.getPCop().toDense(), np.linalg.pinv(A)) < 1e-12
    R = randn((2, ntheta), useGPU, rng=rng)
    assert relErr(op.PCmv(R, a, 1.0), np.linalg.solve(a * A + np.eye(ntheta), toHost(R).T).T) < 1e-13


def test_opTimeDer_single_precision(useGPU, rng):
    op = opTimeDer(30, 6, 0.5, useGPU=useGPU, precision="single")
    x = randn(30, useGPU, "single", rng=rng)
    z = op @ x
    assert z.dtype == np.float32 and isDeviceArray(z) == useGPU
    L = np.kron(forwardDifference(6, 0.5), np.eye(5))
    assert relErr(z, L @ toHost(x).astype(float)) < 1e-6
    assert mg.checkAdjoint(op, rng=0)[0]
    A = L.T @ L
    assert relErr(op.PCmv(x), np.linalg.pinv(A) @ toHost(x).astype(float)) < 1e-5


def test_opTimeDer_bad_input():
    with pytest.raises(ValueError, match="ntheta must be a multiple of nt.*got ntheta=10, nt=4"):
        opTimeDer(10, 4)
    with pytest.raises(ValueError, match="opTimeDer: h must be a positive number; got -1"):
        opTimeDer(8, 4, -1)
    with pytest.raises(ValueError, match="opTimeDer: nt must be 1 positive integer"):
        opTimeDer(8, 0)
    op = opTimeDer(12, 4)
    with pytest.raises(ValueError, match=r"opTimeDer: input must have shape \(12,\) or flat \(12,\), "
                                         r"or \(N, \*\(12,\)\) / \(N, 12\) for N examples; got \(11,\)"):
        op @ np.zeros(11)
    with pytest.raises(ValueError, match=r"opTimeDer adjoint: input must have shape \(9,\)"):
        op.T @ np.zeros(12)
    with pytest.raises(TypeError, match="opTimeDer: input must be an array"):
        op @ [0.0] * 12
    with pytest.raises(TypeError, match="floating point array; got dtype int64"):
        op @ np.zeros(12, dtype=np.int64)


# ---------------------------------------------------------------------------- opGrad

def gradMatrix(H, W, C, h, beta):
    idx = np.arange(H * W * C).reshape(H, W, C)
    rows = []
    for i in range(H - 1):
        for j in range(W):
            for c in range(C):
                r = np.zeros(H * W * C)
                r[idx[i + 1, j, c]], r[idx[i, j, c]] = beta / h[0], -beta / h[0]
                rows.append(r)
    for i in range(H):
        for j in range(W - 1):
            for c in range(C):
                r = np.zeros(H * W * C)
                r[idx[i, j + 1, c]], r[idx[i, j, c]] = beta / h[1], -beta / h[1]
                rows.append(r)
    return np.array(rows)


@pytest.mark.parametrize("nImg,nC,h", [((6, 7), 2, (0.3, 0.8)), ((4, 4), 1, 1.0), ((1, 5), 3, 2.0)])
def test_opGrad_matrix_adjoint_PCmv(useGPU, rng, nImg, nC, h):
    op = opGrad(nImg, nC, h, useGPU=useGPU)
    op.beta = 0.9
    hh = h if isinstance(h, tuple) else (h, h)
    G = gradMatrix(*nImg, nC, hh, 0.9)
    assert op.n == nImg + (nC,)
    assertMatchesMatrix(op, G)
    A = G.T @ G
    rhs = randn(op.n, useGPU, rng=rng)
    assert relErr(op.PCmv(rhs).reshape(-1), np.linalg.pinv(A) @ toHost(rhs).ravel()) < 1e-12
    a = 0.6
    t = np.linalg.solve(a * A + np.eye(A.shape[0]), toHost(rhs).ravel())
    assert relErr(op.PCmv(rhs, a, 1.0).reshape(-1), t) < 1e-13
    # batched (N, H, W, C) -> (N, m)
    X = randn((3,) + op.n, useGPU, rng=rng)
    Z = op @ X
    assert Z.shape == (3, G.shape[0]) and isDeviceArray(Z) == useGPU
    assert relErr(Z, toHost(X).reshape(3, -1) @ G.T) < 1e-14
    assert relErr((op.T @ Z).reshape(3, -1), toHost(Z) @ G) < 1e-14


def test_opGrad_bad_input():
    with pytest.raises(ValueError, match=r"opGrad: nImg \(H, W\) must be 2 positive integer"):
        opGrad((4, 4, 2), 2)
    with pytest.raises(ValueError, match="opGrad: h must be a number or two numbers"):
        opGrad((4, 4), 2, h=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="opGrad: h must be a positive number; got 0"):
        opGrad((4, 4), 2, h=0)


# ---------------------------------------------------------------------------- opPool

def poolMatrix(H, W, C, p):
    P = np.zeros(((H // p) * (W // p) * C, H * W * C))
    out = np.arange(P.shape[0]).reshape(H // p, W // p, C)
    inp = np.arange(H * W * C).reshape(H, W, C)
    for i in range(H):
        for j in range(W):
            for c in range(C):
                P[out[i // p, j // p, c], inp[i, j, c]] = 1.0 / p ** 2
    return P


@pytest.mark.parametrize("nImg,pool", [((4, 6, 3), 2), ((6, 9, 2), 3), ((4, 4), 2), ((3, 5, 2), 1)])
def test_opPool(useGPU, rng, nImg, pool):
    op = opPool(nImg, pool, useGPU=useGPU)
    H, W = nImg[:2]
    C = nImg[2] if len(nImg) == 3 else 1
    assert op.n == (H, W, C) and op.m == (H // pool, W // pool, C)
    P = poolMatrix(H, W, C, pool)
    assertMatchesMatrix(op, P, tol=1e-15)
    # batch of images (N, H, W, C) -> (N, H/p, W/p, C), against a loop over patches
    X = randn((2, H, W, C), useGPU, rng=rng)
    Z = op @ X
    assert Z.shape == (2, H // pool, W // pool, C) and isDeviceArray(Z) == useGPU
    Xh = toHost(X)
    ref = np.zeros((2, H // pool, W // pool, C))
    for i in range(H // pool):
        for j in range(W // pool):
            ref[:, i, j] = Xh[:, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool].mean(axis=(1, 2))
    assert relErr(Z, ref) < 1e-15
    Y = op.T @ Z
    assert Y.shape == (2, H, W, C)
    assert relErr(Y.reshape(2, -1), toHost(Z).reshape(2, -1) @ P) < 1e-15
    # single image
    assert (op @ X[0]).shape == op.m


def test_opPool_bad_input():
    with pytest.raises(ValueError, match=r"opPool: the image size \(H, W\) = \(6, 7\) "
                                         r"must be divisible by pool = 2"):
        opPool((6, 7, 3), 2)
    with pytest.raises(ValueError, match="opPool: pool must be 1 positive integer"):
        opPool((6, 6, 3), 0)
    with pytest.raises(ValueError, match=r"opPool: nImg \(H, W\[, C\]\) must be 2 to 3 positive integer"):
        opPool((6,), 2)
    op = opPool((4, 4, 2), 2)
    with pytest.raises(ValueError, match=r"opPool: input must have shape \(4, 4, 2\).*got \(3, 4, 4, 3\)"):
        op @ np.zeros((3, 4, 4, 3))


# ---------------------------------------------------------------------------- opKron / opMask / opRemoveAvg

def test_opKron(useGPU, rng):
    A = randn((3, 2), useGPU, rng=rng)
    B = randn((4, 5), useGPU, rng=rng)
    op = opKron(A, B, useGPU=useGPU)
    K = np.kron(toHost(A), toHost(B))
    assertMatchesMatrix(op, K)
    X = randn((6, 10), useGPU, rng=rng)
    assert relErr(op @ X, toHost(X) @ K.T) < 1e-14
    assert relErr(op.T @ (op @ X), toHost(X) @ K.T @ K) < 1e-14
    with pytest.raises(TypeError, match="opKron: B must be a non-empty 2-D array"):
        opKron(A, np.ones(3))


@pytest.mark.parametrize("sK,typ", [((3, 3, 2, 2), 0), ((3, 3, 3, 3), 1), ((1, 3, 2, 2), 1)])
def test_opMask(useGPU, sK, typ):
    op = opMask(sK, typ, useGPU=useGPU)
    # explicit embedding: the selected C-order positions, in increasing order
    sel = []
    for flat, (a, b, i, o) in enumerate(np.ndindex(*sK)):
        if i == o or (typ == 1 and a == sK[0] // 2 and b == sK[1] // 2):
            sel.append(flat)
    M = np.zeros((int(np.prod(sK)), len(sel)))
    M[sel, np.arange(len(sel))] = 1.0
    assertMatchesMatrix(op, M, tol=0)
    X = randn((2, len(sel)), useGPU, rng=0)
    Z = op @ X
    assert Z.shape == (2, M.shape[0]) and relErr(Z, toHost(X) @ M.T) == 0


def test_opMask_bad_input():
    with pytest.raises(ValueError, match=r"sK\[2\] == sK\[3\]\); got sK=\(3, 3, 2, 4\)"):
        opMask((3, 3, 2, 4))
    with pytest.raises(ValueError, match="opMask: type must be 0 or 1; got 2"):
        opMask((3, 3, 2, 2), 2)


def test_opRemoveAvg(useGPU):
    sK = (3, 2, 2, 3)
    op = opRemoveAvg(sK, useGPU=useGPU)
    n = int(np.prod(sK))
    idx = np.arange(n).reshape(sK)
    M = np.eye(n)
    for i in range(sK[2]):
        for o in range(sK[3]):
            stencil = idx[:, :, i, o].ravel()
            M[np.ix_(stencil, stencil)] -= 1.0 / (sK[0] * sK[1])
    assertMatchesMatrix(op, M)
    X = randn((4, n), useGPU, rng=1)
    Z = op @ X
    assert np.abs(toHost(Z).reshape((4,) + sK).mean(axis=(1, 2))).max() < 1e-15
    with pytest.raises(ValueError, match=r"opRemoveAvg: sK \(k1, k2, ...\) must be at least 2"):
        opRemoveAvg((3,))


# ---------------------------------------------------------------------------- block operators

def test_opBlkdiag_batched_and_PCmv(useGPU, rng):
    ops = [opTimeDer(12, 3, 0.5, useGPU=useGPU), opDiag(rng.standard_normal(4), useGPU=useGPU),
           opGrad((3, 4), 2, useGPU=useGPU)]
    Bd = blkdiag(*ops)
    assert Bd.batched
    M = scipy.linalg.block_diag(*[A.toDense() for A in ops])
    assertMatchesMatrix(Bd, M)
    X = randn((3, M.shape[1]), useGPU, rng=rng)
    assert relErr(Bd @ X, toHost(X) @ M.T) < 1e-14
    x = randn(M.shape[1], useGPU, rng=rng)
    ref = np.concatenate([np.linalg.solve(0.5 * A.toDense().T @ A.toDense() + np.eye(A.shape[1]),
                                          toHost(xk)) for A, xk in
                          zip(ops, np.split(toHost(x), np.cumsum([A.shape[1] for A in ops])[:-1]))])
    assert relErr(Bd.PCmv(x, 0.5, 1.0), ref) < 1e-13
    pinvs = [np.linalg.pinv(A.toDense().T @ A.toDense()) for A in ops]
    assert relErr(Bd.getPCop().toDense(), scipy.linalg.block_diag(*pinvs)) < 1e-11


def test_opBlkdiag_generic_blocks_and_backend_push(useGPU, rng):
    M = rng.standard_normal((3, 2))
    gen = LinearOperator(3, 2, lambda v: np.asarray(M) @ v if not useGPU else mg.asArray(M, True) @ v,
                         lambda w: (mg.asArray(M, useGPU).T @ w), useGPU=useGPU)
    Bd = opBlkdiag(gen, opEye(2, useGPU=useGPU))
    assert not Bd.batched           # a generic block: single inputs only
    assertMatchesMatrix(Bd, scipy.linalg.block_diag(M, np.eye(2)))
    with pytest.raises(ValueError, match=r"opBlkdiag: input must have shape \(4,\) or "
                                         r"flat \(4,\); got \(2, 4\)"):
        Bd @ randn((2, 4), useGPU)
    Bd.precision = "single"
    assert all(A.precision == "single" for A in Bd.blocks)
    with pytest.raises(NotImplementedError, match="block 0 .*has no PCmv"):
        Bd.PCmv(randn(4, useGPU))
    with pytest.raises(ValueError, match="opBlkdiag: needs at least one block"):
        opBlkdiag()


def test_hcat(useGPU, rng):
    A, B = opEye(3, useGPU=useGPU), opDiag(rng.standard_normal(3), useGPU=useGPU)
    H = hcat(A, B, randn((3, 2), useGPU, rng=rng))
    assert H.n == (8,) and H.m == (3,)
    assertMatchesMatrix(H, np.hstack([np.eye(3), B.toDense(), toHost(H.blocks[2].toDense())]))
    with pytest.raises(ValueError, match=r"opHcat: all blocks need the same range shape m; block "
                                         r"0 has m=\(3,\), block 1 has m=\(4,\)"):
        hcat(A, opEye(4))
