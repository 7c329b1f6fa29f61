"""Full Fashion-MNIST benchmark: each PDE-CNN trained on the 60,000 training images within a time budget.

For each of the parabolic, Hamiltonian and leapfrog CNNs: time a few mini-batches, choose
the number of epochs that fits the budget (``--minutes``, default 60, per network),
train with SGD (momentum 0.9, |theta| <= 1) and the learning-rate schedule of ``make run``
(0.05, 0.05, 0.02, 0.005, 0.001) stretched to that number of epochs, and print the
accuracy of the final weights on the 10,000 test images with the time taken. Needs the full data set
(``apt-get install dataset-fashion-mnist``). The networks run one after the other; each
uses the BLAS threads it is given (``OMP_NUM_THREADS``).

    python benchmarks/fashion_mnist.py [--minutes 60] [--nf 16 32 64 64] [--nt 2]
"""

import argparse
import os
import sys
import time

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
from cnnDriver import cnnDriver  # noqa: E402


def epochSeconds(nf, nt, miniBatch, nTrain, nBatches=10):
    """Seconds per epoch, from ``nBatches`` mini-batches of random images (+5 % for the evaluations)."""
    net, pReg = mg.pdeCNN((28, 28), 1, nf, "hamiltonian", nt=nt, normLayer=mg.BatchNormLayer2)
    theta = net.initTheta(rng=0)
    Y = np.random.default_rng(0).standard_normal((miniBatch, 28, 28, 1)).astype(np.float32)
    net.forwardProp(theta, Y)
    t0 = time.perf_counter()
    for _ in range(nBatches):
        Z, tmp = net.forwardProp(theta, Y)
        net.JTmv(np.ones_like(Z), theta, Y, tmp)
    return 1.05 * (time.perf_counter() - t0) / nBatches * (nTrain // miniBatch)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0, help="time budget per network")
    p.add_argument("--dynamics", nargs="+", default=["parabolic", "hamiltonian", "leapfrog"])
    p.add_argument("--nf", type=int, nargs="+", default=[16, 32, 64, 64])
    p.add_argument("--nt", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, nargs="+", default=[0.05, 0.05, 0.02, 0.005, 0.001],
                   help="learning-rate schedule, stretched to the number of epochs")
    p.add_argument("--ntrain", type=int, help="fewer training images (default all 60,000)")
    p.add_argument("--embedded", action="store_true", help="allow the embedded subset (for a quick try)")
    p.add_argument("--out", default="results/benchmark")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    nTrain = args.ntrain or mg.setupFashionMNIST(None, 0, embedded=args.embedded)[0].shape[0]
    perEpoch = epochSeconds(args.nf, args.nt, args.batch, nTrain)
    epochs = max(1, int(0.9 * args.minutes * 60 // perEpoch))
    print(f"about {perEpoch / 60:.1f} min per epoch of {nTrain} images: {epochs} epochs per network")
    lrs = [args.lr[min(len(args.lr) - 1, e * len(args.lr) // epochs)] for e in range(epochs)]
    lines = []
    for dynamic in args.dynamics:
        opt = mg.SGD(maxEpochs=epochs, miniBatch=args.batch, learningRate=lambda epoch: lrs[epoch - 1],
                     momentum=0.9, nesterov=False, P=mg.ProjBound(-1, 1), out=1, rng=args.seed)
        t0 = time.perf_counter()
        xc, His, xOpt, info = cnnDriver("fashionmnist", dynamic, args.ntrain, 0, args.nf, args.nt, 1.0, False,
                                        "single", opt, False, (5e-4, 5e-4, 3e-4), mg.BatchNormLayer2,
                                        os.path.join(args.out, f"fashionmnist-full-{dynamic}"), ntest=None,
                                        embedded=args.embedded, rng=args.seed, historySubset=5000,
                                        full_output=True)
        minutes = (time.perf_counter() - t0) / 60
        r = info["test"]
        lines.append(
            f"{dynamic}: test accuracy {r['accuracy']:.2f} % ({r['nExamples']} test images, "
            f"{minutes:.1f} min, {epochs} epochs)"
        )
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
