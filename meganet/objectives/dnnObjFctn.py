"""``DnnObjFctn``: network + loss + regularizers on all examples at once."""
from ._dnnObjective import DnnObjective

__all__ = ["DnnObjFctn"]


class DnnObjFctn(DnnObjective):
    """Objective ``J([theta; W]) = S(W, net(theta, Y), C) + R_theta(theta) + R_W(W)``.

    Meganet.m's ``dnnObjFctn``: all selected examples are propagated in one batch. Call it
    as ``Jc, para, dJ, H, PC = fctn(x, idx)`` (``idx``: example indices, None for all);
    ``H`` is the block-diagonal Gauss-Newton Hessian as a matrix-free LinearOperator,
    ``PC`` is None (identity). Formulas: :mod:`meganet.objectives._dnnObjective`.

    Parameters
    ----------
    net : element
        Network (any meganet element) mapping ``(N, *net.sizeFeatIn())`` features.
    pRegTheta, pRegW : regularizers or None
    pLoss : loss (SoftmaxLoss, RegressionLoss, ...)
    Y : array, shape (N, *net.sizeFeatIn())
        Floating point features (host or device); chunks are moved to the network's
        backend and precision when used.
    C : array, shape (N, nClass) or (N,)
        Targets (one-hot rows or class indices, as the loss accepts).
    useGPU, precision : optional
        Meganet.m's options: set on the network and the regularizers (as Meganet.m's
        setters do); None keeps theirs. The data stay where they are; each chunk is moved
        to the network's backend and precision when used.
    """

    def __init__(self, net, pRegTheta, pLoss, pRegW, Y, C, useGPU=None, precision=None):
        super().__init__(net, pRegTheta, pLoss, pRegW, Y, C, useGPU=useGPU, precision=precision)
