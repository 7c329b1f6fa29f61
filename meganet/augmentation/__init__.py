"""Data augmentation (Meganet.m's augmentation folder)."""
from .augmentation import randomCrop, randomFlip, randomRotate

__all__ = ["randomFlip", "randomCrop", "randomRotate"]
