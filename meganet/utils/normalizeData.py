"""``normalizeData``: per-example standardisation (Meganet.m's normalizeData)."""
from ..backend import getArrayModuleOf

__all__ = ["normalizeData"]


def normalizeData(Y, numelFeat=None):
    """Zero mean and unit standard deviation per example.

    Each example (a slice ``Y[n]``, flattened to ``numelFeat`` values) has its mean
    subtracted and is divided by ``max(std, 1/sqrt(numelFeat))`` (sample standard deviation,
    ``ddof=1``, as MATLAB's ``std``), so nearly constant examples are not blown up.

    Parameters
    ----------
    Y : array, shape (N, ...)
    numelFeat : int, optional
        Features per example; ``Y[0].size`` by default.
    """
    xp = getArrayModuleOf(Y)
    N = Y.shape[0]
    n = int(Y[0].size) if numelFeat is None else int(numelFeat)
    if n * N != Y.size:
        raise ValueError(f"normalizeData: Y with {Y.size} entries cannot be split into examples of "
                         f"numelFeat={n} features (N={N})")
    X = Y.reshape(N, n)
    X = X - X.mean(axis=1, keepdims=True)
    s = X.std(axis=1, ddof=1 if n > 1 else 0, keepdims=True)
    X = X / xp.maximum(s, 1.0 / n ** 0.5)
    return X.reshape(Y.shape)
