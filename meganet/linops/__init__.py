"""Matrix-free linear operators (Meganet.m's matrixFree)."""
from .linearOperator import LinearOperator
from .opCNNBias import opCNNBias

__all__ = ["LinearOperator", "opCNNBias"]
