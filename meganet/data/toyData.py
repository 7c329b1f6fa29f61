"""Synthetic two-dimensional classification data (Meganet.m's setupPeaks, setupSwissRoll, setupCircle).

All functions return features with examples along the first axis, ``Y`` of shape
``(N, 2)``, and one-hot labels ``C`` of shape ``(N, nClasses)``, as host (NumPy) float64
arrays; move them with :func:`meganet.gpuVar` / ``element.asArray`` if needed.
Randomness comes from ``rng`` (a seed or ``numpy.random.Generator``).
"""
import numpy

__all__ = ["peaks", "setupPeaks", "setupSwissRoll", "setupCircle"]


def peaks(n=256):
    """MATLAB's ``peaks`` surface on an ``n x n`` grid of [-3, 3]^2: returns ``(x, y, z)``."""
    t = numpy.linspace(-3.0, 3.0, n)
    x, y = numpy.meshgrid(t, t)
    z = (3 * (1 - x) ** 2 * numpy.exp(-x ** 2 - (y + 1) ** 2)
         - 10 * (x / 5 - x ** 3 - y ** 5) * numpy.exp(-x ** 2 - y ** 2)
         - numpy.exp(-(x + 1) ** 2 - y ** 2) / 3)
    return x, y, z


def setupPeaks(np=8000, nc=5, rng=None):
    """Points of the peaks surface classified by ``nc`` level bands of its height.

    The height range of ``peaks(256)`` is cut into ``nc`` equal bands; ``ceil(np/nc)``
    grid points are drawn (with replacement) from each band.

    Returns
    -------
    Y : ndarray, shape (nc*ceil(np/nc), 2)
    C : ndarray, shape (nc*ceil(np/nc), nc), one-hot, examples grouped by class
    """
    if int(np) < 1 or int(nc) < 1:
        raise ValueError(f"setupPeaks: np and nc must be positive; got np={np}, nc={nc}")
    rng = numpy.random.default_rng(rng)
    x, y, z = peaks(256)
    lo, hi = z.min(), z.max()
    band = numpy.minimum(((z - lo) / ((hi - lo) / nc)).astype(int), nc - 1)
    npc = int(numpy.ceil(np / nc))
    Y, C = [], []
    for k in range(nc):
        pts = numpy.column_stack([x[band == k], y[band == k]])
        Y.append(pts[rng.integers(0, len(pts), npc)])
        c = numpy.zeros((npc, nc))
        c[:, k] = 1.0
        C.append(c)
    return numpy.concatenate(Y), numpy.concatenate(C)


def setupSwissRoll(n=256):
    """Two interleaved spirals; returns ``(Ytrain, Ctrain, Yval, Cval)`` (alternate points)."""
    if int(n) < 1:
        raise ValueError(f"setupSwissRoll: n must be positive; got {n}")
    theta = numpy.linspace(0.0, 4 * numpy.pi, 2 * n + 1)
    r1 = numpy.linspace(0.0, 1.0, theta.size)
    r2 = numpy.linspace(0.2, 1.2, theta.size)
    Y = numpy.concatenate([numpy.column_stack([r1 * numpy.cos(theta), r1 * numpy.sin(theta)]),
                           numpy.column_stack([r2 * numpy.cos(theta), r2 * numpy.sin(theta)])])
    C = numpy.zeros((Y.shape[0], 2))
    C[:theta.size, 0] = 1.0
    C[theta.size:, 1] = 1.0
    return Y[0::2], C[0::2], Y[1::2], C[1::2]


def setupCircle(nTrain=1000, nTest=200, rng=None):
    """An ellipse (class 0) inside an elliptic ring (class 1); ``(Ytrain, Ctrain, Ytest, Ctest)``."""
    if int(nTrain) < 1 or int(nTest) < 1:
        raise ValueError(f"setupCircle: nTrain and nTest must be positive; got {nTrain}, {nTest}")
    rng = numpy.random.default_rng(rng)

    def sample(n):
        rb, tb = rng.random(n), 2 * numpy.pi * rng.random(n)
        rr, tr = 1 + rng.random(n), 2 * numpy.pi * rng.random(n)
        Y = numpy.concatenate([numpy.column_stack([rb * numpy.cos(tb), 0.4 * rb * numpy.sin(tb)]),
                               numpy.column_stack([rr * numpy.cos(tr), 0.4 * rr * numpy.sin(tr)])])
        C = numpy.zeros((2 * n, 2))
        C[:n, 0] = 1.0
        C[n:, 1] = 1.0
        return Y, C

    Yt, Ct = sample(int(nTrain))
    Yv, Cv = sample(int(nTest))
    return Yt, Ct, Yv, Cv
