"""Layers: kernel-based layers, normalization and reshaping (Meganet.m's layers)."""
from .singleLayer import SingleLayer
from .doubleLayer import DoubleLayer
from .doubleSymLayer import DoubleSymLayer

__all__ = ["SingleLayer", "DoubleLayer", "DoubleSymLayer"]
