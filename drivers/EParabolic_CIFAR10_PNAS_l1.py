"""Parabolic CNN on CIFAR-10 with total variation in time (port of Meganet.m's
examples/EParabolic_CIFAR10_PNAS_l1.m).

The paper's parabolic network (widths 16, 64, 128, 256, 256; four units of 3 steps of
size 1, TV normalization in the PDE blocks, batch normalization in the opening and
connector layers) trained on ``nex`` CIFAR-10 images without normalization or
augmentation, validated on the 10,000 test images; smoothed total variation in time 3e-4
and weight decay 5e-4; SGD (momentum 0.9, batch 125, |theta| <= 1) with learning rate 0.1
for 60 epochs, then 0.01 for 20 and 0.001 for 40. ``doTest`` keeps two epochs. Results of
the final and the best iterate are written to ``EParabolic_CIFAR10_PNAS_l1-nex-<nex>.h5``.

    python drivers/EParabolic_CIFAR10_PNAS_l1.py                 # nex = 100, doTest
    python drivers/EParabolic_CIFAR10_PNAS_l1.py --nex 50000
    mpiexec -n 4 python -m mpi4py drivers/EParabolic_CIFAR10_PNAS_l1.py --nex 50000   # data-parallel
"""

import argparse
import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import availableDataset, cnnDriver  # noqa: E402


def EParabolic_CIFAR10_PNAS_l1(
    nex, doTest=False, ntest=10000, useGPU=False, precision="single", resFile=None, **kw
):
    """Train on ``nex`` images; returns ``(xc, His, xOpt)``."""
    lr = np.r_[0.1 * np.ones(60), 0.01 * np.ones(20), 0.001 * np.ones(20), 0.001 * np.ones(20)]
    if doTest:
        lr = lr[:2]
    opt = mg.SGD(nesterov=False, ADAM=False, miniBatch=125, out=1, learningRate=lambda epoch: lr[epoch - 1],
                 maxEpochs=len(lr), P=mg.ProjBound(-1, 1))
    dataset = availableDataset("cifar10")
    nf = [16, 64, 128, 256, 256] if dataset == "cifar10" else [16, 64, 128, 256]
    if dataset != "cifar10" and ntest >= 10000:
        ntest = None  # all test images of the embedded subset
    if resFile is None:
        resFile = f"EParabolic_CIFAR10_PNAS_l1-nex-{nex}"
    return cnnDriver(dataset, "parabolic", nex, 0, nf, 3, 1.0, useGPU, precision, opt, False, (5e-4, 5e-4,
                     3e-4), mg.BatchNormLayer, resFile or None, ntest=ntest, normalize=False, **kw)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nex", type=int, help="training images (none: 100 with --doTest)")
    p.add_argument("--doTest", action="store_true", help="two epochs only")
    p.add_argument("--ntest", type=int, default=10000)
    p.add_argument("--res-file", default=None)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    if args.nex is None:
        args.nex, args.doTest = 100, True
    return EParabolic_CIFAR10_PNAS_l1(args.nex, args.doTest, args.ntest, resFile=args.res_file, mpi=args.mpi)


if __name__ == "__main__":
    main()
