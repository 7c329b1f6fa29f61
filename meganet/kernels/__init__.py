"""Linear kernels K(theta): dense matrices and convolutions (Meganet.m's KernelTypes)."""
from .abstractKernel import AbstractKernel
from .dense import Dense, getDenseAntiSym

__all__ = ["AbstractKernel", "Dense", "getDenseAntiSym"]
