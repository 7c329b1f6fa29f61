"""The main job (``make run``): parabolic, Hamiltonian and leapfrog CNNs on Fashion-MNIST.

Trains the three PDE-CNNs of the paper (scaled down for 28x28x1 images) with
:func:`cnnDriver.cnnDriver`, on the Fashion-MNIST subset embedded in the repository (12,000
training and 2,000 test images) or, with ``--full``, on the full data set (60,000 + 10,000
images, ``apt-get install dataset-fashion-mnist``). It writes the results (HDF5) and, when
matplotlib is installed, the figures to ``results/``, and ends with one line per network::

    parabolic: test accuracy 88.1 % (2000 test images, 2.1 min)

    python drivers/runFashionMNIST.py [--full] [--epochs 4] [--out results]
"""
import argparse
import os
import sys
import time

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import cnnDriver  # noqa: E402

DYNAMICS = ("parabolic", "hamiltonian", "leapfrog")

#: The settings of ``make run``: widths of the opening layer and the three units, time steps,
#: step size, epochs with their learning rates, mini-batch, regularization (alphaW, alphaTheta,
#: alphaTime).
SETTINGS = dict(nf=[8, 16, 32, 32], nt=2, h=1.0, learningRate=[0.1, 0.05, 0.01], miniBatch=64,
                alpha=(5e-4, 5e-4, 3e-4), historySubset=2000)


def runFashionMNIST(full=False, dynamics=DYNAMICS, epochs=None, outDir="results", figures=True, ntrain=None,
                    ntest=None, seed=0, settings=None, progress=True):
    """Train the three PDE-CNNs on Fashion-MNIST; returns ``{dynamic: info}`` (see ``cnnDriver``).

    Parameters
    ----------
    full : bool
        Use the full data set (refuse the embedded subset).
    dynamics : sequence of str
    epochs : int, optional
        Number of epochs (default: one per entry of ``SETTINGS['learningRate']``; more epochs
        repeat the last rate).
    outDir : str or None
        Folder of the results files and figures (None: nothing written).
    figures : bool
        Draw the figures (when matplotlib is installed).
    ntrain, ntest : int, optional
        Fewer training/test images (default all).
    seed : int
    settings : dict, optional
        Entries overriding :data:`SETTINGS`.
    progress : bool
        tqdm progress bars over the mini-batches.
    """
    s = dict(SETTINGS, **(settings or {}))
    lrs = list(s["learningRate"])
    epochs = len(lrs) if epochs is None else int(epochs)

    def learningRate(epoch):
        return lrs[min(epoch, len(lrs)) - 1]

    results = {}
    for dynamic in dynamics:
        opt = mg.SGD(maxEpochs=epochs, miniBatch=s["miniBatch"], learningRate=learningRate, momentum=0.9,
                     nesterov=False, P=mg.ProjBound(-1, 1), out=1, progress=progress, rng=seed)
        resFile = None if outDir is None else os.path.join(outDir, f"fashionmnist-{dynamic}")
        t0 = time.perf_counter()
        xc, His, xOpt, info = cnnDriver("fashionmnist", dynamic, ntrain, 0, s["nf"], s["nt"], s["h"], False,
                                        "single", opt, False, s["alpha"], mg.BatchNormLayer2, resFile,
                                        ntest=ntest, embedded=not full, rng=seed,
                                        historySubset=s["historySubset"], full_output=True)
        info["minutes"] = (time.perf_counter() - t0) / 60.0
        info["His"] = His
        info["xc"] = xc
        results[dynamic] = info
    if outDir is not None and figures:
        drawFigures(results, outDir)
    print()
    for dynamic, info in results.items():
        print(f"{dynamic}: test accuracy {info['test']['accuracy']:.1f} % ({info['test']['nExamples']} test images, "
              f"{info['minutes']:.1f} min)")
    return results


def drawFigures(results, outDir):
    """History, confusion matrices and example predictions as PNGs in ``outDir``."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install 'meganet[plot]'): no figures")
        return []
    names = mg.classNames("fashion-mnist")
    os.makedirs(outDir, exist_ok=True)
    files = [os.path.join(outDir, f) for f in ("fashionmnist-history.png", "fashionmnist-confusion.png",
                                                "fashionmnist-predictions.png")]
    mg.plotHistory({d: r["His"] for d, r in results.items()}, files[0],
                   title="Fashion-MNIST: training and test (validation columns) per epoch")
    mg.plotConfusionMatrices({d: r["test"]["confusion"] for d, r in results.items()}, names, files[1])
    first = next(iter(results.values()))
    Ytest = mg.toHost(first["Ytest"])
    pick = np.arange(0, Ytest.shape[0], max(1, Ytest.shape[0] // 8))[:8]
    mg.plotPredictions(Ytest[pick], first["test"]["probabilities"][pick], first["test"]["labels"][pick],
                       names, files[2])
    import matplotlib.pyplot as plt
    plt.close("all")
    print("figures: " + ", ".join(files))
    return files


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST (not the embedded subset)")
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=list(DYNAMICS))
    p.add_argument("--epochs", type=int)
    p.add_argument("--ntrain", type=int)
    p.add_argument("--ntest", type=int)
    p.add_argument("--out", default="results", help="folder of results and figures")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    return runFashionMNIST(args.full, args.dynamics, args.epochs, args.out, not args.no_figures, args.ntrain,
                           args.ntest, args.seed, progress=not args.no_progress)


if __name__ == "__main__":
    main()
