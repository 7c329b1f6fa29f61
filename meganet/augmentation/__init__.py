"""Data augmentation (Meganet.m's augmentation folder)."""
from .augmentation import randomCrop, randomFlip

__all__ = ["randomFlip", "randomCrop"]
