"""CIFAR-10 experiments of the paper (port of Meganet.m's examples/2018-jmiv/runCIFAR10.m).

Trains the parabolic, leapfrog and Hamiltonian CNNs (widths 32, 64, 112, 112; 3 steps of
size 1; weight decay and time smoothness 2e-4) with augmentation (random flips and crops
by 4 pixels), first on 40,000 training images with 10,000 for validation, then on all
50,000. SGD (:func:`cnnDriver.jmivOptimizer`): batch 32, momentum 0.9, |theta| <= 1,
learning rate 0.05 for 40 epochs, then 0.05 * 1.5^-k for 10 epochs each (k = 1..14). This
takes days on a CPU; ``--epochs`` and ``--ntrain``/``--nval`` shorten it.

    python drivers/runCIFAR10.py --epochs 2 --ntrain 500 --nval 100     # (needs CIFAR-10)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import jmivOptimizer, jmivRuns, runMain  # noqa: E402


def runCIFAR10(
    epochs=None, ntrain=(40000, 50000), nval=(10000, 0), useGPU=False, precision="single", resDir=None, **kw
):
    """The six runs of runCIFAR10.m; returns ``{(dynamic, ntrain): (xc, His, xOptAcc)}``."""
    opt = jmivOptimizer(14, 10, epochs)
    alpha = (2e-4, 2e-4, 2e-4)

    return jmivRuns("cifar10", zip(ntrain, nval), [32, 64, 112, 112], 3, opt, None, alpha, useGPU,
                    precision, resDir, **kw)


def main(argv=None):
    return runMain(runCIFAR10, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    main()
