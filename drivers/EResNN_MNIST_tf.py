"""A residual network on MNIST at full resolution (port of Meganet.m's examples/EResNN_MNIST_tf.m).

A 1x1 convolution lifts the image to ``nc = 8`` channels (ReLU, one bias per channel), a
ResNN block of ``nt = 4`` steps of size ``h = 0.1`` evolves them (dynamic 'singleLayer':
``Y <- Y + h relu(K Y + b)`` with a 3x3 convolution ``K``), and a softmax classifier reads
all 28x28x8 features. Tikhonov regularization 2e-4 of the opening kernel, of the time
derivative of the ResNN weights and of the classifier (without its bias); plain SGD
(no momentum) with learning rate 0.1/sqrt(epoch/2), batch 128, 50 epochs, on 2^12
training images, validated on the test images. Without the MNIST files it runs on the
embedded Fashion-MNIST subset.

    python drivers/EResNN_MNIST_tf.py [--epochs 50] [--ntrain 4096] [--ntest 2000]
"""

import argparse
import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import _SETUP, availableDataset  # noqa: E402


def EResNN_MNIST_tf(
    nTrain=2**12, nTest=None, epochs=50, dynamic="singleLayer", useGPU=False, precision="single", rng=None,
    mpi=None
):
    """Train the network; returns ``(xOpt, His)``. ``dynamic``: 'singleLayer' or 'parabolic';
    ``mpi``: data-parallel over MPI (:class:`~meganet.DriverMPI`; None: when started by mpiexec)."""
    par = mg.DriverMPI.of(mpi)
    rng = par.rng(rng)
    data = availableDataset("mnist")
    Y0, C, Ytest, Ctest = _SETUP[data](nTrain, nTest, precision=precision, rng=rng)
    Y0, C, Ytest, Ctest = mg.gpuVar(useGPU, precision, Y0, C, Ytest, Ctest)
    nImg = Y0.shape[1:3]
    kw = dict(useGPU=useGPU, precision=precision)
    miniBatchSize = 128
    act = mg.reluActivation
    nc, nt, h = 8, 4, 0.1
    B = mg.opCNNBias(nImg + (nc,), **kw)

    K0 = mg.Conv2D(nImg, (1, 1, 1, nc), **kw)
    blocks = [mg.NN([mg.SingleLayer(K0, activation=act, Bin=B)], **kw)]
    regs = [mg.TikhonovReg(mg.opDiag(np.r_[np.ones(K0.nTheta()), np.zeros(nc)], **kw), 2e-4)]
    K = mg.Conv2D(nImg, (3, 3, nc, nc), **kw)
    if dynamic == "singleLayer":
        layer = mg.SingleLayer(K, Bin=B, activation=act)
    elif dynamic == "parabolic":
        layer = mg.DoubleSymLayer(K, Bin=B, activation=act)
    else:
        raise ValueError(f"EResNN_MNIST_tf: unknown dynamic {dynamic!r}; choose 'singleLayer' or 'parabolic'")
    blocks.append(mg.ResNN(layer, nt, h, **kw))
    regs.append(mg.TikhonovReg(mg.opTimeDer(blocks[-1].nTheta(), nt, h, **kw), 2e-4))
    net = mg.Meganet(blocks, **kw)
    pLoss = mg.SoftmaxLoss()
    nW = 10 * (net.numelFeatOut() + 1)
    regDW = np.tile(np.r_[np.ones(net.numelFeatOut()), 0.0], 10)  # the biases are not regularized
    pRegW = mg.TikhonovReg(mg.opDiag(regDW, **kw), 2e-4)
    pRegKb = mg.BlockReg(regs)

    fctn = par.wrap(mg.DnnBatchObjFctn(net, pRegKb, pLoss, pRegW, Y0, C, batchSize=256))
    fval = par.wrap(mg.DnnBatchObjFctn(net, None, pLoss, None, Ytest, Ctest, batchSize=256))
    theta = mg.toHost(net.initTheta(rng=rng))
    W = np.clip(0.1 * rng.standard_normal(nW), -0.2, 0.2)
    opt = mg.SGD(learningRate=lambda epoch: 0.1 / np.sqrt(0.5 * epoch), maxEpochs=epochs, nesterov=False,
                 ADAM=False, miniBatch=miniBatchSize, momentum=0.0, out=1, rng=rng)
    xc, His, xOpt = opt.solve(fctn, mg.gpuVar(useGPU, precision, np.concatenate([theta, W])), fval)
    if mg.isWritingRank(fctn):
        print(f"test accuracy after {epochs} epochs: {His['val accuracy'][-1]:.1f} %")
    return mg.toHost(xOpt), His


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--ntrain", type=int, default=2**12)
    p.add_argument("--ntest", type=int)
    p.add_argument("--dynamic", default="singleLayer", choices=["singleLayer", "parabolic"])
    p.add_argument("--seed", type=int, default=0)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    return EResNN_MNIST_tf(args.ntrain, args.ntest, args.epochs, args.dynamic, rng=args.seed, mpi=args.mpi)


if __name__ == "__main__":
    main()
