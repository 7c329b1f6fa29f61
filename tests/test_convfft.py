"""ConvFFT: periodic convolution by FFTs, its agreement with Conv2D, and periodic Galerkin coarsening."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives, randn
from test_conv2d import prolong, refCorr, refStencilGrad, restrict

CONFIGS = [  # (nImg, sK)
    ((5, 7), (3, 3, 2, 4)),
    ((6, 5), (5, 3, 3, 2)),
    ((4, 6), (1, 1, 3, 2)),
    ((5, 5), (5, 5, 1, 1)),
    ((7, 4), (3, 3, 3, 3)),
    ((8, 6), (3, 5, 2, 1)),
]


@pytest.mark.parametrize("nImg,sK", CONFIGS)
def test_convfft_matches_periodic_loops(nImg, sK, useGPU):
    K = mg.ConvFFT(nImg, sK, useGPU=useGPU)
    th = K.initTheta(rng=1)
    Kh = mg.toHost(th).reshape(sK)
    for N in (1, 3):
        Y = randn((N,) + K.sizeFeatIn(), useGPU, rng=N)
        Z = K.Amv(th, Y)
        assert Z.shape == (N,) + tuple(nImg) + (sK[3],)
        np.testing.assert_allclose(mg.toHost(Z), refCorr(mg.toHost(Y), Kh, periodic=True),
                                   rtol=1e-12, atol=1e-12)
        Wz = randn(Z.shape, useGPU, rng=10 + N)
        G = refStencilGrad(mg.toHost(Wz), mg.toHost(Y), sK, periodic=True)
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y, reduceDim=False)),
                                   G.reshape(N, -1), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(mg.toHost(K.JthetaTmv(Wz, th, Y)), G.sum(0).ravel(),
                                   rtol=1e-11, atol=1e-12)
        Kflip = Kh[::-1, ::-1].transpose(0, 1, 3, 2)
        np.testing.assert_allclose(mg.toHost(K.ATmv(th, Wz)),
                                   refCorr(mg.toHost(Wz), Kflip, periodic=True), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nImg,sK", CONFIGS)
def test_convfft_equals_conv2d_in_interior(nImg, sK, rng):
    Kf = mg.ConvFFT(nImg, sK)
    Kz = mg.Conv2D(nImg, sK)
    th = Kf.initTheta(rng=rng)
    Y = rng.standard_normal((2,) + Kf.sizeFeatIn())
    p1, p2 = (sK[0] - 1) // 2, (sK[1] - 1) // 2
    inner = (slice(None), slice(p1, nImg[0] - p1), slice(p2, nImg[1] - p2))
    Zf, Zz = Kf.Amv(th, Y), Kz.Amv(th, Y)
    np.testing.assert_allclose(Zf[inner], Zz[inner], rtol=1e-12, atol=1e-12)
    if p1 or p2:  # the boundary does differ (periodic vs zero)
        assert np.abs(Zf - Zz).max() > 1e-3


@pytest.mark.parametrize("nImg,sK", CONFIGS)
def test_convfft_derivatives(nImg, sK, useGPU):
    K = mg.ConvFFT(nImg, sK, useGPU=useGPU)
    assertElementDerivatives(K, nEx=3)
    assertElementDerivatives(K, nEx=1)
    th = K.initTheta(rng=0)
    ok, err = mg.checkAdjoint(K.getOp(th), rng=1, tol=1e-13)
    assert ok, err


def test_convfft_with_Q(useGPU, rng):
    Q = rng.standard_normal((90, 8))
    K = mg.ConvFFT((14, 24), (3, 3, 2, 5), Q=Q, useGPU=useGPU)
    assert K.nTheta() == 8
    th = K.initTheta(rng=0)
    Y = randn((2, 14, 24, 2), useGPU, rng=1)
    np.testing.assert_allclose(mg.toHost(K.Amv(th, Y)),
                               refCorr(mg.toHost(Y), (Q @ mg.toHost(th)).reshape(3, 3, 2, 5), periodic=True),
                               atol=1e-12)
    assertElementDerivatives(K, nEx=2)


def test_convfft_single_precision(useGPU):
    K = mg.ConvFFT((14, 24), (3, 3, 2, 5), useGPU=useGPU, precision="single")
    th = K.initTheta(rng=0)
    assert th.dtype == np.float32
    Y = randn((3, 14, 24, 2), useGPU, "single", rng=1)
    Wz = randn((3, 14, 24, 5), useGPU, "single", rng=2)
    Z = K.Amv(th, Y)
    assert Z.dtype == np.float32 and K.ATmv(th, Wz).dtype == np.float32
    assert K.JthetaTmv(Wz, th, Y).dtype == np.float32
    assert K.JthetaTmv(Wz, th, Y, reduceDim=False).dtype == np.float32
    Zd = refCorr(mg.toHost(Y).astype(np.float64), mg.toHost(th).astype(np.float64).reshape(K.sK),
                 periodic=True)
    np.testing.assert_allclose(mg.toHost(Z), Zd, rtol=1e-5, atol=1e-5)
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]
    assert mg.checkAdjoint(K.getJthetaOp(th, Y), rng=0)[0]


def test_convfft_backend_switch(device):
    K = mg.ConvFFT((6, 4), (3, 3, 2, 3))
    # data exactly representable in single precision
    th = K.initTheta(rng=0).astype(np.float32).astype(np.float64)
    Y = np.random.default_rng(1).standard_normal((2, 6, 4, 2)).astype(np.float32).astype(np.float64)
    Z = K.Amv(th, Y)
    K.useGPU = True
    K.precision = "single"
    Zs = K.Amv(K.asArray(th), K.asArray(Y))
    assert Zs.dtype == np.float32 and mg.backend.isDeviceArray(Zs)
    np.testing.assert_allclose(mg.toHost(Zs), Z, rtol=1e-5, atol=1e-5)
    K.precision = "double"   # back to double: the precomputed spectra must be exact again
    np.testing.assert_allclose(mg.toHost(K.Amv(K.asArray(th), K.asArray(Y))), Z, rtol=1e-13, atol=1e-13)


def test_convfft_bad_input(useGPU):
    K = mg.ConvFFT((5, 6), (3, 3, 2, 4), useGPU=useGPU)
    th = K.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(2, 5, 6, 2\); "
                                         r"got \(2, 5, 6, 3\)"):
        K.Amv(th, randn((2, 5, 6, 3), useGPU))
    with pytest.raises(ValueError, match=r"got \(2, 6, 6, 2\)"):
        K.forwardProp(th, randn((2, 6, 6, 2), useGPU))
    with pytest.raises(ValueError, match="theta must be a flat 1-D array of length nTheta=72"):
        K.Amv(th[1:], randn((2, 5, 6, 2), useGPU))
    with pytest.raises(ValueError, match=r"ConvFFT: stride must be one of \(1,\); got 2"):
        mg.ConvFFT((6, 6), (3, 3, 1, 1), stride=2)
    with pytest.raises(ValueError, match=r"ConvFFT: sK must be \(k1, k2, cin, cout\) with odd k1, k2"):
        mg.ConvFFT((6, 6), (3, 4, 1, 1))
    with pytest.raises(ValueError, match=r"stencil must fit into the periodic image: need k1 <= H and "
                                         r"k2 <= W; got sK=\(5, 3, 1, 1\), nImg=\(4, 6\)"):
        mg.ConvFFT((4, 6), (5, 3, 1, 1))


@pytest.mark.parametrize("nImg,sK", [((8, 6), (3, 3, 2, 3)), ((6, 12), (3, 3, 1, 2))])
def test_convfft_restrict_is_galerkin(nImg, sK, useGPU):
    """Periodic: ConvFFT on the coarse image with restricted stencils = R K P exactly."""
    K = mg.ConvFFT(nImg, sK, useGPU=useGPU)
    th = K.initTheta(rng=0)
    Kc = K.coarsen()
    assert isinstance(Kc, mg.ConvFFT) and Kc.nImg == (nImg[0] // 2, nImg[1] // 2)
    thc = K.restrictConvStencils(th)
    Yc = randn((2,) + Kc.sizeFeatIn(), useGPU, rng=1)
    lhs = mg.toHost(Kc.Amv(thc, Yc))
    rhs = restrict(mg.toHost(K.Amv(th, K.asArray(prolong(mg.toHost(Yc))))))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
    thf = K.prolongateConvStencils(th)
    np.testing.assert_allclose(mg.toHost(K.refine().restrictConvStencils(thf)), mg.toHost(th), atol=1e-12)
