"""Utilities: derivative checks, evaluation of classifiers and helpers."""
from .checkAdjoint import checkAdjoint
from .checkDerivative import DerivativeCheck, checkDerivative
from .checkJacobian import ElementCheck, checkJacobian
from .checkResult import CheckResult, ToleranceCheck
from .classificationResults import classificationAccuracy, classificationResults
from .getConfusionMatrix import getConfusionMatrix
from .inter1D import inter1D
from .normalizeData import normalizeData

__all__ = ["checkAdjoint", "checkDerivative", "checkJacobian", "DerivativeCheck", "ElementCheck",
           "normalizeData"]
__all__ += ["inter1D", "CheckResult", "ToleranceCheck"]
__all__ += ["getConfusionMatrix", "classificationResults", "classificationAccuracy"]
from ..columnMajor import columnMajorPermutation, fromColumnMajor, toColumnMajor
from .matlabLayout import (WFromMatlab, WToMatlab, featuresFromMatlab, featuresToMatlab,
                           matrixFromMatlab, matrixToMatlab, thetaFromMatlab, thetaToMatlab)

__all__ += ["thetaFromMatlab", "thetaToMatlab", "featuresFromMatlab", "featuresToMatlab",
            "matrixFromMatlab", "matrixToMatlab", "WFromMatlab", "WToMatlab",
            "fromColumnMajor", "toColumnMajor", "columnMajorPermutation"]
