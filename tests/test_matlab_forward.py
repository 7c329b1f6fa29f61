"""Weights and features in Meganet.m's layout give the same outputs here, after conversion.

Each reference evaluates an element the way Meganet.m defines it, on MATLAB-ordered
arrays (images ``H x W x C x N``, kernels ``reshape(theta, sK)`` column-major, matrices
on column-major flattened features), with explicit loops and Fortran-order reshapes; the
element here gets the converted weights and features, and its output, converted back,
must agree to 1e-12 relative in float64.
"""
import numpy as np
import pytest

import meganet as mg
from meganet.backend import toHost
from meganet.kernels.pdeStencilKernel import pdeStencilBasis

H, W = 4, 5
RTOL = 1e-12


def F(a, shape):
    return np.reshape(a, shape, order="F")


def flat(A4):
    """MATLAB's reshape(Y, [], nEx) of an H x W x C x N array."""
    return F(A4, (-1, A4.shape[-1]))


def shift(Y, da, db, periodic):
    """Ys(i, j, ...) = Y(i + da, j + db, ...) (zero outside, or periodic)."""
    if periodic:
        return np.roll(Y, (-da, -db), axis=(0, 1))
    out = np.zeros_like(Y)
    h, w = Y.shape[:2]
    out[max(0, -da):h - max(0, da), max(0, -db):w - max(0, db)] = \
        Y[max(0, da):h - max(0, -da), max(0, db):w - max(0, -db)]
    return out


def convM(Km, Y, periodic=False, adjoint=False):
    """Meganet.m's convolution (cross-correlation, centred stencils; Km is k1 x k2 x cin x
    cout) of Y (H x W x cin x N), or with ``adjoint`` its adjoint applied to Y (H x W x cout x N)."""
    k1, k2 = Km.shape[:2]
    Z = np.zeros(Y.shape[:2] + (Km.shape[2 if adjoint else 3], Y.shape[3]))
    for a in range(k1):
        for b in range(k2):
            da, db = a - (k1 - 1) // 2, b - (k2 - 1) // 2
            if adjoint:
                Z += shift(np.einsum("ijon,co->ijcn", Y, Km[a, b]), -da, -db, periodic)
            else:
                Z += np.einsum("ijcn,co->ijon", shift(Y, da, db, periodic), Km[a, b])
    return Z


def convMT(Km, Z, periodic=False):
    return convM(Km, Z, periodic, adjoint=True)


def ours(el, theta_m, Y_m, sizeFeat=None, useGPU=False):
    """Output of ``el`` on MATLAB-ordered weights and features, in MATLAB's order (nFeat x N)."""
    theta = mg.thetaFromMatlab(el, theta_m)
    Y = el.asArray(mg.featuresFromMatlab(Y_m, sizeFeat or el.sizeFeatIn()))
    Z, _ = el.forwardProp(theta, Y)
    return toHost(mg.featuresToMatlab(Z))


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * np.abs(b).max())


@pytest.fixture
def r():
    return np.random.default_rng(7)


def test_dense(r, useGPU):
    K = mg.Dense((3, 4), useGPU=useGPU)
    th, Y = r.standard_normal(12), r.standard_normal((4, 6))
    close(ours(K, th, Y), F(th, (3, 4)) @ Y)


@pytest.mark.parametrize("cls,periodic", [(mg.Conv2D, False), (mg.ConvFFT, True)])
def test_conv(cls, periodic, r, useGPU):
    sK = (3, 3, 2, 3)
    K = cls((H, W), sK, useGPU=useGPU)
    th, Y4 = r.standard_normal(54), r.standard_normal((H, W, 2, 3))
    close(ours(K, th, flat(Y4)), flat(convM(F(th, sK), Y4, periodic)))


def test_pde_stencil_kernel(r):
    K = mg.PDEStencilKernel((H, W), (3, 3, 2, 2))
    th, Y4 = r.standard_normal(36), r.standard_normal((H, W, 2, 3))
    beta = F(th, (9, 2, 2))                                  # coefficients, column-major
    B = pdeStencilBasis()                                    # column b: stencil of term b (C order)
    Km = np.einsum("abt,tco->abco", B.reshape(3, 3, 9), beta)
    close(ours(K, th, flat(Y4)), flat(convM(Km, Y4)))


def test_single_layer_conv_with_bias_matrix(r, useGPU):
    sK, nb = (3, 3, 2, 3), 2
    Bin_m = r.standard_normal((H * W * 3, nb))               # rows: column-major H x W x 3
    L = mg.SingleLayer(mg.Conv2D((H, W), sK, useGPU=useGPU), activation=mg.tanhActivation,
                       Bin=mg.matrixFromMatlab(Bin_m, rowSize=(H, W, 3)), useGPU=useGPU)
    th, Y4 = r.standard_normal(54 + nb), r.standard_normal((H, W, 2, 3))
    ref = np.tanh(flat(convM(F(th[:54], sK), Y4)) + (Bin_m @ th[54:])[:, None])
    close(ours(L, th, flat(Y4)), ref)


