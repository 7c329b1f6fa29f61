"""Separate an ellipse from a ring with a residual network (port of Meganet.m's examples/EResNN_Circle.m).

A ResNN of ``nt = 8`` steps up to ``T = 20`` of the layer ``Y <- Y + h tanh(K Y + b)``
(2x2 dense kernel ``K``, bias ``b`` per feature) moves the 2-D points until a linear
logistic classifier separates them. Variable projection (the classifier is solved for
inside) with trust-region Newton (GMRES steps) on the network weights, regularized by
the time derivative of the weights (1e-2); at most 2000 work units.

    python drivers/EResNN_Circle.py [--maxWorkUnits 2000] [--plot circle.png]
"""

import argparse
import sys

import numpy as np

import meganet as mg


def toyVarPro(net, pRegK, pLoss, Ytrain, Ctrain, Yv, Cv, opt, alphaW=1e-2, th0=None, classSolver=None):
    """Variable projection of the toy drivers: ``(theta, WOpt, accuracy on (Yv, Cv), His)``."""
    nW = (int(np.prod(net.sizeFeatOut())) + 1) * Ctrain.shape[1]
    pRegW = mg.TikhonovReg(mg.opEye(nW), alphaW)
    if classSolver is None:
        classSolver = mg.TRNewton(atol=1e-10, rtol=1e-10, maxIter=100)
    fctn = mg.DnnVarProObjFctn(net, pRegK, pLoss, pRegW, classSolver, Ytrain, Ctrain, nW, gnHessian=True)
    fval = mg.DnnObjFctn(net, None, pLoss, None, Yv, Cv)
    th0 = net.initTheta(rng=20) if th0 is None else th0
    theta, His, _ = opt.solve(fctn, th0, fval)
    WOpt = fctn.solveW(theta)[0]
    acc = float(
        pLoss.hisVals(
            pLoss.getMisfit(
                WOpt, net.forwardProp(theta, Yv)[0].reshape(Yv.shape[0], -1), Cv, doDerivative=False
            )[1]
        )[1]
    )
    return theta, WOpt, acc, His


def plotToy(filename, net, theta, WOpt, pLoss, Yv, Cv, box):
    """Validation points and the classification of the plane (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(box[0], box[1], 121)
    y = np.linspace(box[2], box[3], 121)
    X, Yg = np.meshgrid(x, y)
    P = np.column_stack([X.ravel(), Yg.ravel()])
    if net.sizeFeatIn()[0] > 2:
        P = np.column_stack([P, np.zeros((P.shape[0], net.sizeFeatIn()[0] - 2))])
    Z = mg.toHost(pLoss.getLabels(WOpt, net.forwardProp(theta, P)[0]))
    Yn = mg.toHost(net.forwardProp(theta, Yv)[0])
    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    ax[0].contourf(X, Yg, Z[:, 0].reshape(X.shape), alpha=0.3, cmap="coolwarm")
    ax[0].scatter(Yv[:, 0], Yv[:, 1], c=Cv[:, 0], s=6, cmap="coolwarm")
    ax[0].set_title("classification result")
    ax[1].scatter(Yn[:, 0], Yn[:, 1], c=Cv[:, 0], s=6, cmap="coolwarm")
    ax[1].set_title("output features")
    fig.tight_layout()
    fig.savefig(filename, dpi=100)
    plt.close(fig)


def EResNN_Circle(maxWorkUnits=2000, nTrain=1000, nVal=200, plot=None):
    """Returns the validation accuracy (%)."""
    Ytrain, Ctrain, Yv, Cv = mg.setupCircle(nTrain, nVal, rng=20)
    Ctrain, Cv = Ctrain[:, :1], Cv[:, :1]
    T, nt = 20.0, 8
    K = mg.Dense((2, 2))
    layer = mg.SingleLayer(K, Bin=np.eye(2))
    net = mg.ResNN(layer, nt, T / nt)
    pLoss = mg.LogRegressionLoss()
    pRegK = mg.TikhonovReg(mg.opTimeDer(net.nTheta(), net.nt, net.h), 1e-2)
    opt = mg.TRNewton(linSol=mg.GMRES(m=20, tol=1e-2), out=1, atol=1e-10, rtol=1e-10, maxIter=np.inf,
                      maxWorkUnits=maxWorkUnits)
    theta, WOpt, acc, His = toyVarPro(net, pRegK, pLoss, Ytrain, Ctrain, Yv, Cv, opt)
    print(f"validation accuracy: {acc:.1f} %")
    if plot:
        plotToy(plot, net, theta, WOpt, pLoss, Yv, Cv, (-2, 2, -1, 1))
    return acc


def main(argv=None, fn=None, maxWorkUnits=2000):
    """Command line of EResNN_Circle and EResNN_Circle3 (``fn``)."""
    fn = fn or EResNN_Circle
    p = argparse.ArgumentParser(description=sys.modules[fn.__module__].__doc__.split("\n\n")[0])
    p.add_argument("--maxWorkUnits", type=float, default=maxWorkUnits)
    p.add_argument("--ntrain", type=int, default=1000)
    p.add_argument("--nval", type=int, default=200)
    p.add_argument("--plot", help="write the classification figure to this PNG (matplotlib)")
    args = p.parse_args(argv)
    return fn(args.maxWorkUnits, args.ntrain, args.nval, args.plot)


if __name__ == "__main__":
    main()
