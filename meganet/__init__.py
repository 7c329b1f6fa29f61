"""meganet: PDE-motivated deep neural networks with hand-written derivatives.

A NumPy/CuPy port of the MATLAB toolbox Meganet.m. Every public name is available
from the top-level package, as on MATLAB's flat path::

    import meganet as mg
    K = mg.Conv2D((32, 32), (3, 3, 16, 16))
    layer = mg.DoubleSymLayer(K, activation=mg.reluActivation)
"""
from .backend import getArrayModule, getDtype, gpuVar, toHost
from .element import AbstractMeganetElement
from .activations import identityActivation, reluActivation, smoothReluActivation, tanhActivation
from .kernels import AbstractKernel, Dense, getDenseAntiSym
from .linops import LinearOperator, opCNNBias
from .utils import checkAdjoint, checkDerivative, checkJacobian

__version__ = "0.1.0"
