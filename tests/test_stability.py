"""Stability properties of the PDE blocks (double precision).

* parabolic (ResNN + DoubleSymLayer, monotone activation): forward Euler with
  ``h <= 2 / (||K_j||^2 max sigma')`` does not amplify differences of inputs (Theorem 1);
* hyperbolic blocks run backwards (``inverse``) reconstruct their inputs;
* linear leapfrog (time-constant K, identity activation) conserves the discrete energy
  ``E_{j+1/2} = ||(Y_{j+1} - Y_j)/h||^2 + <K Y_{j+1}, K Y_j>`` (derivation in docs/integrators.md).
"""
import numpy as np
import pytest

import meganet as mg


def _opNorm(K, th, shape, iters=200, seed=0):
    """Spectral norm of the kernel K(th) by power iteration on K^T K."""
    x = np.random.default_rng(seed).standard_normal((1,) + tuple(shape))
    for _ in range(iters):
        x = K.ATmv(th, K.Amv(th, x))
        x /= np.linalg.norm(x)
    return np.sqrt(np.linalg.norm(K.ATmv(th, K.Amv(th, x))))


def _parabolicBlock(kind, act, nt, rng):
    if kind == "dense":
        K = mg.Dense((6, 4))
        layer = mg.DoubleSymLayer(K, activation=act, Bin=np.ones((6, 1)))
    else:
        K = mg.Conv2D((4, 6), (3, 3, 2, 3))
        layer = mg.DoubleSymLayer(K, activation=act, Bin=mg.opCNNBias((4, 6, 3)))
    net = mg.ResNN(layer, nt, 1.0)
    th = rng.standard_normal(net.nTheta())
    norms = [_opNorm(K, layer.split(t)[0], K.sizeFeatIn()) for t in net.split(th)]
    return net, th, max(norms)


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("act", [mg.reluActivation, mg.tanhActivation], ids=["relu", "tanh"])
def test_parabolic_block_does_not_amplify_differences(kind, act, rng):
    nt = 12
    net, th, normK = _parabolicBlock(kind, act, nt, rng)
    net.h = 1.9 / normK ** 2  # max sigma' = 1 for relu and tanh
    shape = (20,) + net.sizeFeatIn()
    Y = 3 * rng.standard_normal(shape)
    for scale in (1e-3, 1.0, 10.0):
        Ye = Y + scale * rng.standard_normal(shape)
        Z, Ze = net.forwardProp(th, Y)[0], net.forwardProp(th, Ye)[0]
        dIn = np.linalg.norm((Y - Ye).reshape(20, -1), axis=1)
        dOut = np.linalg.norm((Z - Ze).reshape(20, -1), axis=1)
        assert np.all(dOut <= dIn * (1 + 1e-12)), (dOut / dIn).max()
        assert (dOut / dIn).min() < 1  # the dynamics do contract


def test_parabolic_bound_needs_the_step_size_limit(rng):
    """The same linear block with h beyond 2/||K||^2 amplifies the top singular direction."""
    K = mg.Dense((4, 4))
    layer = mg.DoubleSymLayer(K, activation=mg.identityActivation)
    thK = rng.standard_normal(16)
    normK = np.linalg.norm(thK.reshape(4, 4), 2)
    v = np.linalg.svd(thK.reshape(4, 4))[2][0][None, :]  # top right singular vector
    for h, amplifies in ((1.9 / normK ** 2, False), (2.2 / normK ** 2, True)):
        net = mg.ResNN(layer, 10, h)
        Z = net.forwardProp(np.tile(thK, 10), v)[0]
        assert (np.linalg.norm(Z) > np.linalg.norm(v)) == amplifies


@pytest.mark.parametrize("nt", [8, 32])
def test_hamiltonian_blocks_reconstruct_inputs(nt, rng):
    # HamiltonianNN (dense, bias)
    n = 5
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((n, n)), np.ones((n, 1)), nt, 4.0 / nt)
    th = net.initTheta(rng=1) + 0.1 * rng.standard_normal(net.nTheta())
    Y0 = rng.standard_normal((6, n))
    YN, (_, ZN) = net.forwardProp(th, Y0)
    Yb, Zb = net.inverse(th, YN, ZN)
    assert np.linalg.norm(Yb - Y0) / np.linalg.norm(Y0) < 1e-10
    assert np.linalg.norm(Zb) / np.linalg.norm(ZN) < 1e-10
    # DoubleHamiltonianNN (conv, TV normalization)
    nImg, c = (4, 6), 2

    def layer():
        return mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, c, c)), activation=mg.reluActivation,
                                 normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True))

    net = mg.DoubleHamiltonianNN(layer(), layer(), nt, 4.0 / nt)
    th = net.initTheta(rng=2) + 0.1 * rng.standard_normal(net.nTheta())
    X0 = rng.standard_normal((3,) + net.sizeFeatIn())
    XN = net.forwardProp(th, X0)[0]
    assert np.linalg.norm(XN - X0) > 0.1 * np.linalg.norm(X0)  # the block does move the features
    assert np.linalg.norm(net.inverse(th, XN) - X0) / np.linalg.norm(X0) < 1e-10


