import numpy as np
import pytest

import meganet as mg


def test_randomFlip(useGPU):
    Yh = np.random.default_rng(0).standard_normal((10, 3, 4, 2))
    Y = mg.asArray(Yh, useGPU=useGPU)
    Z = mg.toHost(mg.randomFlip(Y, 0.5, rng=1))
    flipped = [np.array_equal(Z[n], Yh[n, :, ::-1]) and not np.array_equal(Z[n], Yh[n]) for n in range(10)]
    kept = [np.array_equal(Z[n], Yh[n]) for n in range(10)]
    assert sum(flipped) == 5 and sum(kept) == 5
    np.testing.assert_array_equal(mg.toHost(mg.randomFlip(Y, 1.0, rng=1)), Yh[:, :, ::-1])
    np.testing.assert_array_equal(mg.toHost(Y), Yh)          # input untouched
    with pytest.raises(ValueError, match=r"perc must lie in \[0, 1\]"):
        mg.randomFlip(Y, 1.5)


def test_randomCrop(useGPU):
    Yh = np.arange(2 * 5 * 6 * 1, dtype=float).reshape(2, 5, 6, 1) + 1
    Y = mg.asArray(Yh, useGPU=useGPU)
    Z = mg.toHost(mg.randomCrop(Y, 4, rng=3))
    assert Z.shape == Yh.shape
    for n in range(2):
        pad = np.pad(Yh[n], ((2, 2), (2, 2), (0, 0)))
        hits = [(a, b) for a in range(5) for b in range(5) if np.array_equal(pad[a:a + 5, b:b + 6], Z[n])]
        assert hits, "each example must be a window of the zero-padded image"
    np.testing.assert_array_equal(mg.toHost(mg.randomCrop(Y, 0)), Yh)
    with pytest.raises(ValueError, match="non-negative even integer"):
        mg.randomCrop(Y, 3)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        mg.randomCrop(Y[0], 2)


def test_montageArray():
    A = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3) + 1
    M, mask = mg.montageArray(A, ncol=2)
    assert M.shape == (6, 6) and mask.shape == (6, 6)
    np.testing.assert_array_equal(M[0:2, 3:6], A[1])
    np.testing.assert_array_equal(M[4:6, 0:3], A[4])
    assert not mask[4:6, 3:6].any() and not M[4:6, 3:6].any()
    M3, _ = mg.montageArray(np.ones((4, 2, 2, 3)))
    assert M3.shape == (4, 4, 3)
    with pytest.raises(ValueError, match="ncol must be a positive integer"):
        mg.montageArray(A, ncol=0)
