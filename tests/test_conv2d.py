"""Conv2D (zero padding, GEMM based), the ConvKernel base and the Galerkin coarsening of stencils."""
import numpy as np
import pytest

import meganet as mg
from meganet.kernels.convKernel import galerkinStencilMap
from helpers import assertElementDerivatives, randn


# ---------------------------------------------------------------------- loop references
def refCorr(Y, K, stride=1, periodic=False):
    """Cross-correlation by explicit loops over output pixels and stencil entries."""
    N, H, W, _ = Y.shape
    k1, k2, _, cout = K.shape
    p1, p2 = (k1 - 1) // 2, (k2 - 1) // 2
    Ho, Wo = -(-H // stride), -(-W // stride)
    Z = np.zeros((N, Ho, Wo, cout))
    for h in range(Ho):
        for w in range(Wo):
            for i in range(k1):
                for j in range(k2):
                    a, b = stride * h + i - p1, stride * w + j - p2
                    if periodic:
                        a, b = a % H, b % W
                    elif not (0 <= a < H and 0 <= b < W):
                        continue
                    for c in range(K.shape[2]):
                        for o in range(cout):
                            Z[:, h, w, o] += K[i, j, c, o] * Y[:, a, b, c]
    return Z


def refStencilGrad(W, Y, sK, stride=1, periodic=False):
    """G[n, i, j, c, o] = sum_{h, w} Y[n, s h + i - p1, s w + j - p2, c] W[n, h, w, o] by loops."""
    N, H, Wd, _ = Y.shape
    k1, k2, cin, cout = sK
    p1, p2 = (k1 - 1) // 2, (k2 - 1) // 2
    G = np.zeros((N, k1, k2, cin, cout))
    for h in range(W.shape[1]):
        for w in range(W.shape[2]):
            for i in range(k1):
                for j in range(k2):
                    a, b = stride * h + i - p1, stride * w + j - p2
                    if periodic:
                        a, b = a % H, b % Wd
                    elif not (0 <= a < H and 0 <= b < Wd):
                        continue
                    G[:, i, j] += Y[:, a, b, :, None] * W[:, h, w, None, :]
    return G


def restrict(Y):
    """2 x 2 cell average of (N, H, W, C) images."""
    N, H, W, C = Y.shape
    return Y.reshape(N, H // 2, 2, W // 2, 2, C).mean(axis=(2, 4))


def prolong(Yc):
    """Piecewise-constant prolongation P = 4 R^T."""
    return np.repeat(np.repeat(Yc, 2, axis=1), 2, axis=2)


CONFIGS = [  # (nImg, sK, stride)
    ((5, 7), (3, 3, 2, 4), 1),
    ((6, 5), (5, 3, 3, 2), 1),
    ((4, 6), (1, 1, 3, 2), 1),
    ((5, 4), (3, 5, 1, 3), 1),
    ((7, 6), (3, 3, 2, 3), 2),
    ((7, 6), (3, 5, 2, 1), 3),
    ((6, 5), (1, 1, 2, 2), 2),
    ((16, 14), (3, 3, 2, 3), 1),   # large enough for the flat-grid forward product
    ((24, 20), (5, 3, 2, 2), 1),
]


def test_conv2d_forward_paths():
    """The test configurations above exercise each way of forming the products."""
    assert mg.Conv2D((16, 14), (3, 3, 2, 3))._flatGrid()
    assert mg.Conv2D((24, 20), (5, 3, 2, 2))._flatGrid()
    assert not mg.Conv2D((5, 7), (3, 3, 2, 4))._flatGrid()
    assert not mg.Conv2D((16, 14), (3, 3, 2, 3), stride=2)._flatGrid()
    assert mg.Conv2D((5, 4), (3, 5, 1, 3))._useIm2col("Amv")          # one input channel
    assert not mg.Conv2D((5, 4), (3, 5, 1, 3))._useIm2col("ATmv")
    routes = {K._route(p) for K in [mg.Conv2D(n, sK, stride=s) for n, sK, s in CONFIGS]
              for p in ("Amv", "ATmv", "JthetaTmv")}
    assert routes == {"im2col", "flat", "shifted"}          # on the host


@pytest.mark.parametrize("nImg,sK", [((16, 14), (3, 3, 2, 3)), ((2, 3), (5, 3, 2, 2)),
                                     ((1, 1), (3, 3, 2, 2)), ((9, 4), (3, 5, 3, 2))])
def test_conv2d_flat_chunks_and_threads(nImg, sK, monkeypatch, rng):
    """The host products on the unpadded flattened grid (shifted row blocks that wrap at the
    image borders, corrected there), split into many row chunks, run in two threads and on
    images smaller than the stencil, match the loops."""
    from threadpoolctl import threadpool_limits
    from meganet.kernels import _flatConv
    monkeypatch.setattr(_flatConv, "CHUNK_BYTES", 1)         # 256 rows per chunk
    K = mg.Conv2D(nImg, sK)
    assert K._route("Amv") == K._route("ATmv") == K._route("JthetaTmv") == "flat"
    th = K.initTheta(rng=rng)
    N = 5 if nImg[0] * nImg[1] > 100 else 300                 # several chunks either way
    Y = rng.standard_normal((N,) + nImg + (sK[2],))
    Wz = rng.standard_normal((N,) + nImg + (sK[3],))
    Kflip = th.reshape(sK)[::-1, ::-1].transpose(0, 1, 3, 2)
    for nThreads in (1, 2):
        with threadpool_limits(limits=nThreads, user_api="blas"):
            np.testing.assert_allclose(K.Amv(th, Y), refCorr(Y, th.reshape(sK)), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(K.ATmv(th, Wz), refCorr(Wz, Kflip), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(K.JthetaTmv(Wz, th, Y), refStencilGrad(Wz, Y, sK).sum(0).ravel(),
                                       rtol=1e-12, atol=1e-11)


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize("algorithm", ["auto", "shifted", "im2col"])
@pytest.mark.parametrize("nImg,sK,stride", CONFIGS)
def test_conv2d_matches_loops(nImg, sK, stride, algorithm, useGPU):
    K = mg.Conv2D(nImg, sK, stride=stride, algorithm=algorithm, useGPU=useGPU)
    th = K.initTheta(rng=1)
    Kh = mg.toHost(th).reshape(sK)
    for N in (1, 3):
        Y = randn((N,) + K.sizeFeatIn(), useGPU, rng=N)
        Z = K.Amv(th, Y)
        Zref = refCorr(mg.toHost(Y), Kh, stride)
        assert Z.shape == (N,) + K.sizeFeatOut() == Zref.shape
        np.testing.assert_allclose(mg.toHost(Z), Zref, rtol=1e-12, atol=1e-12)
        # adjoint from the loops: <W, conv(K, Y)> is bilinear, so J^T W is the gradient
        Wz = randn(Z.shape, useGPU, rng=10 + N)
        G = refStencilGrad(mg.toHost(Wz), mg.toHost(Y), sK, stride)
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y, reduceDim=False)),
                                   G.reshape(N, -1), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y)), G.sum(0).ravel(),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nImg,sK", [((5, 7), (3, 3, 2, 4)), ((6, 5), (5, 3, 3, 2))])
