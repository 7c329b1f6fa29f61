"""Data augmentation for image batches (Meganet.m's augmentation folder).

All functions act on image features ``(N, H, W, C)`` on either backend (the random
choices are drawn on the host from ``rng`` and applied with the array's own module) and
return a new array; ``Y`` is not modified.
"""
import numpy

from ..backend import getArrayModuleOf

__all__ = ["randomFlip", "randomCrop", "randomRotate"]


def _checkImages(Y, owner):
    if not hasattr(Y, "ndim") or Y.ndim != 4:
        raise ValueError(f"{owner}: Y must be image features of shape (N, H, W, C); got "
                         f"{tuple(Y.shape) if hasattr(Y, 'shape') else type(Y).__name__}")


def randomFlip(Y, perc=0.5, rng=None):
    """Mirror ``fix(perc * N)`` randomly chosen examples left-right (along the width axis).

    Parameters
    ----------
    Y : array, shape (N, H, W, C)
    perc : float in [0, 1]
        Fraction of the examples to flip.
    rng : seed or numpy.random.Generator
    """
    _checkImages(Y, "randomFlip")
    if not 0 <= perc <= 1:
        raise ValueError(f"randomFlip: perc must lie in [0, 1]; got {perc!r}")
    xp = getArrayModuleOf(Y)
    rng = numpy.random.default_rng(rng)
    N = Y.shape[0]
    flip = numpy.zeros(N, dtype=bool)
    flip[rng.permutation(N)[:int(perc * N)]] = True
    mask = xp.asarray(flip.reshape(N, 1, 1, 1))
    return xp.where(mask, Y[:, :, ::-1, :], Y)


def randomCrop(Y, crop, rng=None):
    """Random translations: pad by ``crop // 2`` zeros on each side and cut a window of the
    original size at a random offset in ``[0, crop]`` (per example and axis).

    Parameters
    ----------
    Y : array, shape (N, H, W, C)
    crop : non-negative even int
        Total padding per axis (Meganet.m's ``crop``; e.g. 4 shifts by up to 2 pixels).
    rng : seed or numpy.random.Generator
    """
    _checkImages(Y, "randomCrop")
    if not isinstance(crop, (int, numpy.integer)) or crop < 0 or crop % 2:
        raise ValueError(f"randomCrop: crop must be a non-negative even integer; got {crop!r}")
    if crop == 0:
        return Y.copy()
    xp = getArrayModuleOf(Y)
    rng = numpy.random.default_rng(rng)
    N, H, W, C = Y.shape
    p = crop // 2
    Yp = xp.pad(Y, ((0, 0), (p, p), (p, p), (0, 0)))
    shift = rng.integers(0, crop + 1, size=(N, 2))
    rows = xp.asarray(shift[:, 0][:, None] + numpy.arange(H)[None, :])       # (N, H)
    cols = xp.asarray(shift[:, 1][:, None] + numpy.arange(W)[None, :])       # (N, W)
    n = xp.asarray(numpy.arange(N)[:, None, None])
    return Yp[n, rows[:, :, None], cols[:, None, :], :]


def randomRotate(Y, angles, rng=None):
    """Rotate every example about its centre by an angle drawn uniformly from ``angles``.

    Nearest-neighbour interpolation; the output has the input's size (corners that come
    from outside the image are zero), as MATLAB's ``imrotate(..., 'nearest', 'crop')`` that
    Meganet.m's randomRotate uses. Positive angles turn the image counterclockwise as
    displayed (row 0 at the top): ``randomRotate(Y, (90, 90))`` equals
    ``numpy.rot90(Y, 1, axes=(1, 2))``.

    Difference from Meganet.m: there the angles are ``|a2 - a1| * randn + a1`` (normal,
    centred on ``a1``); here they are uniform on ``[a1, a2]``, the range the argument names.

    Parameters
    ----------
    Y : array, shape (N, H, W, C)
    angles : (a1, a2), degrees, a1 <= a2
        Range of the rotation angles (e.g. ``(-15, 15)``).
    rng : seed or numpy.random.Generator

    Returns
    -------
    Z : array, shape (N, H, W, C)
        On the backend of ``Y``; ``Y`` is not modified.
    """
    _checkImages(Y, "randomRotate")
    try:
        a1, a2 = (float(a) for a in angles)
    except (TypeError, ValueError):
        raise ValueError(f"randomRotate: angles must be a pair (a1, a2) of numbers in degrees; "
                         f"got {angles!r}") from None
    if not (numpy.isfinite(a1) and numpy.isfinite(a2)) or a1 > a2:
        raise ValueError(f"randomRotate: angles must be finite with a1 <= a2; got {angles!r}")
    xp = getArrayModuleOf(Y)
    rng = numpy.random.default_rng(rng)
    N, H, W, C = Y.shape
    phi = numpy.deg2rad(rng.uniform(a1, a2, size=N))[:, None, None]
    ci, cj = (H - 1) / 2.0, (W - 1) / 2.0
    # output pixel (i, j) at x = j - cj (right), y = ci - i (up) takes the input pixel at
    # R(-phi) (x, y): the picture turns by +phi (counterclockwise)
    y = (ci - numpy.arange(H, dtype=float))[None, :, None]
    x = (numpy.arange(W, dtype=float) - cj)[None, None, :]
    xs = numpy.cos(phi) * x + numpy.sin(phi) * y
    ys = -numpy.sin(phi) * x + numpy.cos(phi) * y
    rows = numpy.rint(ci - ys).astype(numpy.int64)                  # (N, H, W)
    cols = numpy.rint(xs + cj).astype(numpy.int64)
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    n = numpy.broadcast_to(numpy.arange(N)[:, None, None], rows.shape)
    Z = Y[xp.asarray(n), xp.asarray(numpy.clip(rows, 0, H - 1)), xp.asarray(numpy.clip(cols, 0, W - 1)), :]
    return Z * xp.asarray(inside[..., None].astype(Y.dtype))