@pytest.mark.parametrize("nt", [8, 32])
def test_leapfrog_reconstructs_input(nt, rng):
    K = mg.Conv2D((4, 6), (3, 3, 3, 3))
    layer = mg.DoubleSymLayer(K, activation=mg.tanhActivation, Bin=mg.opCNNBias((4, 6, 3)))
    net = mg.LeapFrogNN(layer, nt, 2.0 / nt)
    th = net.initTheta(rng=3) + 0.1 * rng.standard_normal(net.nTheta())
    Y0 = rng.standard_normal((3,) + net.sizeFeatIn())
    YN, tmp = net.forwardProp(th, Y0)
    assert np.linalg.norm(YN - Y0) > 0.1 * np.linalg.norm(Y0)
    assert np.linalg.norm(net.inverse(th, *tmp) - Y0) / np.linalg.norm(Y0) < 1e-10


def test_parabolic_block_is_not_reversible_by_the_hyperbolic_rule(rng):
    """Contrast: undoing forward Euler by a backward Euler step loses the input (not a reversible scheme)."""
    layer = mg.DoubleSymLayer(mg.Dense((4, 4)), activation=mg.tanhActivation)
    net = mg.ResNN(layer, 16, 0.25)
    th = net.initTheta(rng=0)
    Y0 = rng.standard_normal((3, 4))
    Y = net.forwardProp(th, Y0)[0]
    for t in reversed(net.split(th)):
        Y = Y - 0.25 * layer.forwardProp(t, Y)[0]
    assert np.linalg.norm(Y - Y0) / np.linalg.norm(Y0) > 1e-6


def _leapfrogStates(layer, thK, h, N, Y0):
    """Y_0 .. Y_N of the leapfrog block with one time coefficient (time-constant weights)."""
    states = [Y0]
    for j in range(1, N + 1):
        net = mg.LeapFrogNN(layer, j, h, A=np.ones((1, j)))
        YN, (_, YNm1) = net.forwardProp(thK, Y0)
        np.testing.assert_allclose(YNm1, states[-1], rtol=1e-12, atol=1e-14)
        states.append(YN)
    return states


@pytest.mark.parametrize("kernel", ["dense", "conv"])
def test_linear_leapfrog_conserves_discrete_energy(kernel, rng):
    if kernel == "dense":
        K = mg.Dense((5, 4))
        Y0 = rng.standard_normal((3, 4))
    else:
        K = mg.Conv2D((4, 4), (3, 3, 2, 2))
        Y0 = rng.standard_normal((3, 4, 4, 2))
    layer = mg.DoubleSymLayer(K, activation=mg.identityActivation)   # F(Y) = -K^T K Y
    thK = rng.standard_normal(K.nTheta())
    normK = _opNorm(K, thK, K.sizeFeatIn())
    h = 1.5 / normK                       # leapfrog stable for h ||K|| < 2
    N = 40
    Ys = _leapfrogStates(layer, thK, h, N, Y0)
    KY = [K.Amv(thK, Y) for Y in Ys]
    # E_{j+1/2} for j = -1 .. N-1 (Y_{-1} = Y_0)
    E = [np.sum(KY[0] * KY[0])]
    E += [np.sum(((Ys[j + 1] - Ys[j]) / h) ** 2) + np.sum(KY[j + 1] * KY[j]) for j in range(N)]
    E = np.array(E)
    assert np.max(np.abs(E - E[0])) / E[0] < 1e-12
    # the states do oscillate, and the continuous energy is only conserved up to O(h^2)
    assert np.linalg.norm(Ys[N] - Y0) > 0.1 * np.linalg.norm(Y0)
    Ec = np.array([np.sum(((Ys[j + 1] - Ys[j]) / h) ** 2) + 0.5 * np.sum(KY[j + 1] ** 2 + KY[j] ** 2)
                   for j in range(N)])
    assert np.max(np.abs(Ec - E[0])) / E[0] > 1e-4
