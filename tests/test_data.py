import numpy as np
import pytest

import meganet as mg


def test_setupPeaks_shapes_labels_and_bands():
    Y, C = mg.setupPeaks(1001, 4, rng=0)
    npc = int(np.ceil(1001 / 4))
    assert Y.shape == (4 * npc, 2) and C.shape == (4 * npc, 4)
    np.testing.assert_array_equal(C.sum(axis=1), 1)
    np.testing.assert_array_equal(C.sum(axis=0), npc)
    # labels follow the height bands of the peaks surface
    x, y, z = mg.peaks(256)
    lo, hi = z.min(), z.max()

    def height(p):
        i = np.argmin(np.abs(np.linspace(-3, 3, 256) - p[1]))
        j = np.argmin(np.abs(np.linspace(-3, 3, 256) - p[0]))
        return z[i, j]
    for n in range(0, Y.shape[0], 97):
        k = C[n].argmax()
        h = height(Y[n])
        assert lo + k * (hi - lo) / 4 - 1e-9 <= h <= lo + (k + 1) * (hi - lo) / 4 + 1e-9
    Y2, _ = mg.setupPeaks(1001, 4, rng=0)
    np.testing.assert_array_equal(Y, Y2)
    with pytest.raises(ValueError, match="np and nc must be positive"):
        mg.setupPeaks(0, 3)


def test_peaks_matches_formula_at_a_point():
    x, y, z = mg.peaks(3)     # grid -3, 0, 3
    assert z[1, 1] == pytest.approx(3 * np.exp(-1) - np.exp(-1) / 3)


def test_swissroll_and_circle():
    Yt, Ct, Yv, Cv = mg.setupSwissRoll(16)
    assert Yt.shape[1] == 2 and Yt.shape[0] + Yv.shape[0] == 2 * 33
    np.testing.assert_array_equal(Ct.sum(1), 1)
    Yt, Ct, Yv, Cv = mg.setupCircle(50, 20, rng=1)
    assert Yt.shape == (100, 2) and Yv.shape == (40, 2)
    r = np.hypot(Yt[:, 0], Yt[:, 1] / 0.4)
    assert np.all(r[Ct[:, 0] == 1] <= 1 + 1e-12) and np.all(r[Ct[:, 1] == 1] >= 1 - 1e-12)


def test_normalizeData(useGPU):
    rng = np.random.default_rng(0)
    Yh = 3 + 2 * rng.standard_normal((5, 4, 4, 3))
    Yh[4] = 7.0          # a constant example is centred, not blown up
    Y = mg.asArray(Yh, useGPU=useGPU)
    Z = mg.toHost(mg.normalizeData(Y))
    X = Z.reshape(5, -1)
    np.testing.assert_allclose(X.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(X[:4].std(1, ddof=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(X[4], 0)
    with pytest.raises(ValueError, match="numelFeat=7"):
        mg.normalizeData(Y, 7)
