"""meganet: PDE-motivated deep neural networks with hand-written derivatives.

A NumPy/CuPy port of the MATLAB toolbox Meganet.m. Every public name is available
from the top-level package, as on MATLAB's flat path::

    import meganet as mg
    K = mg.Conv2D((32, 32), (3, 3, 16, 16))
    layer = mg.DoubleSymLayer(K, activation=mg.reluActivation)

The sub-packages organise the code (kernels, activations, layers, integrators, loss,
regularization, linops, optim, objectives, data, augmentation, viewers, utils, experiments); each
declares its public names in ``__all__`` and they are all re-exported here.
"""
from .backend import asArray, getArrayModule, getDtype, gpuVar, toHost
from .element import AbstractMeganetElement
from .validation import getValidation, setValidation, validation
from .hostMemory import retainFreedMemory
from .activations import *  # noqa: F401,F403
from .kernels import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .integrators import *  # noqa: F401,F403
from .linops import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .objectives import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .augmentation import *  # noqa: F401,F403
from .viewers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from . import activations, kernels, layers, integrators, linops, loss, regularization, optim
from . import objectives, data, augmentation, viewers, utils, experiments, backend

__version__ = "0.1.0"
