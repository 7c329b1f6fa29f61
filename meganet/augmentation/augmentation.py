"""Data augmentation for image batches (Meganet.m's augmentation folder).

Both functions act on image features ``(N, H, W, C)`` on either backend (the random
choices are drawn on the host from ``rng`` and applied with the array's own module) and
return a new array; ``Y`` is not modified.
"""
import numpy

from ..backend import getArrayModuleOf

__all__ = ["randomFlip", "randomCrop"]


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
