"""Experiments of the paper: the PDE-CNNs, their evaluation, results files and figures.

The network construction is the one of Meganet.m's image drivers (``EParabolic_STL10``,
``cnnDriver``, ...), written once so that every driver, the benchmark and ``make run``
share it.
"""

from .evaluation import HistorySubset
from .parallel import DriverMPI
from .figures import plotAccuracyVsSize, plotConfusionMatrices, plotHistory, plotPredictions
from .pdeCNN import PDE_DYNAMICS, initSoftmaxWeights, pdeCNN
from .results import getNormStates, loadResults, saveResults, setNormStates
from .schedules import CosineSchedule, StepSchedule

__all__ = ["pdeCNN", "initSoftmaxWeights", "PDE_DYNAMICS", "HistorySubset", "saveResults", "loadResults",
           "getNormStates", "setNormStates", "plotHistory", "plotConfusionMatrices", "plotPredictions",
           "plotAccuracyVsSize", "DriverMPI", "CosineSchedule", "StepSchedule"]
