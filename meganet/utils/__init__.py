"""Utilities: derivative checks and helpers."""
from .checkAdjoint import checkAdjoint
from .checkDerivative import DerivativeCheck, checkDerivative
from .checkJacobian import ElementCheck, checkJacobian

__all__ = ["checkAdjoint", "checkDerivative", "checkJacobian", "DerivativeCheck", "ElementCheck"]
