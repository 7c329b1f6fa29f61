"""``DnnBatchObjFctn``: the network objective evaluated in chunks, with data augmentation."""

from ._dnnObjective import DnnObjective

__all__ = ["DnnBatchObjFctn"]


class DnnBatchObjFctn(DnnObjective):
    """Objective ``J([theta; W])`` evaluated in chunks of ``batchSize`` examples.

    Meganet.m's ``dnnBatchObjFctn``: the selected examples are propagated ``batchSize`` at a
    time (to bound memory) and the chunk losses and gradients are combined with weights
    ``n_k/N``, which gives the same value and gradient as one batch for networks whose
    layers act on each example separately. Layers with batch statistics (BatchNormLayer,
    BatchNormLayer2 in training mode) compute them per chunk, so there the result depends
    on ``batchSize`` (as in Meganet.m).

    Differences from Meganet.m: the chunks are consecutive pieces of ``idx`` in the order
    given (the optimizer already shuffles), so evaluations are deterministic; the
    Gauss-Newton Hessian sums over all chunks (Meganet.m uses the last chunk's network
    Jacobian only).

    Parameters
    ----------
    net, pRegTheta, pLoss, pRegW, Y, C :
        As :class:`~meganet.objectives.DnnObjFctn`.
    batchSize : int, default 10
        Examples per chunk (``numpy.inf``: one chunk).
    dataAugment : callable, optional
        ``Y -> Y`` applied (on the host or device arrays as stored) to the examples of
        every evaluation that computes a gradient -- the training mini-batches -- and not to
        value-only evaluations (history, validation). E.g.
        ``lambda Y: mg.randomCrop(mg.randomFlip(Y, 0.5, rng), 4, rng)``.
    useGPU, precision : optional
        As :class:`~meganet.objectives.DnnObjFctn`.
    """

    def __init__(self, net, pRegTheta, pLoss, pRegW, Y, C, batchSize=10, dataAugment=None,
                 useGPU=None, precision=None):
        super().__init__(net, pRegTheta, pLoss, pRegW, Y, C, batchSize=batchSize,
                         dataAugment=dataAugment, useGPU=useGPU, precision=precision)


