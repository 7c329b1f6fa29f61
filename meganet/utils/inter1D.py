"""``inter1D``: piecewise linear interpolation in time of vector-valued data."""
import numpy

from ..backend import getArrayModuleOf

__all__ = ["inter1D"]


def _weights(ttheta, ti):
    """Left/right indices and weights of every ``ti`` (constant extrapolation)."""
    n = ttheta.size
    idi = numpy.zeros((ti.size, 2), dtype=numpy.int64)
    wi = numpy.zeros((ti.size, 2))
    for k, t in enumerate(ti):
        j = int(numpy.searchsorted(ttheta, t, side="right")) - 1  # last j with ttheta[j] <= t
        if n == 1:
            idi[k] = (0, 0)
            wi[k] = (1.0, 0.0)
        elif j < 0:
            idi[k] = (0, 1)
            wi[k] = (1.0, 0.0)
        elif j >= n - 1:
            idi[k] = (n - 2, n - 1)
            wi[k] = (0.0, 1.0)
        else:
            tl, tr = ttheta[j], ttheta[j + 1]
            idi[k] = (j, j + 1)
            wi[k] = ((tr - t) / (tr - tl), (t - tl) / (tr - tl))
    return wi, idi


def inter1D(theta, ttheta, ti, returnWeights=False):
    """Piecewise linear interpolation of data given at time points (Meganet.m's ``inter1D``).

    ``theta`` holds one data vector per time point ``ttheta[j]`` (row ``j`` of
    ``theta.reshape(len(ttheta), -1)``, i.e. contiguous per-time-point chunks as the
    weights of the time-stepping blocks). The value at ``t`` in
    ``[ttheta[j], ttheta[j+1]]`` is::

        theta_i(t) = (ttheta[j+1] - t) / (ttheta[j+1] - ttheta[j]) * theta_j
                   + (t - ttheta[j]) / (ttheta[j+1] - ttheta[j]) * theta_{j+1}

    and the first/last vector outside ``[ttheta[0], ttheta[-1]]`` (constant extrapolation).

    Parameters
    ----------
    theta : array (NumPy or device)
        Data, ``len(ttheta) * m`` values: a flat vector or an array whose first axis is time.
    ttheta : 1-D sequence of float
        Strictly increasing time points of the data.
    ti : 1-D sequence of float
        Interpolation points.
    returnWeights : bool, default False
        Also return the weights and indices (Meganet.m's second and third outputs).

    Returns
    -------
    thi : array
        Interpolated data: flat of length ``len(ti) * m`` for a flat ``theta``, else with
        ``len(ti)`` as first axis and the remaining axes of ``theta``.
    wi : ndarray, shape (len(ti), 2)
        Only if ``returnWeights``: weights of the left and right data point.
    idi : ndarray of int, shape (len(ti), 2)
        Only if ``returnWeights``: indices (0-based) of the left and right data point.
    """
    tt = numpy.asarray(ttheta, dtype=numpy.float64).reshape(-1)
    tq = numpy.asarray(ti, dtype=numpy.float64).reshape(-1)
    if tt.size < 1:
        raise ValueError("inter1D: ttheta must contain at least one time point; got none")
    if tt.size > 1 and not numpy.all(numpy.diff(tt) > 0):
        raise ValueError(f"inter1D: ttheta must be strictly increasing; got {tt.tolist()}")
    if theta.size % tt.size != 0:
        raise ValueError(f"inter1D: theta must hold len(ttheta)={tt.size} equally sized chunks; "
                         f"got {theta.size} values")
    wi, idi = _weights(tt, tq)
    P = numpy.zeros((tq.size, tt.size))
    rows = numpy.arange(tq.size)
    numpy.add.at(P, (rows, idi[:, 0]), wi[:, 0])
    numpy.add.at(P, (rows, idi[:, 1]), wi[:, 1])
    xp = getArrayModuleOf(theta)
    T = theta.reshape(tt.size, -1)
    thi = xp.asarray(P.astype(theta.dtype)) @ T
    if theta.ndim == 1:
        thi = thi.reshape(-1)
    else:
        thi = thi.reshape((tq.size,) + tuple(theta.shape[1:]))
    if returnWeights:
        return thi, wi, idi
    return thi