def test_conv2d_adjoint_is_flipped_correlation(nImg, sK, rng):
    """For stride 1, K^T is the correlation with the flipped, channel-transposed stencils."""
    K = mg.Conv2D(nImg, sK)
    th = K.initTheta(rng=rng)
    Wz = rng.standard_normal((2,) + K.sizeFeatOut())
    Kflip = th.reshape(sK)[::-1, ::-1].transpose(0, 1, 3, 2)
    np.testing.assert_allclose(K.ATmv(th, Wz), refCorr(Wz, Kflip), rtol=1e-12, atol=1e-12)


def test_conv2d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for nImg, sK, stride in [((9, 7), (3, 3, 4, 5), 1), ((8, 9), (5, 3, 3, 2), 1),
                             ((9, 8), (3, 3, 2, 3), 2), ((6, 6), (1, 1, 3, 4), 1)]:
        K = mg.Conv2D(nImg, sK, stride=stride)
        th = K.initTheta(rng=rng)
        Y = rng.standard_normal((3,) + K.sizeFeatIn())
        Wz = rng.standard_normal((3,) + K.sizeFeatOut())
        pad = ((sK[0] - 1) // 2, (sK[1] - 1) // 2)
        y = torch.from_numpy(Y.transpose(0, 3, 1, 2).copy())
        w = torch.from_numpy(Wz.transpose(0, 3, 1, 2).copy())
        kt = torch.from_numpy(th.reshape(sK).transpose(3, 2, 0, 1).copy())
        z = F.conv2d(y, kt, stride=stride, padding=pad).numpy().transpose(0, 2, 3, 1)
        np.testing.assert_allclose(K.Amv(th, Y), z, rtol=1e-10, atol=1e-12)
        dy = torch.nn.grad.conv2d_input(y.shape, kt, w, stride=stride, padding=pad)
        np.testing.assert_allclose(K.ATmv(th, Wz), dy.numpy().transpose(0, 2, 3, 1),
                                   rtol=1e-10, atol=1e-12)
        dk = torch.nn.grad.conv2d_weight(y, kt.shape, w, stride=stride, padding=pad)
        np.testing.assert_allclose(K.JthetaTmv(Wz, th, Y),
                                   dk.numpy().transpose(2, 3, 1, 0).ravel(), rtol=1e-10, atol=1e-12)


def test_conv2d_sizes_and_matrix(rng):
    K = mg.Conv2D((5, 4, 2), (3, 3, 2, 3))
    assert K.nImg == (5, 4) and K.sizeFeatIn() == (5, 4, 2) and K.sizeFeatOut() == (5, 4, 3)
    assert K.nTheta() == 54 and K.pad == (1, 1)
    assert mg.Conv2D((5, 4), (3, 3, 2, 3), stride=2).sizeFeatOut() == (3, 2, 3)
    th = K.initTheta(rng=rng)
    A = K.convMatrix(th)
    assert A.shape == (60, 40)
    Y = rng.standard_normal((1, 5, 4, 2))
    np.testing.assert_allclose(A @ Y.ravel(), K.Amv(th, Y).ravel(), rtol=1e-12, atol=1e-13)
    Wz = rng.standard_normal((1, 5, 4, 3))
    np.testing.assert_allclose(A.T @ Wz.ravel(), K.ATmv(th, Wz).ravel(), rtol=1e-12, atol=1e-13)


def test_conv2d_initTheta(useGPU):
    K = mg.Conv2D((6, 6), (3, 5, 4, 8), useGPU=useGPU)
    th = K.initTheta(rng=3)
    assert isinstance(th, K.xp.ndarray) and th.shape == (K.nTheta(),) and th.dtype == np.float64
    t = mg.toHost(th)
    sd = np.sqrt(2 / (5 * 4))
    assert np.abs(t).max() <= 2 * sd + 1e-15
    assert 0.7 * sd < t.std() < 1.0 * sd  # a normal truncated at 2 sd has std 0.88 sd
    np.testing.assert_array_equal(t, mg.toHost(K.initTheta(rng=3)))
    Q = np.ones((K.nTheta(), 7))
    assert mg.Conv2D((6, 6), (3, 5, 4, 8), Q=Q).initTheta(rng=0).shape == (7,)


# ---------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("algorithm", ["shifted", "im2col"])
@pytest.mark.parametrize("nImg,sK,stride", CONFIGS)
def test_conv2d_derivatives(nImg, sK, stride, algorithm, useGPU):
    K = mg.Conv2D(nImg, sK, stride=stride, algorithm=algorithm, useGPU=useGPU)
    assertElementDerivatives(K, nEx=3)
    assertElementDerivatives(K, nEx=1)
    th = K.initTheta(rng=0)
    ok, err = mg.checkAdjoint(K.getOp(th), rng=1, tol=1e-13)
    assert ok, err


def test_conv2d_with_Q(useGPU, rng):
    sK = (3, 3, 2, 3)
    Q = rng.standard_normal((54, 7))
    K = mg.Conv2D((5, 6), sK, Q=Q, useGPU=useGPU)
    assert K.nTheta() == 7
    th = K.initTheta(rng=0)
    Y = randn((2, 5, 6, 2), useGPU, rng=1)
    np.testing.assert_allclose(mg.toHost(K.Amv(th, Y)),
                               refCorr(mg.toHost(Y), (Q @ mg.toHost(th)).reshape(sK)), atol=1e-12)
    assertElementDerivatives(K, nEx=2)
    Qop = mg.LinearOperator(54, 7, lambda x: Q @ x, lambda y: Q.T @ y)
    assertElementDerivatives(mg.Conv2D((5, 6), sK, Q=Qop), nEx=2)


def test_conv2d_single_precision(useGPU):
    K = mg.Conv2D((6, 5), (3, 3, 2, 3), useGPU=useGPU, precision="single")
    th = K.initTheta(rng=0)
    assert th.dtype == np.float32
    Y = randn((2, 6, 5, 2), useGPU, "single", rng=1)
    Wz = randn((2, 6, 5, 3), useGPU, "single", rng=2)
    Z = K.Amv(th, Y)
    assert Z.dtype == np.float32 and K.ATmv(th, Wz).dtype == np.float32
    assert K.JthetaTmv(Wz, th, Y).dtype == np.float32
    assert K.JthetaTmv(Wz, th, Y, reduceDim=False).dtype == np.float32
    Zd = refCorr(mg.toHost(Y).astype(np.float64), mg.toHost(th).astype(np.float64).reshape(K.sK))
    np.testing.assert_allclose(mg.toHost(Z), Zd, rtol=1e-5, atol=1e-5)
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]
    assert mg.checkAdjoint(K.getJthetaOp(th, Y), rng=0)[0]


