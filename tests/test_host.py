"""Host helpers: the GIL-releasing BLAS products (meganet.hostBlas) and retainFreedMemory."""
import subprocess
import sys
import threading

import numpy as np
import pytest

import meganet as mg
from meganet import hostBlas


def _operands(rng, m, k, n, dtype, orderA, orderB):
    A = rng.standard_normal((m, k)).astype(dtype)
    B = rng.standard_normal((k, n)).astype(dtype)
    A = np.asfortranarray(A) if orderA == "F" else A
    B = np.asfortranarray(B) if orderB == "F" else B
    return A, B


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orderA", ["C", "F"])
@pytest.mark.parametrize("orderB", ["C", "F"])
@pytest.mark.parametrize("shape", [(7, 5, 3), (1, 4, 6), (6, 4, 1), (5, 1, 5), (33, 17, 9)])
def test_gemmInto_matches_numpy(dtype, orderA, orderB, shape):
    rng = np.random.default_rng(0)
    m, k, n = shape
    A, B = _operands(rng, m, k, n, dtype, orderA, orderB)
    C0 = rng.standard_normal((m, n)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for alpha, beta in ((1.0, 0.0), (1.0, 1.0), (-1.0, 1.0), (0.5, -2.0)):
        C = C0.copy()
        out = hostBlas.gemmInto(A, B, C, beta, alpha=alpha)
        assert out is C
        ref = alpha * (A.astype(float) @ B.astype(float)) + beta * C0
        np.testing.assert_allclose(C, ref, rtol=tol, atol=tol * np.abs(ref).max())


def test_gemmInto_views_and_row_blocks():
    """Transposed views, row blocks of a larger C, and strided operands (copied) all work."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6))
    Wt = rng.standard_normal((40, 5))
    G = np.zeros((6, 5))
    hostBlas.gemmInto(X.T, Wt, G, 0.0)                      # A a transposed view
    np.testing.assert_allclose(G, X.T @ Wt, rtol=1e-13)
    Z = np.zeros((50, 5))
    K = rng.standard_normal((6, 5))
    hostBlas.gemmInto(X[3:23], K, Z[10:30], 0.0)           # row blocks of C-contiguous arrays
    np.testing.assert_allclose(Z[10:30], X[3:23] @ K, rtol=1e-13)
    assert not Z[:10].any() and not Z[30:].any()
    hostBlas.gemmInto(X[::2], K[::-1], Z[:20], 0.0)        # strided / negative strides: copied
    np.testing.assert_allclose(Z[:20], X[::2] @ K[::-1], rtol=1e-13)
    hostBlas.gemmInto(X[:, :0], K[:0], Z[:40], 0.0)       # k = 0: C = beta C
    assert not Z[:40].any()


def test_gemmInto_rejects_bad_input():
    A, B = np.ones((3, 4)), np.ones((4, 2))
    with pytest.raises(ValueError, match="shapes"):
        hostBlas.gemmInto(A, B, np.zeros((3, 3)), 0.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        hostBlas.gemmInto(A.astype(np.float32), B, np.zeros((3, 2)), 0.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        hostBlas.gemmInto(A.astype(int), B.astype(int), np.zeros((3, 2), dtype=int), 0.0)
    with pytest.raises(ValueError, match="unit column stride"):
        hostBlas.gemmInto(A, B, np.zeros((3, 4))[:, ::2], 0.0)


def test_matmul_falls_back_for_other_inputs():
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(hostBlas.matmul(a, a.T), a @ a.T)     # integers: NumPy
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(hostBlas.matmul(x, x.T), x @ x.T, rtol=1e-6)


def test_gemmInto_in_threads():
    """Concurrent products in several threads (the GIL is released) give the same results."""
    assert hostBlas.RELEASES_GIL
    rng = np.random.default_rng(3)
    A = rng.standard_normal((400, 64)).astype(np.float32)
    B = rng.standard_normal((64, 32)).astype(np.float32)
    ref = A @ B
    outs = [np.empty((400, 32), np.float32) for _ in range(4)]

    def run(k):
        for _ in range(20):
            hostBlas.gemmInto(A, B, outs[k], 0.0)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for C in outs:
        np.testing.assert_allclose(C, ref, rtol=1e-5, atol=1e-4)


def test_retainFreedMemory_validates_and_applies():
    with pytest.raises(ValueError, match="mmapThreshold"):
        mg.retainFreedMemory(mmapThreshold=0)
    with pytest.raises(ValueError, match="trimThreshold"):
        mg.retainFreedMemory(trimThreshold=2**31)
    with pytest.raises(ValueError, match="mmapThreshold"):
        mg.retainFreedMemory(mmapThreshold=1.5)
    # in a fresh process (the setting is process-wide): accepted on Linux with glibc, and
    # large arrays allocated after it still work
    code = ("import numpy, meganet as mg; ok = mg.retainFreedMemory(); "
            "a = [numpy.ones(10**7) for _ in range(3)]; del a; b = numpy.ones(10**7); "
            "print(ok, b.sum())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ok, total = out.stdout.split()
    assert float(total) == 1e7
    if sys.platform.startswith("linux"):
        import platform
        if platform.libc_ver()[0] == "glibc":
            assert ok == "True"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rowsGemm_on_row_blocks(dtype):
    """The address-based product on row blocks of larger arrays, with and without transA."""
    gemm = hostBlas.rowsGemm(dtype)
    assert gemm is not None
    rng = np.random.default_rng(4)
    item = np.dtype(dtype).itemsize
    X = rng.standard_normal((30, 5)).astype(dtype)
    K = rng.standard_normal((5, 4)).astype(dtype)
    Z = rng.standard_normal((30, 4)).astype(dtype)
    Z0 = Z.copy()
    gemm(X.ctypes.data + 7 * 5 * item, K.ctypes.data, Z.ctypes.data + 3 * 4 * item, 10, 5, 4, 1.0)
    ref = Z0.copy()
    ref[3:13] += X[7:17] @ K
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(Z, ref, rtol=tol, atol=tol)
    W = rng.standard_normal((30, 4)).astype(dtype)
    G = np.ones((5, 4), dtype=dtype)
    gemm(X.ctypes.data + 2 * 5 * item, W.ctypes.data + 6 * 4 * item, G.ctypes.data, 5, 12, 4, 0.0,
         transA=True, alpha=-2.0)
    np.testing.assert_allclose(G, -2 * X[2:14].T @ W[6:18], rtol=tol, atol=tol)
