"""Test loss, accuracy and predictions of a trained classifier (what Meganet.m's cnnResults reports)."""
import math

import numpy

from ..backend import isDeviceArray, toHost
from ..loss.softmaxLoss import SoftmaxLoss
from .getConfusionMatrix import getConfusionMatrix

__all__ = ["classificationResults", "classificationAccuracy"]


def _isArray(x):
    return isinstance(x, numpy.ndarray) or isDeviceArray(x)


def classificationResults(net, theta, W, Y, C, pLoss=None, batchSize=125):
    """Evaluate the classifier ``pLoss(W, net(theta, Y))`` on labelled examples.

    The network runs in evaluation mode (``forwardProp(..., doDerivative=False)``: running
    statistics of batch normalization, no augmentation), ``batchSize`` examples at a time;
    loss and accuracy are the loss's own (``pLoss.getMisfit`` summed over the chunks, then
    ``pLoss.hisVals``), so they equal the values a ``DnnBatchObjFctn`` without regularizers
    reports for the same weights. This is the evaluation of Meganet.m's cnnResults, for
    weights in memory (split ``x = [theta; W]`` as ``x[:net.nTheta()]``, ``x[net.nTheta():]``).

    Parameters
    ----------
    net : element
        The network (any meganet element), on the backend it computes on.
    theta : array, shape (net.nTheta(),)
        Network weights (host arrays are moved to the network's backend).
    W : array, shape (nClasses * (nFeat + 1),)
        Classifier weights in the loss's layout (:mod:`meganet.loss.abstractLoss`).
    Y : array, shape (N,) + net.sizeFeatIn()
        Examples (host or device; moved chunk by chunk).
    C : array, shape (N, nClasses) one-hot, or (N,) integer class indices
    pLoss : loss, optional
        A classification loss; :class:`~meganet.SoftmaxLoss` by default.
    batchSize : int
        Examples per forward pass (125 as Meganet.m's cnnResults).

    Returns
    -------
    results : dict
        ``loss`` (float, the mean loss), ``accuracy`` (float, percent), ``nExamples`` (int),
        ``predicted`` and ``labels`` (int64 ``(N,)``, predicted and true classes),
        ``scores`` (``(N, nClasses)`` host array ``S = [YN, 1] Wm^T``), ``probabilities``
        (softmax of the scores for a SoftmaxLoss, else None) and ``confusion``
        (:func:`getConfusionMatrix`: rows predicted, columns true classes); all on the host.
    """
    pLoss = SoftmaxLoss() if pLoss is None else pLoss
    if not callable(getattr(pLoss, "getMisfit", None)) or not callable(getattr(pLoss, "hisVals", None)):
        raise TypeError(f"classificationResults: pLoss must be a loss (with getMisfit and hisVals); "
                        f"got {type(pLoss).__name__}")
    if isinstance(batchSize, bool) or not isinstance(batchSize, (int, numpy.integer)) or batchSize < 1:
        raise ValueError(f"classificationResults: batchSize must be a positive integer; got {batchSize!r}")
    nth = net.nTheta()
    for v, what, size in ((theta, "theta", nth), (W, "W", None)):
        if not _isArray(v) or v.ndim != 1 or (size is not None and v.shape[0] != size):
            got = tuple(v.shape) if _isArray(v) else type(v).__name__
            want = f"({size},) = (net.nTheta(),)" if size is not None else "a flat 1-D array"
            raise ValueError(f"classificationResults: {what} must be {want}; got {got}")
    feat = tuple(net.sizeFeatIn())
    if not _isArray(Y) or tuple(Y.shape[1:]) != feat or Y.shape[0] < 1:
        got = tuple(Y.shape) if _isArray(Y) else type(Y).__name__
        raise ValueError(f"classificationResults: Y must have shape (N,) + net.sizeFeatIn() = (N, "
                         f"{', '.join(map(str, feat))}) with N >= 1; got {got}")
    N = int(Y.shape[0])
    if not _isArray(C) or C.ndim not in (1, 2) or C.shape[0] != N:
        got = tuple(C.shape) if _isArray(C) else type(C).__name__
        raise ValueError(f"classificationResults: C must be one-hot (N, nClasses) or class indices (N,) with "
                         f"N={N} as Y; got {got}")
    xp = net.xp
    theta, W = net.asArray(theta), net.asArray(W)
    nFeat = int(math.prod(net.sizeFeatOut()))
    nfb = nFeat + int(getattr(pLoss, "addBias", True))
    if W.size % nfb:
        raise ValueError(f"classificationResults: W must have nClasses*(nFeat+1) entries with nFeat = "
                         f"{nFeat} (the network's output size); got {W.size}")
    Wm = W.reshape(-1, nfb)
    paraSum, scores = None, []
    for i in range(0, N, int(batchSize)):
        Yk = net.asArray(Y[i:i + batchSize])
        Ck = C[i:i + batchSize]
        Ck = net.asArray(Ck) if Ck.dtype.kind == "f" else xp.asarray(Ck)
        YN, _ = net.forwardProp(theta, Yk, doDerivative=False)
        YN = YN.reshape(YN.shape[0], -1)
        para = pLoss.getMisfit(W, YN, Ck, doDerivative=False)[1]
        paraSum = para if paraSum is None else paraSum + para
        if nfb > nFeat:
            YN = xp.concatenate([YN, xp.ones((YN.shape[0], 1), dtype=YN.dtype)], axis=1)
        scores.append(toHost(YN @ Wm.T))
    S = numpy.concatenate(scores)
    his = pLoss.hisVals(paraSum)
    P = None
    if isinstance(pLoss, SoftmaxLoss):
        E = numpy.exp(S - S.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
    Ch = toHost(C)
    labels = Ch.argmax(axis=1) if Ch.ndim == 2 else Ch.astype(numpy.int64)
    predicted = S.argmax(axis=1)
    return {"loss": float(his[0]), "accuracy": float(his[1]), "nExamples": N, "predicted": predicted,
            "labels": labels, "scores": S, "probabilities": P,
            "confusion": getConfusionMatrix(predicted, labels, nClasses=S.shape[1])}


def classificationAccuracy(net, theta, W, Y, C, pLoss=None, batchSize=125):
    """Test accuracy in percent of the weights ``theta, W`` on ``(Y, C)``.

    Shorthand for ``classificationResults(...)['accuracy']``; see :func:`classificationResults`.
    """
    return classificationResults(net, theta, W, Y, C, pLoss=pLoss, batchSize=batchSize)["accuracy"]
