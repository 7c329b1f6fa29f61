"""STL-10 experiments of the paper (port of Meganet.m's examples/2018-jmiv/runSTL10.m).

Parabolic, leapfrog and Hamiltonian CNNs (widths 16, 32, 64, 128, 128; 5 steps of size 1)
trained without augmentation on 500, 1000, ..., 4000 images (1,000 for validation) -- the
study of accuracy against training size -- then with augmentation (random flips and crops
by 12 pixels) on 4,000 (+1,000 validation) and on all 5,000 images. SGD
(:func:`cnnDriver.jmivOptimizer`): batch 32, momentum 0.9, |theta| <= 1, learning rate
0.05 for 40 epochs, then 0.05 * 1.5^-k for 10 epochs each (k = 1..14). ``--epochs`` and
``--ntrain``/``--nval`` (one pass without augmentation) shorten it.

    python drivers/runSTL10.py --epochs 2 --ntrain 500 --nval 100       # (needs STL-10)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import jmivOptimizer, jmivRuns, runMain  # noqa: E402


def runSTL10(epochs=None, ntrain=None, nval=None, useGPU=False, precision="single", resDir=None, **kw):
    """The runs of runSTL10.m; returns ``{(dynamic, ntrain): (xc, His, xOptAcc)}``."""
    opt = jmivOptimizer(14, 10, epochs)
    nf = [16, 32, 64, 128, 128]

    alpha = (4e-4, 4e-4, 1e-4)
    if ntrain is not None:
        return jmivRuns("stl10", zip(ntrain, nval), nf, 5, opt, False, alpha, useGPU, precision, resDir, **kw)
    # accuracy against training size without augmentation, then 4000 + 1000 and 5000 + 0 with augmentation
    out = jmivRuns("stl10", [(n, 1000) for n in range(500, 4001, 500)], nf, 5, opt, False, alpha, useGPU,
                   precision, resDir, **kw)
    out.update(jmivRuns("stl10", [(4000, 1000), (5000, 0)], nf, 5, opt, None, alpha, useGPU, precision,
                        resDir, dynamics=("hamiltonian", "leapfrog", "parabolic"), crop=12, **kw))
    return out


def main(argv=None):
    return runMain(runSTL10, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    main()
