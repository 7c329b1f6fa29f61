"""Classify the Swiss roll with a multilevel ResNN (port of Meganet.m's examples/EResNN_SwissRollResNN.m).

The two spirals, lifted to 4-D by two zero features, are moved by a ResNN of the layer
``Y <- Y + h tanh(K Y + b)`` (4x4 dense ``K``) up to ``T = 20``, then classified by
logistic regression. Multilevel in time: training starts with ``nt = 2^minLevel`` steps;
after each level the weights are prolongated to twice as many steps of half the size
(linear interpolation in time) and training continues. Variable projection with
Newton-CG (20 PCG steps, preconditioned by the inverse of the time-derivative
regularizer), regularization ``h * 5e-3`` of the time derivative, 100 iterations per level.

    python drivers/EResNN_SwissRollResNN.py [--minLevel 4] [--maxLevel 10] [--maxIter 100]
"""

import argparse
import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from EResNN_Circle import plotToy  # noqa: E402


def multilevelVarPro(net, theta, alpha, alphaW, minLevel, maxLevel, maxIter, Ytrain, Ctrain, Yv, Cv,
                     plot=None, LSgamma=1e-3, LSmaxIter=10):
    """Meganet.m's multilevel training loop of the Swiss-roll examples; returns the accuracies per level."""
    pLoss = mg.LogRegressionLoss()
    nW = (int(np.prod(net.sizeFeatOut())) + 1) * Ctrain.shape[1]
    pRegW = mg.TikhonovReg(mg.opEye(nW), alphaW)
    pRegK = mg.TikhonovReg(mg.opTimeDer(net.nTheta(), net.nt, net.h), net.h * alpha)
    classSolver = mg.Newton(maxIter=4, linSol=mg.SteihaugPCG(maxIter=3))
    fctn = mg.DnnVarProObjFctn(net, pRegK, pLoss, pRegW, classSolver, Ytrain, Ctrain, nW, gnHessian=True)
    fval = mg.DnnObjFctn(net, None, pLoss, None, Yv, Cv)
    opt = mg.Newton(out=2, atol=1e-16, maxIter=maxIter, linSol=mg.SteihaugPCG(tol=0.01, maxIter=20),
                    LS=mg.Armijo(gamma=LSgamma, maxIter=LSmaxIter))
    accs = []
    for level in range(minLevel, maxLevel + 1):
        B = fctn.pRegTheta.B
        h = net.h

        def PCfun(x, B=B, h=h):
            return B.PCmv(x, alpha**2, h * 1e-1)

        opt.linSol.PC = mg.LinearOperator((net.nTheta(),), (net.nTheta(),), PCfun, PCfun)
        theta, His, _ = opt.solve(fctn, theta, fval)
        WOpt = fctn.solveW(theta)[0]
        Yn = net.forwardProp(theta, Yv)[0]
        acc = float(pLoss.hisVals(pLoss.getMisfit(WOpt, Yn, Cv, doDerivative=False)[1])[1])
        accs.append(acc)
        print(f"level {level}: nt = {net.nt}, validation accuracy {acc:.1f} %")
        if plot:
            base, ext = os.path.splitext(plot)
            plotToy(
                f"{base}-level{level}{ext or '.png'}", net, theta, WOpt, pLoss, Yv, Cv, (-1.2, 1.2, -1.2, 1.2)
            )
        if level < maxLevel:
            theta = net.prolongateWeights(theta)  # doubles nt, halves h (net is changed)
            fctn.pRegTheta.B = mg.opTimeDer(net.nTheta(), net.nt, net.h)
            fctn.pRegTheta.alpha = net.h * alpha
            fctn.WPrev = None
    return accs


def swissRoll(nZeros):
    """The Swiss roll with ``nZeros`` zero features appended; labels of the first class."""
    Ytrain, Ctrain, Yv, Cv = mg.setupSwissRoll(256)
    Ytrain = np.column_stack([Ytrain, np.zeros((Ytrain.shape[0], nZeros))])
    Yv = np.column_stack([Yv, np.zeros((Yv.shape[0], nZeros))])
    return Ytrain, Ctrain[:, :1], Yv, Cv[:, :1]


def EResNN_SwissRollResNN(minLevel=4, maxLevel=10, maxIter=100, plot=None):
    """Returns the validation accuracy (%) after each level."""
    Ytrain, Ctrain, Yv, Cv = swissRoll(2)
    T = 20.0
    nt = 2**minLevel
    nf = Ytrain.shape[1]
    layer = mg.SingleLayer(mg.Dense((nf, nf)), Bin=np.ones((nf, 1)))
    net = mg.ResNN(layer, nt, T / nt)
    theta = np.tile(np.r_[-np.eye(nf).ravel(), 0.0], nt) / 100
    return multilevelVarPro(
        net, theta, 5e-3, 1e-3, minLevel, maxLevel, maxIter, Ytrain, Ctrain, Yv, Cv, plot, LSgamma=0
    )


def main(argv=None, fn=None, defaults=(4, 10)):
    p = argparse.ArgumentParser(
        description=(__doc__ if fn is None else sys.modules[fn.__module__].__doc__).split("\n\n")[0]
    )
    p.add_argument("--minLevel", type=int, default=defaults[0])
    p.add_argument("--maxLevel", type=int, default=defaults[1])
    p.add_argument("--maxIter", type=int, default=100, help="Newton iterations per level")
    p.add_argument("--plot", help="write one classification figure per level (PNG, matplotlib)")
    args = p.parse_args(argv)
    return (fn or EResNN_SwissRollResNN)(args.minLevel, args.maxLevel, args.maxIter, args.plot)


if __name__ == "__main__":
    main()