def test_conv2d_backend_switch(device, rng):
    Q = rng.standard_normal((54, 5))
    K = mg.Conv2D((4, 4), (3, 3, 2, 3), Q=Q)
    K.useGPU = True
    K.precision = "single"
    th = K.initTheta(rng=0)
    Z = K.Amv(th, K.asArray(np.ones((2, 4, 4, 2))))
    assert Z.dtype == np.float32 and mg.backend.isDeviceArray(Z)


# ---------------------------------------------------------------------- bad input
def test_conv2d_bad_input(useGPU):
    K = mg.Conv2D((5, 6), (3, 3, 2, 4), useGPU=useGPU)
    th = K.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(2, 5, 6, 2\); "
                                         r"got \(2, 5, 6, 3\)"):
        K.Amv(th, randn((2, 5, 6, 3), useGPU))
    with pytest.raises(ValueError, match=r"sizeFeatIn\(\) = \(2, 5, 6, 2\); got \(2, 6, 5, 2\)"):
        K.forwardProp(th, randn((2, 6, 5, 2), useGPU))
    with pytest.raises(ValueError, match="theta must be a flat 1-D array of length nTheta=72; got shape"):
        K.Amv(th[:10], randn((2, 5, 6, 2), useGPU))
    with pytest.raises(ValueError, match=r"getStencils: theta must be a flat 1-D array of length nTheta=72"):
        K.getStencils(th[:10])
    with pytest.raises(ValueError, match=r"Z must have shape \(N,\) \+ sizeFeatOut\(\) = \(2, 5, 6, 4\)"):
        K.ATmv(th, randn((2, 5, 6, 2), useGPU))
    with pytest.raises(TypeError, match="dtype float64"):
        K.Amv(th, randn((2, 5, 6, 2), useGPU, "single"))


