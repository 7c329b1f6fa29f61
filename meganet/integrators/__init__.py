"""Integrators: networks, blocks and time-stepping blocks (Meganet.m's integrators)."""
from .nn import NN
from .connector import Connector
from .meganet import Meganet
from .timeSteppingBlock import LayerStep, LayerSteppingBlock, TimeSteppingBlock
from .resNN import ResNN
from .resNNrk4 import ResNNrk4
from .hamiltonianNN import HamiltonianNN
from .doubleHamiltonianNN import DoubleHamiltonianNN
from .leapFrogNN import LeapFrogNN

__all__ = ["NN", "Connector", "Meganet", "TimeSteppingBlock", "LayerSteppingBlock", "LayerStep",
           "ResNN", "ResNNrk4", "HamiltonianNN", "DoubleHamiltonianNN", "LeapFrogNN"]
