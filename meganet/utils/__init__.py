"""Utilities: derivative checks and helpers."""
from .checkAdjoint import checkAdjoint
from .checkDerivative import DerivativeCheck, checkDerivative
from .checkJacobian import ElementCheck, checkJacobian
from .checkResult import CheckResult, ToleranceCheck
from .inter1D import inter1D
from .normalizeData import normalizeData

__all__ = ["checkAdjoint", "checkDerivative", "checkJacobian", "DerivativeCheck", "ElementCheck",
           "normalizeData"]
__all__ += ["inter1D", "CheckResult", "ToleranceCheck"]
