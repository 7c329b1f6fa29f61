"""Classify the peaks data with a residual network (port of Meganet.m's EResNN_Peaks).

A dense opening layer lifts the 2-D points to ``nc`` channels, a residual block evolves
them for time ``T`` in ``nt`` steps, and a softmax classifier predicts one of 5 height
bands of the peaks surface. Four dynamics: ``ResNN`` (forward Euler), ``antiSym-ResNN``
(Runge-Kutta 4 with an antisymmetric kernel), ``leapfrog`` and ``hamiltonian``
(reversible, DoubleSymLayer). Training as Meganet.m: variable projection (the classifier
weights are solved for inside the objective) with trust-region Newton on the network
weights (Gauss-Newton Hessian, GMRES steps), 30 iterations; or SGD with ADAM (``--opt sgd``)
or variable projection with L-BFGS (``--opt lbfgs``).

    python drivers/EResNN_Peaks.py                      # Meganet.m's example
    python drivers/EResNN_Peaks.py --dynamic leapfrog --opt sgd --epochs 40
"""
import argparse
import sys

import numpy as np

import meganet as mg


def buildNetwork(dynamic, nc=16, T=5.0, nt=8, useGPU=False, precision="double"):
    """The opening block and the residual block of the chosen dynamic."""
    kw = dict(useGPU=useGPU, precision=precision)
    block1 = mg.NN([mg.SingleLayer(mg.Dense((nc, 2), **kw))])
    if dynamic == "ResNN":
        layer = mg.SingleLayer(mg.Dense((nc, nc), **kw), Bout=np.ones((nc, 1)))
        block2 = mg.ResNN(layer, nt, T / nt)
    elif dynamic == "antiSym-ResNN":
        layer = mg.SingleLayer(mg.getDenseAntiSym((nc, nc), **kw), Bout=np.ones((nc, 1)))
        block2 = mg.ResNNrk4(layer, np.linspace(0, T, nt))
    elif dynamic == "leapfrog":
        layer = mg.DoubleSymLayer(mg.Dense((nc, nc), **kw), Bout=np.ones((nc, 1)))
        block2 = mg.LeapFrogNN(layer, nt, T / nt)
    elif dynamic == "hamiltonian":
        half = nc // 2
        layer = mg.DoubleSymLayer(mg.Dense((half, half), **kw), Bout=np.ones((half, 1)))
        block2 = mg.DoubleHamiltonianNN(layer, layer, nt, T / nt)
    else:
        raise ValueError(f"unknown dynamic {dynamic!r}; choose ResNN, antiSym-ResNN, leapfrog or hamiltonian")
    return mg.Meganet([block1, block2])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dynamic", default="antiSym-ResNN",
                   choices=["ResNN", "antiSym-ResNN", "leapfrog", "hamiltonian"])
    p.add_argument("--opt", default="varpro", choices=["varpro", "sgd", "lbfgs"],
                   help="varpro: variable projection + trust-region Newton (Meganet.m); sgd: ADAM; "
                        "lbfgs: variable projection + L-BFGS")
    p.add_argument("--ntrain", type=int, default=1000)
    p.add_argument("--nval", type=int, default=1000)
    p.add_argument("--epochs", type=int, help="SGD epochs, or iterations of trust-region Newton / L-BFGS "
                   "(default 40 epochs, 30 iterations)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    Ytrain, Ctrain = mg.setupPeaks(args.ntrain, 5, rng=args.seed)
    Yv, Cv = mg.setupPeaks(args.nval, 5, rng=args.seed + 1)
    net = buildNetwork(args.dynamic)
    nW = (net.numelFeatOut() + 1) * Ctrain.shape[1]
    pLoss = mg.SoftmaxLoss()
    pRegTh = mg.TikhonovReg(mg.opEye(net.nTheta()), alpha=1e-3)
    pRegW = mg.TikhonovReg(mg.opEye(nW), alpha=1e-3)
    fval = mg.DnnObjFctn(net, None, pLoss, None, Yv, Cv)
    th0 = net.initTheta(rng=args.seed)
    if args.opt == "sgd":
        args.epochs = 40 if args.epochs is None else args.epochs
        fctn = mg.DnnBatchObjFctn(net, pRegTh, pLoss, pRegW, Ytrain, Ctrain, batchSize=1000)
        opt = mg.SGD(maxEpochs=args.epochs, miniBatch=32, ADAM=True, nesterov=False,
                     learningRate=lambda epoch: 1e-2 if epoch <= 0.75 * args.epochs else 2e-3,
                     out=1, rng=args.seed, progress=False)
        x0 = np.concatenate([th0, np.zeros(nW)])
        xc, His, xOpt = opt.solve(fctn, x0, fval)
    else:
        maxIter = 30 if args.epochs is None else args.epochs
        if args.opt == "varpro":
            classSolver = mg.TRNewton(atol=1e-10, rtol=1e-10)
            fctn = mg.DnnVarProObjFctn(net, pRegTh, pLoss, pRegW, classSolver, Ytrain, Ctrain, nW,
                                       gnHessian=True)
            opt = mg.TRNewton(linSol=mg.GMRES(m=20), maxIter=maxIter, out=2)
        else:
            fctn = mg.DnnVarProObjFctn(net, pRegTh, pLoss, pRegW, None, Ytrain, Ctrain, nW)
            opt = mg.LBFGS(maxIter=maxIter, out=1)
        thc, His, thOpt = opt.solve(fctn, th0, fval)
        xOpt = np.concatenate([thOpt, mg.toHost(fctn.solveW(thOpt)[0])])
    Cp = fval.getLabels(xOpt)
    acc = 100.0 * np.mean(Cp.argmax(1) == Cv.argmax(1))
    print(f"validation accuracy of the best iterate: {acc:.1f}%")
    return acc


if __name__ == "__main__":
    sys.exit(0 if main() >= 0 else 1)
