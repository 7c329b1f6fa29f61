"""``montageArray``: tile a stack of images into one image (Meganet.m's montageArray)."""
import numpy

from ..backend import toHost

__all__ = ["montageArray"]


def montageArray(A, ncol=None, show=False, ax=None):
    """Tile images side by side, row by row.

    Parameters
    ----------
    A : array, shape (n, H, W) or (n, H, W, C)
        The images (examples first, as everywhere in meganet; a device array is copied to
        the host).
    ncol : int, optional
        Tiles per row; ``ceil(sqrt(n))`` by default.
    show : bool
        Also draw the montage with matplotlib (the optional ``plot`` extra); empty tiles are
        transparent.
    ax : matplotlib axes, optional

    Returns
    -------
    M : ndarray, shape (nrow*H, ncol*W) or (nrow*H, ncol*W, C)
        The montage; tiles beyond ``n`` are zero.
    mask : ndarray of bool, shape (nrow*H, ncol*W)
        True where a tile holds an image.
    """
    A = toHost(A)
    if A.ndim not in (3, 4) or A.shape[0] < 1:
        raise ValueError(f"montageArray: A must have shape (n, H, W) or (n, H, W, C); got {A.shape}")
    n, H, W = A.shape[:3]
    ncol = int(numpy.ceil(numpy.sqrt(n))) if ncol is None else int(ncol)
    if ncol < 1:
        raise ValueError(f"montageArray: ncol must be a positive integer; got {ncol}")
    nrow = int(numpy.ceil(n / ncol))
    tiles = numpy.zeros((nrow * ncol,) + A.shape[1:], dtype=A.dtype)
    tiles[:n] = A
    M = tiles.reshape((nrow, ncol) + A.shape[1:]).swapaxes(1, 2).reshape(
        (nrow * H, ncol * W) + A.shape[3:])
    mask = numpy.zeros((nrow * ncol, H, W), dtype=bool)
    mask[:n] = True
    mask = mask.reshape(nrow, ncol, H, W).swapaxes(1, 2).reshape(nrow * H, ncol * W)
    if show:
        import matplotlib.pyplot as plt
        ax = plt.gca() if ax is None else ax
        img = M
        if M.ndim == 3 and M.shape[2] == 3:
            img = M / max(float(numpy.abs(M).max()), 1e-30)
        ax.imshow(img, alpha=mask.astype(float) if M.ndim == 2 else None)
        ax.set_axis_off()
    return M, mask
