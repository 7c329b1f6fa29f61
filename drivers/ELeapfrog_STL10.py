"""STL-10 second-order CNN (port of Meganet.m's examples/ELeapfrog_STL10.m, with the paper's setup).

Leapfrog steps Y_(j+1) = 2 Y_j - Y_(j-1) - h^2 K^T relu(N(K Y_j)) of a second-order (wave-like)
PDE in each of four units (reversible); the images are not normalized, as in Meganet.m.

    python drivers/ELeapfrog_STL10.py                          # Meganet.m's minimal example
    python drivers/ELeapfrog_STL10.py --ntrain 4000 --nval 1000 --nf0 16 --gpu

Inputs and outputs as Meganet.m's (see ``cnnDriver.stl10Experiment``).
"""

import os
import sys

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import stl10Experiment, stl10Main  # noqa: E402


def ELeapfrog_STL10(ntrain=4000, nval=1000, nf0=16, nt=3, useGPU=False, precision="single", opt=None,
                    resFile=None, instNorm=False, **kw):
    """Leapfrog CNN on STL-10; returns ``(xc, His, xOpt)`` (see ``cnnDriver``; ``**kw`` go there)."""
    # nf = nf0*[1 4 8 16 16]; LeapFrogNN of DoubleSymLayer per unit
    return stl10Experiment("leapfrog", [1, 4, 8, 16, 16], False, ntrain, nval, nf0, nt, useGPU, precision,
                           opt, resFile, instNorm=instNorm, **kw)


def minimalExample():
    """Meganet.m's ``ELeapfrog_STL10()`` without arguments."""
    opt = mg.SGD(learningRate=1e-1, maxEpochs=4, out=1, miniBatch=100)
    return ELeapfrog_STL10(100, 100, 2, 3, False, "single", opt, None)


def main(argv=None):
    return stl10Main(ELeapfrog_STL10, __doc__.split("\n\n")[0], minimalExample, argv)


if __name__ == "__main__":
    main()
