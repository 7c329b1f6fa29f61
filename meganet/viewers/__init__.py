"""Viewers (Meganet.m's viewers folder); drawing needs the optional ``plot`` extra (matplotlib)."""
from .montageArray import montageArray

__all__ = ["montageArray"]
