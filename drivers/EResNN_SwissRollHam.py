"""The multilevel Swiss-roll example with a Hamiltonian network (port of Meganet.m's
examples/EResNN_SwissRollHam.m).

The 2-D points are moved by a HamiltonianNN (Verlet steps ``Z <- Z - h tanh(K^T Y + b)``,
``Y <- Y + h tanh(K Z + b)``, 2x2 dense ``K``) up to ``T = 20``, starting from
``K = I`` at every step, and classified by logistic regression; multilevel in time from
``nt = 2^4`` to ``2^6`` steps (the weights prolongated by linear interpolation in time).

    python drivers/EResNN_SwissRollHam.py [--minLevel 4] [--maxLevel 6] [--maxIter 100]
"""

import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import EResNN_SwissRollResNN as base  # noqa: E402


def EResNN_SwissRollHam(minLevel=4, maxLevel=6, maxIter=100, plot=None):
    """Returns the validation accuracy (%) after each level."""
    Ytrain, Ctrain, Yv, Cv = base.swissRoll(0)
    T = 20.0
    nt = 2**minLevel
    nf = Ytrain.shape[1]
    net = mg.HamiltonianNN(mg.tanhActivation, mg.Dense((nf, nf)), np.ones((nf, 1)), nt, T / nt)
    theta = np.tile([1.0, 0.0, 0.0, 1.0, 0.0], nt)
    return base.multilevelVarPro(
        net, theta, 5e-3, 1e-4, minLevel, maxLevel, maxIter, Ytrain, Ctrain, Yv, Cv, plot, LSmaxIter=20
    )


def main(argv=None):
    return base.main(argv, EResNN_SwissRollHam, (4, 6))


if __name__ == "__main__":
    main()