def test_double_sym_layer_antisym_dense(r, useGPU):
    n, N = 4, 5
    Bin_m, Bout_m = r.standard_normal((n, 2)), r.standard_normal((n, 1))
    L = mg.DoubleSymLayer(mg.getDenseAntiSym(n, useGPU=useGPU), activation=mg.tanhActivation,
                          Bin=Bin_m, Bout=Bout_m, useGPU=useGPU)
    assert L.nThetaMatlab() == n * (n - 1) + 3 and L.nTheta() == n * n + 3
    th, Y = r.standard_normal(n * (n - 1) + 3), r.standard_normal((n, N))
    # getDenseAntiSym: K(i, j) = A(i, j) - A(j, i) - 1e-4 delta_ij, A's off-diagonal entries
    # the weights in column-major order
    A = np.zeros((n, n))
    k = 0
    for j in range(n):
        for i in range(n):
            if i != j:
                A[i, j] = th[k]
                k += 1
    K = A - A.T - 1e-4 * np.eye(n)
    ref = -K.T @ np.tanh(K @ Y + (Bin_m @ th[-3:-1])[:, None]) + Bout_m @ th[-1:, None]
    close(ours(L, th, Y), ref)


def test_double_sym_layer_conv_channel_bias(r, useGPU):
    sK = (3, 3, 2, 2)
    L = mg.DoubleSymLayer(mg.Conv2D((H, W), sK, useGPU=useGPU), activation=mg.tanhActivation,
                          Bin=mg.opCNNBias((H, W, 2)), useGPU=useGPU)
    th, Y4 = r.standard_normal(36 + 2), r.standard_normal((H, W, 2, 3))
    Km = F(th[:36], sK)
    ref = -convMT(Km, np.tanh(convM(Km, Y4) + th[36:][None, None, :, None]))
    close(ours(L, th, flat(Y4)), flat(ref))


def test_affine_scaling_layer_on_images(r, useGPU):
    L = mg.AffineScalingLayer((H, W, 2), useGPU=useGPU)
    n1 = H * W
    th, Y4 = r.standard_normal(2 * n1 + 4), r.standard_normal((H, W, 2, 3))
    s1, b1, s2, b2 = th[:n1], th[n1:2 * n1], th[2 * n1:2 * n1 + 2], th[2 * n1 + 2:]
    Y3 = F(Y4, (n1, 2, 3))                       # Meganet.m's [nPixels nChannels nEx] view
    ref = s1[:, None, None] * Y3 * s2[None, :, None] + b1[:, None, None] + b2[None, :, None]
    close(ours(L, th, flat(Y4)), F(ref, (-1, 3)))


def test_connector_matrix_on_image_features(r, useGPU):
    sIn, sOut = (H, W, 2), (2, 2, 3)
    K_m, b_m = r.standard_normal((12, H * W * 2)), r.standard_normal((12, 1))
    C = mg.Connector(mg.matrixFromMatlab(K_m, rowSize=sOut, colSize=sIn),
                     b=mg.featuresFromMatlab(b_m, sOut)[0], sizeFeatIn=sIn, sizeFeatOut=sOut,
                     useGPU=useGPU)
    Y4 = r.standard_normal((H, W, 2, 3))
    close(ours(C, np.zeros(0), flat(Y4)), K_m @ flat(Y4) + b_m)


def test_reshape_then_dense(r, useGPU):
    """Meganet.m's reshapeLayer reshapes column-major; a dense layer after it takes the
    converted weights unchanged."""
    net = mg.NN([mg.ReshapeLayer((H, W, 2), (H * W * 2,), useGPU=useGPU),
                 mg.SingleLayer(mg.Dense((3, H * W * 2), useGPU=useGPU),
                                activation=mg.identityActivation, useGPU=useGPU)])
    th, Y4 = r.standard_normal(3 * H * W * 2), r.standard_normal((H, W, 2, 3))
    close(ours(net, th, flat(Y4)), F(th, (3, H * W * 2)) @ flat(Y4))


