"""The circle example with a third, zero feature (port of Meganet.m's examples/EResNN_Circle3.m).

As ``EResNN_Circle`` with the points lifted to 3-D by a zero coordinate, so the ResNN
(``nt = 10`` steps up to ``T = 20``, 3x3 dense kernel) can move them out of the plane;
trust-region Newton with GMRES(10), at most 500 work units.

    python drivers/EResNN_Circle3.py [--maxWorkUnits 500] [--plot circle3.png]
"""

import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from EResNN_Circle import main as circleMain  # noqa: E402
from EResNN_Circle import plotToy, toyVarPro  # noqa: E402


def EResNN_Circle3(maxWorkUnits=500, nTrain=1000, nVal=200, plot=None):
    """Returns the validation accuracy (%)."""
    Ytrain, Ctrain, Yv, Cv = mg.setupCircle(nTrain, nVal, rng=20)
    Ytrain = np.column_stack([Ytrain, np.zeros(Ytrain.shape[0])])
    Yv = np.column_stack([Yv, np.zeros(Yv.shape[0])])
    Ctrain, Cv = Ctrain[:, :1], Cv[:, :1]
    T, nt = 20.0, 10
    nf = Ytrain.shape[1]
    layer = mg.SingleLayer(mg.Dense((nf, nf)), Bin=np.eye(nf))
    net = mg.ResNN(layer, nt, T / nt)
    pLoss = mg.LogRegressionLoss()
    pRegK = mg.TikhonovReg(mg.opTimeDer(net.nTheta(), net.nt, net.h), 1e-2)
    opt = mg.TRNewton(
        linSol=mg.GMRES(m=10), out=1, atol=1e-10, rtol=1e-10, maxIter=np.inf, maxWorkUnits=maxWorkUnits
    )
    theta, WOpt, acc, His = toyVarPro(net, pRegK, pLoss, Ytrain, Ctrain, Yv, Cv, opt)
    print(f"validation accuracy: {acc:.1f} %")
    if plot:
        plotToy(plot, net, theta, WOpt, pLoss, Yv, Cv, (-2, 2, -1, 1))
    return acc


def main(argv=None):
    return circleMain(argv, EResNN_Circle3, 500)


if __name__ == "__main__":
    main()
