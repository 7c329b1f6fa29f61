"""A plain CNN on MNIST (port of Meganet.m's examples/ECNN_MNIST_tf.m).

Two 5x5 convolution layers (1 -> 32 -> 64 channels, ReLU), 2x average pooling after the
first and averaging over all pixels after the second, softmax classifier; no
regularization; ADAM with learning rate 0.1/sqrt(epoch), batch 64, 20 epochs, on 1024
training and 32 validation images. Without the MNIST files it runs on the embedded
Fashion-MNIST subset.

    python drivers/ECNN_MNIST_tf.py [--epochs 20] [--ntrain 1024] [--nval 32]
"""

import argparse
import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import _SETUP, availableDataset  # noqa: E402


def ECNN_MNIST_tf(nTrain=2**10, nVal=2**5, epochs=20, useGPU=False, precision="single", rng=None,
                  dataset="mnist", widths=(32, 64), lastPool=None, init=1e-2, lr0=1e-1, miniBatch=64,
                  mpi=None):
    """Train the CNN; returns ``(xOpt, His)``. The keywords after ``rng`` select the CIFAR-10 variant;
    ``mpi``: data-parallel over MPI (:class:`~meganet.DriverMPI`; None: when started by mpiexec)."""
    par = mg.DriverMPI.of(mpi)
    rng = par.rng(rng)
    data = availableDataset(dataset)
    Y, C = _SETUP[data](nTrain + nVal, 0, precision=precision, rng=rng)[:2]
    nImg, ncin = Y.shape[1:3], Y.shape[3]
    Y = mg.normalizeData(Y, int(np.prod(nImg)) * ncin)
    ids = rng.permutation(C.shape[0])
    idt, idv = ids[:nTrain], ids[nTrain:]
    Yt, Ct, Yv, Cv = mg.gpuVar(useGPU, precision, Y[idt], C[idt], Y[idv], C[idv])

    # network: conv 5x5 + relu, 2x pooling, conv 5x5 + relu, pooling
    kw = dict(useGPU=useGPU, precision=precision)
    act = mg.reluActivation
    n2 = (nImg[0] // 2, nImg[1] // 2)
    blocks = [mg.NN([mg.SingleLayer(mg.Conv2D(nImg, (5, 5, ncin, widths[0]), **kw), activation=act)]),
              mg.Connector(mg.opPool(nImg + (widths[0],), 2, **kw)),
              mg.NN([mg.SingleLayer(mg.Conv2D(n2, (5, 5, widths[0], widths[1]), **kw), activation=act)]),
              mg.Connector(mg.opPool(n2 + (widths[1],), n2[0] if lastPool is None else lastPool, **kw))]
    net = mg.Meganet(blocks, **kw)
    pLoss = mg.SoftmaxLoss()
    fctn = par.wrap(mg.DnnBatchObjFctn(net, None, pLoss, None, Yt, Ct, batchSize=256))
    fval = par.wrap(mg.DnnBatchObjFctn(net, None, pLoss, None, Yv, Cv, batchSize=256))

    theta = init * rng.standard_normal(net.nTheta())
    W = init * rng.standard_normal(C.shape[1] * (net.numelFeatOut() + 1))
    opt = mg.SGD(learningRate=lambda epoch: lr0 / np.sqrt(epoch), maxEpochs=epochs, nesterov=False, ADAM=True,
                 miniBatch=miniBatch, momentum=0.9, out=1, rng=rng)
    x0 = mg.gpuVar(useGPU, precision, np.concatenate([theta, W]))
    xc, His, xOpt = opt.solve(fctn, x0, fval)
    acc = His["val accuracy"][-1]
    if mg.isWritingRank(fctn):
        print(f"validation accuracy after {epochs} epochs: {acc:.1f} %")
    return mg.toHost(xOpt), His


def main(argv=None, fn=None):
    """Command line of ECNN_MNIST_tf and ECNN_CIFAR10_tf (``fn``)."""
    fn = fn or ECNN_MNIST_tf
    p = argparse.ArgumentParser(description=sys.modules[fn.__module__].__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--ntrain", type=int, default=2**10)
    p.add_argument("--nval", type=int, default=2**5)
    p.add_argument("--seed", type=int, default=0)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    return fn(args.ntrain, args.nval, args.epochs, rng=args.seed, mpi=args.mpi)


if __name__ == "__main__":
    main()
