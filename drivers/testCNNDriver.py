"""Small-scale test of cnnDriver (port of Meganet.m's examples/2018-jmiv/testCNNDriver.m).

Trains each dynamic (parabolic, leapfrog, Hamiltonian) on each data set (STL-10, CIFAR-10,
CIFAR-100) with 100 training and 100 validation images, widths 2*[4 8 14 14], 3 steps of
size 0.1, augmentation, 10 epochs of SGD (learning rate 0.01, batch 10). Data sets that are
not installed are replaced by the Fashion-MNIST subset embedded in the repository (with
widths 2*[4 8 14]: 28x28 images allow two poolings), which is said.

    python drivers/testCNNDriver.py [--epochs 10] [--ntrain 100] [--nval 100]
"""

import argparse
import os
import sys

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import availableDataset, cnnDriver  # noqa: E402


def testCNNDriver(epochs=10, ntrain=100, nval=100, datasets=("stl10", "cifar10", "cifar100"),
                  dynamics=("parabolic", "leapfrog", "hamiltonian"), useGPU=False, precision="single"):
    """Returns ``{(dataset, dynamic): His}``."""
    alpha = (2e-4, 2e-4, 2e-4)
    out = {}
    for dataset in datasets:
        data = availableDataset(dataset)
        nf = [8, 16, 28, 28] if data == dataset else [8, 16, 28]

        def augment(Y):
            return mg.randomCrop(mg.randomFlip(Y, 0.5), 4)

        for dynamic in dynamics:
            opt = mg.SGD(learningRate=1e-2, maxEpochs=epochs, out=1, miniBatch=10)
            xc, His, xOptAcc = cnnDriver(
                data, dynamic, ntrain, nval, nf, 3, 0.1, useGPU, precision, opt, augment, alpha, None, None
            )
            out[dataset, dynamic] = His
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--ntrain", type=int, default=100)
    p.add_argument("--nval", type=int, default=100)
    p.add_argument("--datasets", nargs="+", default=["stl10", "cifar10", "cifar100"])
    args = p.parse_args(argv)
    return testCNNDriver(args.epochs, args.ntrain, args.nval, tuple(args.datasets))


if __name__ == "__main__":
    main()
