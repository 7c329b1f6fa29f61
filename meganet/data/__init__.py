"""Data sets: synthetic problems and image-data loaders (Meganet.m's data folder)."""
from .toyData import peaks, setupCircle, setupPeaks, setupSwissRoll

__all__ = ["peaks", "setupPeaks", "setupSwissRoll", "setupCircle"]
