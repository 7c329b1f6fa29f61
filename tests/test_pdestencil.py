"""PDEStencilKernel: 3 x 3 convolutions parameterised by finite-difference operators."""
import numpy as np
import pytest

import meganet as mg
from meganet.kernels.pdeStencilKernel import PDE_TERMS, pdeStencilBasis
from helpers import assertElementDerivatives, randn
from test_conv2d import prolong, restrict


def test_basis_stencils_and_invertibility():
    h = 0.25
    B = pdeStencilBasis(h)
    S = {name: B[:, k].reshape(3, 3) for k, name in enumerate(PDE_TERMS)}
    e = np.zeros((3, 3))
    e[1, 1] = 1
    np.testing.assert_allclose(S["reaction"], e)
    np.testing.assert_allclose(S["dx"], [[0, -2, 0], [0, 0, 0], [0, 2, 0]])          # 1 / (2 h) = 2
    np.testing.assert_allclose(S["dy"], [[0, 0, 0], [-2, 0, 2], [0, 0, 0]])
    np.testing.assert_allclose(S["dxx"], [[0, 16, 0], [0, -32, 0], [0, 16, 0]])      # 1 / h^2 = 16
    np.testing.assert_allclose(S["dyy"], [[0, 0, 0], [16, -32, 16], [0, 0, 0]])
    np.testing.assert_allclose(S["dxy"], [[4, 0, -4], [0, 0, 0], [-4, 0, 4]])
    np.testing.assert_allclose(S["dxxy"], np.outer([16, -32, 16], [-2, 0, 2]))
    np.testing.assert_allclose(S["dxyy"], np.outer([-2, 0, 2], [16, -32, 16]))
    np.testing.assert_allclose(S["dxxyy"], np.outer([16, -32, 16], [16, -32, 16]))
    for hh in (1.0, 0.1, 3.0):
        Bh = pdeStencilBasis(hh)
        assert np.linalg.matrix_rank(Bh) == 9
        np.testing.assert_allclose(np.linalg.inv(Bh) @ Bh, np.eye(9), atol=1e-10)
    with pytest.raises(ValueError, match="h must be positive"):
        pdeStencilBasis(0.0)


def gridFunction(n, periodic):
    """f = sin(2 pi x) cos(2 pi y) at cell centres of [0, 1]^2, its Laplacian and d/dx."""
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    X, Yg = np.meshgrid(x, x, indexing="ij")       # x along the first image axis
    f = np.sin(2 * np.pi * X) * np.cos(2 * np.pi * Yg)
    lap = -8 * np.pi ** 2 * f
    fx = 2 * np.pi * np.cos(2 * np.pi * X) * np.cos(2 * np.pi * Yg)
    return h, f[None, :, :, None], lap, fx


@pytest.mark.parametrize("boundary", ["zero", "periodic"])
def test_laplacian_and_gradient_are_second_order(boundary):
    errs = {"dxx+dyy": [], "dx": []}
    for n in (16, 32, 64):
        h, f, lap, fx = gridFunction(n, boundary == "periodic")
        K = mg.PDEStencilKernel((n, n), (3, 3, 1, 1), h=h, boundary=boundary)
        inner = (slice(1, -1), slice(1, -1)) if boundary == "zero" else (slice(None), slice(None))
        for terms, ref in (("dxx+dyy", lap), ("dx", fx)):
            beta = np.zeros(9)
            for t in terms.split("+"):
                beta[PDE_TERMS.index(t)] = 1.0
            Z = K.Amv(beta, f)[0, :, :, 0]
            errs[terms].append(np.abs(Z - ref)[inner].max() / np.abs(ref).max())
        if n == 16:
            lapStencil = mg.toHost(K.getStencils(np.eye(9)[PDE_TERMS.index("dxx")]
                                                 + np.eye(9)[PDE_TERMS.index("dyy")]))[:, :, 0, 0]
            np.testing.assert_allclose(lapStencil * h ** 2, [[0, 1, 0], [1, -4, 1], [0, 1, 0]], atol=1e-12)
    for e in errs.values():
        e = np.array(e)
        assert e[-1] < 5e-3
        np.testing.assert_allclose(e[:-1] / e[1:], 4.0, rtol=0.1)   # O(h^2)


@pytest.mark.parametrize("boundary,base", [("zero", mg.Conv2D), ("periodic", mg.ConvFFT)])
def test_pde_kernel_is_conv_of_its_stencils(boundary, base, useGPU):
    K = mg.PDEStencilKernel((6, 5), (3, 3, 2, 4), h=0.5, boundary=boundary, useGPU=useGPU)
    assert K.nTheta() == 72 and K.sizeFeatIn() == (6, 5, 2) and K.sizeFeatOut() == (6, 5, 4)
    th = randn((72,), useGPU, rng=0)
    st = K.getStencils(th)
    assert st.shape == (3, 3, 2, 4)
    B = pdeStencilBasis(0.5)
    np.testing.assert_allclose(mg.toHost(st), (B @ mg.toHost(th).reshape(9, 8)).reshape(3, 3, 2, 4),
                               atol=1e-13)
    C = base((6, 5), (3, 3, 2, 4), useGPU=useGPU)
    Y = randn((3, 6, 5, 2), useGPU, rng=1)
    np.testing.assert_allclose(mg.toHost(K.Amv(th, Y)), mg.toHost(C.Amv(st.reshape(-1), Y)), atol=1e-12)
    coef = K.getPDECoefficients(th)
    assert tuple(coef) == PDE_TERMS
    for k, name in enumerate(PDE_TERMS):
        np.testing.assert_array_equal(mg.toHost(coef[name]), mg.toHost(th).reshape(9, 2, 4)[k])
    # roundtrips stencils -> coefficients -> stencils and back
    Kr = randn((3, 3, 2, 4), useGPU, rng=2)
    np.testing.assert_allclose(mg.toHost(K.getStencils(K.thetaFromStencils(Kr))), mg.toHost(Kr), atol=1e-12)
    np.testing.assert_allclose(mg.toHost(K.thetaFromStencils(st)), mg.toHost(th), atol=1e-12)


