"""Test accuracy against the size of the training set (the paper's Fig. 2, left), on Fashion-MNIST.

Trains the parabolic, Hamiltonian and leapfrog CNNs of ``runFashionMNIST`` (same settings)
on 10 %, 20 %, ..., 100 % of the training images (a class-balanced subset each time),
evaluates each on the test images, and writes ``results/fashionmnist-accuracy-vs-size.png``
and the numbers (``.json``). 30 trainings: use ``--fractions``/``--epochs`` for a shorter run.

    python drivers/accuracyVsTrainingSize.py [--fractions 0.1 0.5 1.0] [--epochs 6] [--full]
"""

import argparse
import json
import os
import sys

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runFashionMNIST import DYNAMICS, runFashionMNIST  # noqa: E402


def accuracyVsTrainingSize(fractions=tuple(k / 10 for k in range(1, 11)), dynamics=DYNAMICS, epochs=None,
                           full=False, outDir="results", ntest=None, jobs=3, seed=0):
    """Returns ``(sizes, {dynamic: [accuracy per size]})`` and writes the figure and numbers to ``outDir``."""
    nAll = mg.setupFashionMNIST(None, 0, embedded=not full)[0].shape[0]
    sizes = [max(10, int(round(f * nAll))) for f in fractions]
    acc = {d: [] for d in dynamics}
    for n in sizes:
        print(f"===== {n} training images =====")
        res = runFashionMNIST(full, dynamics, epochs, None, False, n, ntest, seed, jobs=jobs)
        for d in dynamics:
            acc[d].append(res[d]["test"]["accuracy"])
    if outDir is not None:
        os.makedirs(outDir, exist_ok=True)
        base = os.path.join(outDir, "fashionmnist-accuracy-vs-size")
        with open(base + ".json", "w") as f:
            json.dump({"sizes": sizes, "accuracy": acc, "epochs": epochs, "full": full}, f, indent=1)
        try:
            mg.plotAccuracyVsSize(sizes, acc, base + ".png")
            print(f"figure: {base}.png")
        except ImportError as err:
            print(err)
    for d in dynamics:
        print(f"{d}: " + ", ".join(f"{n}: {a:.1f} %" for n, a in zip(sizes, acc[d])))
    return sizes, acc


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fractions", type=float, nargs="+", default=[k / 10 for k in range(1, 11)])
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=list(DYNAMICS))
    p.add_argument("--epochs", type=int)
    p.add_argument("--full", action="store_true")
    p.add_argument("--ntest", type=int)
    p.add_argument("--jobs", type=int, default=3)
    p.add_argument("--out", default="results")
    args = p.parse_args(argv)
    return accuracyVsTrainingSize(
        args.fractions, args.dynamics, args.epochs, args.full, args.out, args.ntest, args.jobs
    )


if __name__ == "__main__":
    main()
