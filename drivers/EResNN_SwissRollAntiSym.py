"""The multilevel Swiss-roll example with an antisymmetric kernel (port of Meganet.m's
examples/EResNN_SwissRollAntiSym.m).

As ``EResNN_SwissRollResNN`` with ``K = A - A^T - 1e-4 I`` (stable forward propagation:
the eigenvalues of ``K`` have non-positive real parts), zero initial weights and
regularization ``h * 5e-4`` of the time derivative.

    python drivers/EResNN_SwissRollAntiSym.py [--minLevel 4] [--maxLevel 10] [--maxIter 100]
"""

import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import EResNN_SwissRollResNN as base  # noqa: E402


def EResNN_SwissRollAntiSym(minLevel=4, maxLevel=10, maxIter=100, plot=None):
    """Returns the validation accuracy (%) after each level."""
    Ytrain, Ctrain, Yv, Cv = base.swissRoll(2)
    T = 20.0
    nt = 2**minLevel
    nf = Ytrain.shape[1]
    layer = mg.SingleLayer(mg.getDenseAntiSym((nf, nf)), Bin=np.ones((nf, 1)))
    net = mg.ResNN(layer, nt, T / nt)
    theta = 0 * net.initTheta()
    return base.multilevelVarPro(
        net, theta, 5e-4, 1e-3, minLevel, maxLevel, maxIter, Ytrain, Ctrain, Yv, Cv, plot
    )


def main(argv=None):
    return base.main(argv, EResNN_SwissRollAntiSym)


if __name__ == "__main__":
    main()