def _avgPool(sIn):
    """2 x 2 average pooling as a matrix on column-major flattened H x W x C features."""
    h, w, c = sIn
    P = np.zeros((h // 2 * w // 2 * c, h * w * c))
    for ch in range(c):
        for i in range(h // 2):
            for j in range(w // 2):
                row = i + (h // 2) * j + (h // 2) * (w // 2) * ch
                for a in range(2):
                    for b in range(2):
                        P[row, (2 * i + a) + h * (2 * j + b) + h * w * ch] = 0.25
    return P


def test_whole_network_and_loss(r, useGPU):
    """ResNN of a DoubleSymLayer, average pooling (a connector matrix), a reshape, a dense
    layer, and the softmax loss: Meganet.m's weights and data give the same loss and the
    same class probabilities."""
    h, w, c, N, nc, nt, hstep = 4, 4, 2, 5, 3, 2, 0.1
    sK = (3, 3, c, c)
    layer = mg.DoubleSymLayer(mg.Conv2D((h, w), sK, useGPU=useGPU), activation=mg.tanhActivation,
                              Bin=mg.opCNNBias((h, w, c)), useGPU=useGPU)
    P_m = _avgPool((h, w, c))
    nOut = (h // 2) * (w // 2) * c
    net = mg.Meganet([mg.ResNN(layer, nt, hstep),
                      mg.Connector(mg.matrixFromMatlab(P_m, rowSize=(h // 2, w // 2, c),
                                                       colSize=(h, w, c)),
                                   sizeFeatIn=(h, w, c), sizeFeatOut=(h // 2, w // 2, c),
                                   useGPU=useGPU),
                      mg.NN([mg.ReshapeLayer((h // 2, w // 2, c), (nOut,), useGPU=useGPU),
                             mg.SingleLayer(mg.Dense((6, nOut), useGPU=useGPU),
                                            Bin=np.ones((6, 1)), useGPU=useGPU)])])
    nStep = 36 + c
    th = r.standard_normal(nt * nStep + 6 * nOut + 1) * 0.5
    Y4 = r.standard_normal((h, w, c, N))
    # Meganet.m
    Y = Y4.copy()
    for k in range(nt):
        t = th[k * nStep:(k + 1) * nStep]
        Km = F(t[:36], sK)
        Y = Y + hstep * -convMT(Km, np.tanh(convM(Km, Y) + t[36:][None, None, :, None]))
    Z = P_m @ flat(Y)
    t = th[nt * nStep:]
    Z = np.tanh(F(t[:6 * nOut], (6, nOut)) @ Z + t[-1])
    close(ours(net, th, flat(Y4), useGPU=useGPU), Z)
    # the loss on top, W in Meganet.m's layout (bias column last)
    W_m = r.standard_normal(nc * 7)
    C_m = np.eye(nc)[:, r.integers(0, nc, N)]
    S = F(W_m, (nc, 7)) @ np.vstack([Z, np.ones((1, N))])
    S = S - S.max(axis=0)
    Fref = (-(C_m * S).sum() + np.log(np.exp(S).sum(axis=0)).sum()) / N
    loss = mg.SoftmaxLoss()
    xp = net.xp
    Y0 = xp.asarray(mg.featuresFromMatlab(flat(Y4), (h, w, c)))
    Zo, _ = net.forwardProp(mg.thetaFromMatlab(net, th), Y0)
    Fo = loss.getMisfit(xp.asarray(mg.WFromMatlab(W_m, (6,))), Zo, xp.asarray(C_m.T))[0]
    np.testing.assert_allclose(float(toHost(Fo)), Fref, rtol=RTOL)


def test_gradients_convert_like_weights_and_features(r):
    """Weight gradients convert with thetaToMatlab, feature gradients with featuresToMatlab:
    directional derivatives of Meganet.m's map (finite differences of the reference) agree."""
    sK, n = (3, 3, 2, 2), 3
    net = mg.NN([mg.DoubleSymLayer(mg.Conv2D((H, W), sK), activation=mg.tanhActivation,
                                   Bin=mg.opCNNBias((H, W, 2))),
                 mg.ReshapeLayer((H, W, 2), (H * W * 2,)),
                 mg.SingleLayer(mg.Dense((n, H * W * 2)))])
    nm = net.nThetaMatlab()

    def fM(th, Y4):        # Meganet.m's map on MATLAB-ordered arrays
        Km = F(th[:36], sK)
        Y = -convMT(Km, np.tanh(convM(Km, Y4) + th[36:38][None, None, :, None]))
        return np.tanh(F(th[38:], (n, H * W * 2)) @ flat(Y))

    th_m, Y4 = r.standard_normal(nm) * 0.3, r.standard_normal((H, W, 2, 3))
    Wm = r.standard_normal((n, 3))                     # MATLAB-ordered output weights
    theta, Y = net.thetaFromMatlab(th_m), mg.featuresFromMatlab(flat(Y4), (H, W, 2))
    dth, dY = net.JTmv(mg.featuresFromMatlab(Wm, (n,)), theta, Y)
    v, V4, eps = r.standard_normal(nm), r.standard_normal(Y4.shape), 1e-6
    fd = np.sum(Wm * (fM(th_m + eps * v, Y4) - fM(th_m - eps * v, Y4))) / (2 * eps)
    np.testing.assert_allclose(mg.thetaToMatlab(net, dth) @ v, fd, rtol=1e-7)
    fd = np.sum(Wm * (fM(th_m, Y4 + eps * V4) - fM(th_m, Y4 - eps * V4))) / (2 * eps)
    np.testing.assert_allclose(np.sum(mg.featuresToMatlab(dY) * flat(V4)), fd, rtol=1e-7)
