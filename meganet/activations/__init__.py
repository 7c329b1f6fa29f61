"""Pointwise activation functions."""
from .activations import identityActivation, reluActivation, smoothReluActivation, tanhActivation

__all__ = ["tanhActivation", "reluActivation", "identityActivation", "smoothReluActivation"]
