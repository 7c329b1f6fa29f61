"""Ready-made networks of the paper: the parabolic, Hamiltonian and leapfrog CNNs.

The construction is the one of Meganet.m's image drivers (``EParabolic_STL10``,
``cnnDriver``, ...), written once so that every driver, the benchmark and ``make run``
share it.
"""
from .pdeCNN import PDE_DYNAMICS, initSoftmaxWeights, pdeCNN

__all__ = ["pdeCNN", "initSoftmaxWeights", "PDE_DYNAMICS"]