@pytest.mark.parametrize("boundary,stride", [("zero", 1), ("periodic", 1), ("zero", 2)])
def test_pde_kernel_derivatives(boundary, stride, useGPU):
    K = mg.PDEStencilKernel((5, 6), (3, 3, 2, 3), h=0.5, boundary=boundary, stride=stride,
                            useGPU=useGPU)
    assertElementDerivatives(K, nEx=3)
    assertElementDerivatives(K, nEx=1)
    ok, err = mg.checkAdjoint(K.getOp(K.initTheta(rng=0)), rng=1, tol=1e-13)
    assert ok, err


def test_pde_kernel_initTheta(useGPU):
    K = mg.PDEStencilKernel((6, 6), (3, 3, 4, 8), h=0.1, useGPU=useGPU)
    th = K.initTheta(rng=0)
    assert th.shape == (288,) and isinstance(th, K.xp.ndarray)
    st = mg.toHost(K.getStencils(th))
    sd = np.sqrt(2 / (3 * 4))
    assert np.abs(st).max() <= 2 * sd + 1e-12 and 0.7 * sd < st.std() < sd


def test_pde_kernel_single_precision(useGPU):
    K = mg.PDEStencilKernel((6, 5), (3, 3, 2, 3), boundary="periodic", useGPU=useGPU, precision="single")
    th = K.initTheta(rng=0)
    Y = randn((2, 6, 5, 2), useGPU, "single", rng=1)
    Z = K.Amv(th, Y)
    assert th.dtype == Z.dtype == K.JthetaTmv(Z, th, Y).dtype == np.float32
    assert mg.checkAdjoint(K.getOp(th), rng=0)[0]


@pytest.mark.parametrize("boundary", ["zero", "periodic"])
def test_pde_kernel_restrict(boundary, useGPU):
    K = mg.PDEStencilKernel((8, 6), (3, 3, 2, 2), h=0.25, boundary=boundary, useGPU=useGPU)
    th = K.initTheta(rng=0)
    Kc = K.coarsen()
    assert Kc.nImg == (4, 3) and Kc.h == 0.5 and Kc.boundary == boundary
    thc = K.restrictConvStencils(th)
    Yc = randn((2, 4, 3, 2), useGPU, rng=1)
    rhs = restrict(mg.toHost(K.Amv(th, K.asArray(prolong(mg.toHost(Yc))))))
    np.testing.assert_allclose(mg.toHost(Kc.Amv(thc, Yc)), rhs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mg.toHost(Kc.refine().restrictConvStencils(K.prolongateConvStencils(th))),
                               mg.toHost(th), atol=1e-10)
    assert K.refine().h == 0.125
    # the Galerkin operator of d2/dx2 on the fine mesh is 2 d2/dx2 on the coarse mesh
    beta = np.zeros((9, 2, 2))
    beta[PDE_TERMS.index("dxx")] = 1.0
    coef = Kc.getPDECoefficients(K.restrictConvStencils(K.asArray(beta.ravel())))
    for name in PDE_TERMS:
        np.testing.assert_allclose(mg.toHost(coef[name]), 2.0 if name == "dxx" else 0.0, atol=1e-12)


def test_pde_kernel_bad_input():
    with pytest.raises(ValueError, match=r"PDEStencilKernel: sK must be \(3, 3, cin, cout\); "
                                         r"got \(5, 5, 1, 1\)"):
        mg.PDEStencilKernel((6, 6), (5, 5, 1, 1))
    with pytest.raises(ValueError, match="boundary must be 'zero' or 'periodic'; got 'neumann'"):
        mg.PDEStencilKernel((6, 6), (3, 3, 1, 1), boundary="neumann")
    with pytest.raises(ValueError, match="h must be a positive number; got -1"):
        mg.PDEStencilKernel((6, 6), (3, 3, 1, 1), h=-1)
    with pytest.raises(ValueError, match=r"PDEStencilKernel: stride must be one of \(1,\); got 2"):
        mg.PDEStencilKernel((6, 6), (3, 3, 1, 1), boundary="periodic", stride=2)
    K = mg.PDEStencilKernel((6, 6), (3, 3, 1, 2))
    with pytest.raises(ValueError, match="getPDECoefficients: theta must be a flat 1-D array "
                                         "of length nTheta=18"):
        K.getPDECoefficients(np.zeros(9))
    with pytest.raises(ValueError, match=r"thetaFromStencils: K must have shape sK=\(3, 3, 1, 2\)"):
        K.thetaFromStencils(np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"Y must have shape \(N,\) \+ sizeFeatIn\(\) = \(1, 6, 6, 1\)"):
        K.Amv(K.initTheta(rng=0), np.zeros((1, 6, 6, 2)))
