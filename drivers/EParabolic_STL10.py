"""STL-10 parabolic CNN (port of Meganet.m's examples/EParabolic_STL10.m, with the paper's setup).

Forward Euler steps Y <- Y - h K^T relu(N(K Y)) of a parabolic (diffusion-like) PDE in each of
four units; the images are normalized (normalizeData) first.

    python drivers/EParabolic_STL10.py                          # Meganet.m's minimal example
    python drivers/EParabolic_STL10.py --ntrain 4000 --nval 1000 --nf0 16 --gpu

Inputs and outputs as Meganet.m's (see ``cnnDriver.stl10Experiment``).
"""

import os
import sys

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import stl10Experiment, stl10Main  # noqa: E402


def EParabolic_STL10(ntrain=4000, nval=1000, nf0=16, nt=3, useGPU=False, precision="single", opt=None,
                     resFile=None, instNorm=False, **kw):
    """parabolic CNN on STL-10; returns ``(xc, His, xOpt)`` (see ``cnnDriver``; ``**kw`` go there)."""
    # nf = nf0*[1 2 4 8 16]; ResNN of DoubleSymLayer(conv 3x3, relu, TV norm) per unit
    return stl10Experiment("parabolic", [1, 2, 4, 8, 16], True, ntrain, nval, nf0, nt, useGPU, precision, opt,
                           resFile, instNorm=instNorm, **kw)


def minimalExample():
    """Meganet.m's ``EParabolic_STL10()`` without arguments."""
    opt = mg.SGD(learningRate=1e-1, maxEpochs=4, out=1, miniBatch=100)
    return EParabolic_STL10(100, 100, 16, 3, False, "single", opt, None)


def main(argv=None):
    return stl10Main(EParabolic_STL10, __doc__.split("\n\n")[0], minimalExample, argv)


if __name__ == "__main__":
    main()
