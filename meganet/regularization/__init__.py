"""Regularizers (Meganet.m's regularization/): ``Sc, para, dS, d2S = reg.regularizer(x)``."""
from .abstractRegularizer import AbstractRegularizer
from .blockReg import BlockReg
from .l1Reg import L1Reg
from .l2Reg import L2Reg
from .tikhonovReg import TikhonovReg

__all__ = ["AbstractRegularizer", "TikhonovReg", "L2Reg", "L1Reg", "BlockReg"]