def test_conv2d_bad_construction():
    with pytest.raises(ValueError, match=r"Conv2D: sK must be \(k1, k2, cin, cout\) with odd k1, k2 "
                                         r"\(positive integers\); got \(2, 3, 4, 4\)"):
        mg.Conv2D((5, 5), (2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"sK must be .*got \(3, 3, 4\)"):
        mg.Conv2D((5, 5), (3, 3, 4))
    with pytest.raises(ValueError, match=r"sK must be .*got \(3, 3, 0, 4\)"):
        mg.Conv2D((5, 5), (3, 3, 0, 4))
    with pytest.raises(ValueError, match=r"sK must be .*got \(3.0, 3, 2, 4\)"):
        mg.Conv2D((5, 5), (3.0, 3, 2, 4))
    with pytest.raises(ValueError, match=r"nImg must be \(H, W\) of positive integers; got \(5, 0\)"):
        mg.Conv2D((5, 0), (3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"nImg must be .*got 5"):
        mg.Conv2D(5, (3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"third entry of nImg \(channels\) must equal sK\[2\]=2; "
                                         r"got nImg=\(5, 5, 3\)"):
        mg.Conv2D((5, 5, 3), (3, 3, 2, 4))
    with pytest.raises(ValueError, match="stride must be a positive integer; got 0"):
        mg.Conv2D((5, 5), (3, 3, 2, 4), stride=0)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        mg.Conv2D((5, 5), (3, 3, 2, 4), algorithm="fft")
    with pytest.raises(ValueError, match=r"Q must be a matrix with 72 rows \(prod\(sK\)\)"):
        mg.Conv2D((5, 5), (3, 3, 2, 4), Q=np.ones((71, 3)))
    with pytest.raises(ValueError, match=r"Q must have 72 rows"):
        mg.Conv2D((5, 5), (3, 3, 2, 4), Q=mg.LinearOperator(70, 3, lambda x: x))


# ---------------------------------------------------------------------- Galerkin coarsening
def test_galerkin_map_closed_form():
    A1 = np.array([[1, 0, 0], [1, 2, 1], [0, 0, 1]]) / 2
    A = galerkinStencilMap()
    np.testing.assert_allclose(A, np.kron(A1, A1), atol=1e-15)
    np.testing.assert_allclose(galerkinStencilMap(9), A, atol=1e-15)
    assert abs(np.linalg.det(A) - 4.0 ** -6) < 1e-17
    assert np.linalg.cond(A) < 100
    with pytest.raises(ValueError, match="n must be an integer >= 3"):
        galerkinStencilMap(2)


@pytest.mark.parametrize("nImg,sK", [((8, 6), (3, 3, 2, 3)), ((4, 10), (3, 3, 1, 1))])
def test_conv2d_restrict_is_galerkin(nImg, sK, useGPU):
    """conv(restricted K) on a coarse image = R conv(K) P (exact, zero boundary, even sizes)."""
    K = mg.Conv2D(nImg, sK, useGPU=useGPU)
    th = K.initTheta(rng=0)
    Kc = K.coarsen()
    assert Kc.nImg == (nImg[0] // 2, nImg[1] // 2) and Kc.sK == sK
    thc = K.restrictConvStencils(th)
    Yc = randn((2,) + Kc.sizeFeatIn(), useGPU, rng=1)
    lhs = mg.toHost(Kc.Amv(thc, Yc))
    rhs = restrict(mg.toHost(K.Amv(th, K.asArray(prolong(mg.toHost(Yc))))))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-13)
    # prolongation inverts the restriction
    Kf = K.refine()
    assert Kf.nImg == (2 * nImg[0], 2 * nImg[1])
    np.testing.assert_allclose(mg.toHost(K.restrictConvStencils(K.prolongateConvStencils(th))),
                               mg.toHost(th), atol=1e-12)
    np.testing.assert_allclose(mg.toHost(K.prolongateConvStencils(K.restrictConvStencils(th))),
                               mg.toHost(th), atol=1e-12)


def test_conv2d_restrict_special_cases(rng):
    K1 = mg.Conv2D((4, 4), (1, 1, 2, 3))
    th = K1.initTheta(rng=rng)
    assert K1.restrictConvStencils(th) is th and K1.prolongateConvStencils(th) is th
    K1Q = mg.Conv2D((4, 4), (1, 1, 2, 3), Q=rng.standard_normal((6, 2)))
    th = K1Q.initTheta(rng=rng)
    assert K1Q.restrictConvStencils(th) is th
    with pytest.raises(NotImplementedError, match=r"only 1 x 1 and 3 x 3 stencils .*got sK=\(5, 5, 1, 1\)"):
        mg.Conv2D((4, 4), (5, 5, 1, 1)).restrictConvStencils(np.zeros(25))
    with pytest.raises(NotImplementedError, match="needs Q=None"):
        mg.Conv2D((4, 4), (3, 3, 1, 1), Q=np.eye(9)).prolongateConvStencils(np.zeros(9))
    with pytest.raises(NotImplementedError, match="only stride 1"):
        mg.Conv2D((4, 4), (3, 3, 1, 1), stride=2).restrictConvStencils(np.zeros(9))
    with pytest.raises(ValueError, match=r"nImg must be even to halve it; got nImg=\(5, 4\)"):
        mg.Conv2D((5, 4), (3, 3, 1, 1)).coarsen()
    with pytest.raises(ValueError, match="thetaFromStencils: K must have shape"):
        mg.Conv2D((4, 4), (3, 3, 1, 1)).thetaFromStencils(np.zeros((3, 3, 1, 2)))
    with pytest.raises(NotImplementedError, match="not defined for a general parameterisation Q"):
        mg.Conv2D((4, 4), (3, 3, 1, 1), Q=np.eye(9)).thetaFromStencils(np.zeros((3, 3, 1, 1)))
