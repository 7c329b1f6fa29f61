"""Linear kernels K(theta): dense matrices and convolutions (Meganet.m's KernelTypes)."""
from .abstractKernel import AbstractKernel
from .dense import Dense, getDenseAntiSym
from .convKernel import ConvKernel
from .conv2D import Conv2D
from ._cudnnConv import convEngineInfo
from .convFFT import ConvFFT
from .scalingKernel import ScalingKernel
from .sparseKernel import SparseKernel
from .pdeStencilKernel import PDEStencilKernel

__all__ = ["AbstractKernel", "Dense", "getDenseAntiSym", "ConvKernel", "Conv2D", "convEngineInfo", "ConvFFT",
           "ScalingKernel", "SparseKernel", "PDEStencilKernel"]
