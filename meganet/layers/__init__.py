"""Layers: kernel-based layers, normalization and reshaping (Meganet.m's layers)."""
from .singleLayer import SingleLayer
from .doubleLayer import DoubleLayer
from .doubleSymLayer import DoubleSymLayer
from .normLayer import NormLayer
from .batchNormLayer import BatchNormLayer
from .batchNormLayer2 import BatchNormLayer2
from .instNormLayer import InstNormLayer
from .tvNormLayer import TVNormLayer
from .affineScalingLayer import AffineScalingLayer
from .reshapeLayer import ReshapeLayer

__all__ = ["SingleLayer", "DoubleLayer", "DoubleSymLayer",
           "NormLayer", "BatchNormLayer", "BatchNormLayer2", "InstNormLayer", "TVNormLayer",
           "AffineScalingLayer", "ReshapeLayer"]
