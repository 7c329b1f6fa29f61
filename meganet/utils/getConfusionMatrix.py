"""``getConfusionMatrix``: counts of predicted against true classes (Meganet.m's getConfusionMatrix)."""
import numpy

from ..backend import toHost

__all__ = ["getConfusionMatrix"]


def _classIndices(C, what, nClasses):
    C = toHost(C)
    if C.ndim == 2:
        if C.shape[1] < 1:
            raise ValueError(f"getConfusionMatrix: {what} must have at least one class column; got {C.shape}")
        return C.argmax(axis=1), C.shape[1]
    if C.ndim == 1 and C.dtype.kind in "iu":
        return C.astype(numpy.int64), nClasses
    raise ValueError(f"getConfusionMatrix: {what} must be one-hot rows or scores (N, nClasses), or integer "
                     f"class indices (N,); got an array of shape {C.shape} and dtype {C.dtype}")


def getConfusionMatrix(Cp, Ctrue, nClasses=None):
    """Confusion matrix ``ConfMat[i, j]`` = number of examples of true class ``j`` predicted as ``i``.

    Rows are predicted classes and columns true classes, as in Meganet.m (the transpose of
    scikit-learn's convention); column ``j`` sums to the number of examples of class ``j``
    and the trace is the number of correct predictions.

    Parameters
    ----------
    Cp : array, shape (N, nClasses) or (N,)
        Predictions: one-hot rows (or scores/probabilities; the largest entry counts), or
        integer class indices. NumPy or device arrays.
    Ctrue : array, shape (N, nClasses) or (N,)
        True classes, in either form.
    nClasses : int, optional
        Number of classes when both arguments are class indices (default: largest index + 1).

    Returns
    -------
    ConfMat : ndarray of int64, shape (nClasses, nClasses)
    """
    if nClasses is not None and (isinstance(nClasses, bool) or not isinstance(nClasses, (int, numpy.integer))
                                 or nClasses < 1):
        raise ValueError(f"getConfusionMatrix: nClasses must be a positive integer; got {nClasses!r}")
    p, np_ = _classIndices(Cp, "Cp", nClasses)
    t, nt = _classIndices(Ctrue, "Ctrue", nClasses)
    if p.shape[0] != t.shape[0]:
        raise ValueError(f"getConfusionMatrix: Cp and Ctrue must have one entry per example; got "
                         f"{p.shape[0]} and {t.shape[0]} examples")
    sizes = {n for n in (np_, nt) if n is not None}
    if len(sizes) > 1:
        raise ValueError(f"getConfusionMatrix: Cp and Ctrue disagree on the number of classes: "
                         f"{np_} and {nt}")
    nc = sizes.pop() if sizes else int(max(p.max(initial=-1), t.max(initial=-1)) + 1)
    for v, what in ((p, "Cp"), (t, "Ctrue")):
        if v.size and (v.min() < 0 or v.max() >= nc):
            raise ValueError(f"getConfusionMatrix: class indices of {what} must lie in [0, {nc}); got "
                             f"[{v.min()}, {v.max()}]")
    ConfMat = numpy.zeros((nc, nc), dtype=numpy.int64)
    numpy.add.at(ConfMat, (p, t), 1)
    return ConfMat
