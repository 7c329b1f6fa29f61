"""The main job (``make run``): parabolic, Hamiltonian and leapfrog CNNs on Fashion-MNIST.

Trains the three PDE-CNNs of the paper (scaled down for 28x28x1 images) with
:func:`cnnDriver.cnnDriver`, on the Fashion-MNIST subset embedded in the repository (12,000
training and 2,000 test images) or, with ``--full``, on the full data set (60,000 + 10,000
images, ``apt-get install dataset-fashion-mnist``). The networks train in parallel
processes (``--jobs``, default 3: all at once, sharing the cores; each process uses one
BLAS thread), with
one progress bar per network; each network's log goes to ``results/fashionmnist-<dynamic>.log``.
It writes the results (HDF5) and, when matplotlib is installed, the figures to ``results/``,
and ends with one line per network::

    parabolic: test accuracy 88.1 % (2000 test images, 2.1 min)

    python drivers/runFashionMNIST.py [--full] [--epochs 5] [--jobs 3] [--out results]

``--nval 2000`` holds out 2,000 of the training images, trains on the others and reports the
validation accuracy instead of touching the test images (how :data:`SETTINGS` were chosen);
``--lr``, ``--nesterov``, ``--rotate`` override the training recipe.
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one BLAS thread per process: the networks run in parallel

import argparse  # noqa: E402
import contextlib  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

import meganet as mg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import cnnDriver  # noqa: E402

DYNAMICS = ("parabolic", "hamiltonian", "leapfrog")

#: The settings of ``make run``: widths of the opening layer and the three units, time steps,
#: step size, epochs, learning rate (a number: peak of a cosine decay to 0 over the epochs,
#: :func:`learningRate`), mini-batch, Nesterov momentum, random rotations (degrees, 0: none),
#: regularization (alphaW, alphaTheta, alphaTime), examples for the training columns of the
#: history. Chosen on a validation split of the training images (README.md).
SETTINGS = dict(nf=[8, 16, 32, 64], nt=2, h=1.0, epochs=5, learningRate=0.05, miniBatch=64, nesterov=True,
                rotate=0.0, alpha=(5e-4, 5e-4, 3e-4), historySubset=1000)


class _Progress:
    """Objective wrapper that reports every mini-batch to a queue (the parallel progress bars)."""

    def __init__(self, fctn, queue, name):
        self.fctn, self.queue, self.name = fctn, queue, name

    def __getattr__(self, key):
        return getattr(self.__dict__["fctn"], key)

    def __call__(self, x, idx=None, doDerivative=True):
        out = self.fctn(x, idx, doDerivative=doDerivative)
        if doDerivative:
            self.queue.put((self.name, 1))
        return out


def learningRate(s, epochs):
    """The learning-rate schedule of settings ``s`` over ``epochs`` epochs.

    ``s['learningRate']`` a number: the peak of a cosine decay to 0
    (:class:`meganet.CosineSchedule`); a sequence: one rate per part of the training
    (:class:`meganet.StepSchedule`, stretched or compressed to ``epochs``).
    """
    lr = s["learningRate"]
    if isinstance(lr, (int, float)):
        return mg.CosineSchedule(lr, epochs)
    return mg.StepSchedule(lr, epochs)


def defaultEpochs(s):
    """Epochs of settings ``s``: ``s['epochs']``, else one per rate of a step schedule."""
    return int(s["epochs"]) if "epochs" in s else len(s["learningRate"])


def trainOne(dynamic, full, epochs, outDir, ntrain, ntest, seed, s, queue=None, nval=0):
    """Train one network (in a worker process when ``queue`` is given); returns a summary dict."""
    opt = mg.SGD(maxEpochs=epochs, miniBatch=s["miniBatch"], learningRate=learningRate(s, epochs), momentum=0.9,
                 nesterov=s["nesterov"], P=mg.ProjBound(-1, 1), out=1, progress=queue is None, rng=seed)
    resFile = None if outDir is None else os.path.join(outDir, f"fashionmnist-{dynamic}")
    wrap = None if queue is None else (lambda f: _Progress(f, queue, dynamic))
    augment = False
    if s["rotate"] > 0:
        augRng = np.random.default_rng([seed, 1])

        def augment(Y):
            return mg.randomRotate(Y, (-s["rotate"], s["rotate"]), augRng)

    t0 = time.perf_counter()
    xc, His, xOpt, info = cnnDriver("fashionmnist", dynamic, ntrain, nval, s["nf"], s["nt"], s["h"], False,
                                    "single", opt, augment, s["alpha"], mg.BatchNormLayer2, resFile,
                                    ntest=ntest, embedded=not full, rng=seed,
                                    historySubset=s["historySubset"], wrapObjective=wrap, full_output=True)
    return dict(His=His, test=info["test"], minutes=(time.perf_counter() - t0) / 60.0, files=info["files"],
                Ytest=mg.toHost(info["Ytest"]))


def _worker(args):
    dynamic, outDir = args[0], args[3]
    log = os.devnull if outDir is None else os.path.join(outDir, f"fashionmnist-{dynamic}.log")
    mg.retainFreedMemory()      # this worker process: freed arrays are reused, not re-mapped
    with open(log, "w", buffering=1) as f, contextlib.redirect_stdout(f):
        return trainOne(*args)


def runFashionMNIST(full=False, dynamics=DYNAMICS, epochs=None, outDir="results", figures=True, ntrain=None,
                    ntest=None, seed=0, settings=None, jobs=3, nval=0):
    """Train the PDE-CNNs on Fashion-MNIST; returns ``{dynamic: summary}``.

    Parameters
    ----------
    full : bool
        Use the full data set (refuse the embedded subset).
    dynamics : sequence of str
    epochs : int, optional
        Number of epochs (default ``SETTINGS['epochs']``); the learning-rate schedule
        stretches or compresses to it (:func:`learningRate`).
    outDir : str or None
        Folder of the results files, logs and figures (None: nothing written).
    figures : bool
        Draw the figures (when matplotlib is installed).
    ntrain, ntest : int, optional
        Fewer training/test images (default all).
    seed : int
    settings : dict, optional
        Entries overriding :data:`SETTINGS`.
    jobs : int
        Networks trained at the same time (separate processes); 1 trains them one after the
        other in this process, printing the optimizer's table and progress bars. The
        training processes keep freed host memory for reuse
        (:func:`meganet.retainFreedMemory`; with ``jobs=1`` this process).
    nval : int
        Hold out this many training images (drawn at random with ``seed``) for validation,
        train on the others and report the validation accuracy; the test images are then not
        used at all (the way the settings were chosen).

    Returns
    -------
    results : dict
        Per dynamic: ``His``, ``test`` (:func:`meganet.classificationResults` of the final
        weights; None with ``nval > 0``), ``minutes`` (training and evaluation), ``files``,
        ``Ytest`` (the test images as the network saw them, normalized).
    """
    s = dict(SETTINGS, **(settings or {}))
    epochs = defaultEpochs(s) if epochs is None else int(epochs)
    nval = int(nval)
    if nval < 0:
        raise ValueError(f"runFashionMNIST: nval must be >= 0 validation images; got {nval}")
    if nval > 0:
        ntest, figures = 0, False
    if outDir is not None:
        os.makedirs(outDir, exist_ok=True)
    t0 = time.perf_counter()
    if jobs <= 1:
        mg.retainFreedMemory()  # freed host memory stays in the process for the next batch
        results = {d: trainOne(d, full, epochs, outDir, ntrain, ntest, seed, s, None, nval) for d in dynamics}
    else:
        results = _runParallel(dynamics, full, epochs, outDir, ntrain, ntest, seed, s, jobs, nval)
    total = (time.perf_counter() - t0) / 60.0
    if outDir is not None and figures:
        drawFigures(results, outDir)
    print(f"\nwall-clock time of the training: {total:.1f} min ({jobs} job(s))")
    for dynamic, r in results.items():
        t = r["test"]
        if nval > 0:
            acc = np.asarray(r["His"]["val accuracy"])
            print(f"{dynamic}: validation accuracy {acc[-1]:.1f} % ({nval} validation images, "
                  f"{r['minutes']:.1f} min; per epoch " + " ".join(f"{a:.1f}" for a in acc) + ")")
        else:
            print(f"{dynamic}: test accuracy {t['accuracy']:.1f} % ({t['nExamples']} test images, "
                  f"{r['minutes']:.1f} min)")
    return results


def _runParallel(dynamics, full, epochs, outDir, ntrain, ntest, seed, s, jobs, nval):
    from tqdm import tqdm

    nTrain = ntrain if ntrain is not None else (mg.setupFashionMNIST(None, 0, embedded=not full)[0].shape[0] - nval)
    perEpoch = nTrain // s["miniBatch"]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        queue = manager.Queue()
        bars = {
            d: tqdm(total=epochs * perEpoch, desc=f"{d:>11}", position=k, unit="batch", leave=True)
            for k, d in enumerate(dynamics)
        }
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {
                d: pool.submit(_worker, (d, full, epochs, outDir, ntrain, ntest, seed, s, queue, nval))
                for d in dynamics
            }
            while not all(f.done() for f in futures.values()) or not queue.empty():
                try:
                    name, n = queue.get(timeout=0.5)
                    bars[name].update(n)
                except Exception:  # queue.Empty (from the manager's proxy)
                    pass
            results = {d: f.result() for d, f in futures.items()}
        for b in bars.values():
            b.close()
    return results


def drawFigures(results, outDir):
    """History, confusion matrices and example predictions as PNGs in ``outDir``."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install 'meganet[plot]'): no figures")
        return []
    names = mg.classNames("fashion-mnist")
    files = [
        os.path.join(outDir, f)
        for f in ("fashionmnist-history.png", "fashionmnist-confusion.png", "fashionmnist-predictions.png")
    ]
    mg.plotHistory({d: r["His"] for d, r in results.items()}, files[0],
                   title="Fashion-MNIST: training (subset) and test accuracy per epoch", valLabel="test")
    mg.plotConfusionMatrices({d: r["test"]["confusion"] for d, r in results.items()}, names, files[1])
    first = next(iter(results.values()))
    Ytest = first["Ytest"]
    P, labels = first["test"]["probabilities"], first["test"]["labels"]
    # four correctly and four wrongly classified images (or as many as there are)
    right, wrong = np.flatnonzero(P.argmax(1) == labels), np.flatnonzero(P.argmax(1) != labels)
    pick = np.r_[right[: 8 - min(4, wrong.size)], wrong[:4]]
    mg.plotPredictions(Ytest[pick], P[pick], labels[pick], names, files[2])
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
    p.add_argument("--jobs", type=int, default=3, help="networks trained at the same time (processes)")
    p.add_argument("--out", default="results", help="folder of results and figures")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nval", type=int, default=0,
                   help="hold out this many training images and report validation accuracy (no test images)")
    p.add_argument("--lr", type=float, nargs="+",
                   help="one number: peak of a cosine decay to 0; several: rate per part of the training "
                        "(default: SETTINGS)")
    p.add_argument("--nesterov", type=int, choices=(0, 1), help="Nesterov momentum (default: SETTINGS)")
    p.add_argument("--rotate", type=float, help="random rotations in [-a, a] degrees (default: SETTINGS)")
    args = p.parse_args(argv)
    lr = args.lr[0] if args.lr is not None and len(args.lr) == 1 else args.lr
    settings = {k: v for k, v in (("learningRate", lr), ("rotate", args.rotate),
                                  ("nesterov", None if args.nesterov is None else bool(args.nesterov)))
                if v is not None}
    return runFashionMNIST(args.full, args.dynamics, args.epochs, args.out, not args.no_figures, args.ntrain,
                           args.ntest, args.seed, settings, args.jobs, args.nval)


if __name__ == "__main__":
    main()
