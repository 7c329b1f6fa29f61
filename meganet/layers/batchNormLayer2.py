"""``BatchNormLayer2``: per-channel batch normalization with running statistics
(Meganet.m's ``batchNormLayer2``)."""
import numbers

import numpy

from ._normalize import MeanVarNormalization, meanVarNormalize, pixelAxes

__all__ = ["BatchNormLayer2"]


class BatchNormLayer2(MeanVarNormalization):
    """Batch normalization per channel (over pixels and examples) with running statistics.

    For features ``Y`` of shape ``(N, *nData)`` (examples first, channels last) let
    ``A`` be the example and pixel axes (all but the channel axis).

    Training, ``forwardProp(theta, Y, doDerivative=True)`` (or ``momentum=None``): batch
    statistics::

        mu   = mean_A(Y)                 var = mean_A((Y - mu)**2)     shape (C,)
        Zhat = (Y - mu) / sqrt(var + eps)

    and, unless ``momentum`` is None, the running averages are updated (the layer's
    only mutable state, attributes ``runningMean`` and ``runningVar`` of shape ``(C,)``)::

        runningMean <- momentum * runningMean + (1 - momentum) * mu
        runningVar  <- momentum * runningVar  + (1 - momentum) * var   (biased variance)

    Evaluation, ``forwardProp(theta, Y, doDerivative=False)``: running statistics, no
    update, ``tmp = None``, and examples do not interact::

        Zhat = (Y - runningMean) / sqrt(runningVar + eps)

    In both modes ``Z = Zhat * s + b`` (isWeight; ``s, b`` of shape ``(C,)``,
    ``theta = [s; b]`` initialised to ones and zeros) or ``Z = Zhat``.

    Derivatives are training-time derivatives: they ALWAYS linearise the batch-statistics
    map at ``Y`` (whatever mode produced ``tmp``; with ``tmp=None`` they recompute the
    batch statistics) and never change the running statistics. With ``Zhat`` and
    ``den = sqrt(var + eps)`` of the batch (``W``, ``V`` shaped like ``Y``)::

        J_nrm V          = (V - mean_A(V) - Zhat * mean_A(Zhat * V)) / den   (= J_nrm^T V)
        J_Y V            = s * J_nrm V
        J_Y^T W          = J_nrm (s * W)
        J_theta [ds; db] = Zhat * ds + db
        J_theta^T W      = [sum_A(W * Zhat); sum_A(W)]
        per example n    = [sum_pixels(W[n] * Zhat[n]); sum_pixels(W[n])]   (reduceDim=False)

    Degenerate case: a single example with a single pixel (``nData = (C,)``, ``N = 1``)
    has ``var = 0``: ``Zhat = 0`` and ``J_Y = 0``, without division by zero.

    Meganet.m: ``batchNormLayer2([nx ny nc nEx], 'isWeight', w, 'momentum', m)`` ->
    ``BatchNormLayer2((nx, ny, nc), isWeight=w, momentum=m)``; ``nData`` is the shape of
    ONE example (``(H, W, C)``, ``(nPix, C)`` or ``(n,)``, whose entries are channels).
    Meganet.m selects the mode by ``'doDerivative'`` (default: whether ``tmp`` is
    requested); here the keyword ``doDerivative`` (default True) does.

    Parameters
    ----------
    nData : tuple of int
        Shape of one example.
        Meganet.m's ``(H, W, C, nEx)`` is accepted and its ``nEx`` ignored (as there).
    isWeight : bool or 0/1, default False
        Trainable per-channel scale and shift.
    eps : float, default 1e-4
        Added to the variance.
    momentum : float in [0, 1] or None, default 0.9
        Weight of the old running statistics; ``None`` keeps no running statistics and
        always normalizes with the batch statistics (as an empty momentum in Meganet.m).
    runningMean, runningVar : float or array of shape (C,), defaults 0 and 1
        Initial running statistics (``runningVar >= 0``); :meth:`resetRunningStats`
        restores them. They are the layer's ``stateAttributes``: ``getState()`` /
        ``setState()`` (of the layer or of any network holding it) save and restore them,
        and SGD checkpoints include them.

    Raises
    ------
    ValueError
        ``forwardProp`` in training mode on an empty batch (``N = 0``): its statistics do
        not exist; the running statistics are left unchanged.
    useGPU, precision :
        Backend.
    """

    stateAttributes = ("runningMean", "runningVar")

    def __init__(self, nData, isWeight=False, eps=1e-4, momentum=0.9, runningMean=0,
                 runningVar=1, useGPU=False, precision="double"):
        super().__init__(nData, isWeight=isWeight, eps=eps, useGPU=useGPU, precision=precision)
        if momentum is not None:
            if isinstance(momentum, (bool, numpy.bool_)) or not isinstance(momentum, numbers.Real) \
                    or not 0 <= momentum <= 1:
                raise ValueError(
                    f"BatchNormLayer2: momentum must be a number in [0, 1] or None; got {momentum!r}")
            momentum = float(momentum)
        self.momentum = momentum
        C = self.nData[-1]
        self._runningMean0 = self._checkStat("runningMean", runningMean, C, nonNegative=False)
        self._runningVar0 = self._checkStat("runningVar", runningVar, C, nonNegative=True)
        self.runningMean = None
        self.runningVar = None
        self.resetRunningStats()

    def _checkStat(self, name, value, C, nonNegative):
        try:
            a = numpy.asarray(value, dtype=numpy.float64)
        except (TypeError, ValueError):
            a = None
        if a is None or (a.ndim > 0 and a.shape != (C,)):
            raise ValueError(f"BatchNormLayer2: {name} must be a number or an array of shape "
                             f"({C},) (one value per channel); got "
                             f"{a.shape if a is not None else type(value).__name__}")
        if not numpy.all(numpy.isfinite(a)) or (nonNegative and numpy.any(a < 0)):
            raise ValueError(f"BatchNormLayer2: {name} must be finite"
                             f"{' and non-negative' if nonNegative else ''}; got {value!r}")
        return self.asArray(numpy.broadcast_to(a, (C,)).copy())

    def resetRunningStats(self):
        """Restore the running statistics given to the constructor."""
        self.runningMean = self._runningMean0.copy()
        self.runningVar = self._runningVar0.copy()

    def _axes(self, ndimY):
        return (0,) + pixelAxes(ndimY)

    def _forwardNormalize(self, Y, doDerivative):
        if doDerivative or self.momentum is None:
            if Y.shape[0] == 0:
                raise ValueError("BatchNormLayer2.forwardProp: batch statistics (training mode, "
                                 "doDerivative=True or momentum=None) need at least one example; "
                                 "got an empty batch (N = 0). The running statistics are "
                                 "unchanged")
            Zhat, den, mean, var = meanVarNormalize(self.xp, Y, self._axes(Y.ndim), self.eps,
                                                    returnStats=True)
            if self.momentum is not None:
                m = self.momentum
                self.runningMean = m * self.runningMean + (1.0 - m) * mean.reshape(-1)
                self.runningVar = m * self.runningVar + (1.0 - m) * var.reshape(-1)
            return Zhat, ((Zhat, den) if doDerivative else None)
        Zhat = (Y - self.runningMean) / self.xp.sqrt(self.runningVar + self.eps)
        return Zhat, None
