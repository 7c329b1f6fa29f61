"""STL-10 Hamiltonian CNN (port of Meganet.m's examples/EHamiltonian_STL10.m, with the paper's setup).

Verlet steps of a Hamiltonian system on the two halves of the channels (reversible: the
backward sweep recomputes the states) in each of four units; the images are not normalized,
as in Meganet.m.

    python drivers/EHamiltonian_STL10.py                          # Meganet.m's minimal example
    python drivers/EHamiltonian_STL10.py --ntrain 4000 --nval 1000 --nf0 16 --gpu

Inputs and outputs as Meganet.m's (see ``cnnDriver.stl10Experiment``).
"""

import os
import sys

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import stl10Experiment, stl10Main  # noqa: E402


def EHamiltonian_STL10(ntrain=4000, nval=1000, nf0=16, nt=3, useGPU=False, precision="single", opt=None,
                       resFile=None, instNorm=False, **kw):
    """Hamiltonian CNN on STL-10; returns ``(xc, His, xOpt)`` (see ``cnnDriver``; ``**kw`` go there)."""
    # nf = nf0*[1 4 8 16 16]; DoubleHamiltonianNN of two DoubleSymLayers on nf/2 channels per unit
    return stl10Experiment("hamiltonian", [1, 4, 8, 16, 16], False, ntrain, nval, nf0, nt, useGPU, precision,
                           opt, resFile, instNorm=instNorm, **kw)


def minimalExample():
    """Meganet.m's ``EHamiltonian_STL10()`` without arguments."""
    opt = mg.SGD(learningRate=1e-1, maxEpochs=4, out=1, miniBatch=125)
    return EHamiltonian_STL10(125, 125, 2, 2, False, "single", opt, None)


def main(argv=None):
    return stl10Main(EHamiltonian_STL10, __doc__.split("\n\n")[0], minimalExample, argv)


if __name__ == "__main__":
    main()
