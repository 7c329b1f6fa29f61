"""Loss functions (Meganet.m's loss/): ``getMisfit(W, Y, C)`` on flattened network outputs."""
from .abstractLoss import AbstractLoss
from .logRegressionLoss import LogRegressionLoss
from .mseLoss import MseLoss
from .regressionLoss import RegressionLoss
from .softmaxLoss import SoftmaxLoss

__all__ = ["AbstractLoss", "SoftmaxLoss", "RegressionLoss", "LogRegressionLoss", "MseLoss"]
