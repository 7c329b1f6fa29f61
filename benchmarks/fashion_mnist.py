"""Full Fashion-MNIST benchmark: each PDE-CNN trained on the 60,000 training images within a time budget.

For each of the parabolic, Hamiltonian and leapfrog CNNs: train with SGD (momentum 0.9,
|theta| <= 1) for at most ``--minutes`` (default 60) per network, wall clock, whatever else
runs on the machine: SGD's ``maxTime`` ends the run after the mini-batch during which the
budget is used up (the last epoch is then partial), and the learning rate follows the
recipe of ``make run`` (a cosine decay from 0.05, Nesterov momentum 0.9) over the
budget's time rather than over a number of epochs (each epoch takes the rate of the time
at which it starts). Then print the accuracy of the final weights on the 10,000 test
images with the time taken (data loading and the test evaluation included). Needs the
full data set (``apt-get install dataset-fashion-mnist``). The networks run one after the
other; each uses the BLAS threads it is given (``OMP_NUM_THREADS``); ``--dynamics`` picks
one network, e.g. to run the three side by side with one thread each.

    python benchmarks/fashion_mnist.py [--minutes 60] [--nf 16 32 64 64] [--nt 2]
"""

import argparse
import os
import sys
import time

import meganet as mg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
from cnnDriver import cnnDriver  # noqa: E402


class TimedSchedule:
    """Learning rate of ``schedule`` at the fraction of ``seconds`` passed since the first call.

    ``schedule`` is e.g. :class:`meganet.CosineSchedule` (its ``rate(t)``, ``t`` in
    ``[0, 1]``); SGD calls this at the start of every epoch.
    """

    def __init__(self, schedule, seconds):
        self.schedule, self.seconds, self.t0 = schedule, float(seconds), None

    def __call__(self, epoch):
        now = time.perf_counter()
        if self.t0 is None:
            self.t0 = now
        return self.schedule.rate((now - self.t0) / self.seconds)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0, help="time budget per network")
    p.add_argument("--dynamics", nargs="+", default=["parabolic", "hamiltonian", "leapfrog"])
    p.add_argument("--nf", type=int, nargs="+", default=[16, 32, 64, 64])
    p.add_argument("--nt", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, nargs="+", default=[0.05],
                   help="one number: peak of a cosine decay over the time budget (make run's "
                        "recipe); several: steps over equal parts of the budget")
    p.add_argument("--nesterov", type=int, choices=(0, 1), default=1)
    p.add_argument("--ntrain", type=int, help="fewer training images (default all 60,000)")
    p.add_argument("--embedded", action="store_true", help="allow the embedded subset (for a quick try)")
    p.add_argument("--out", default="results/benchmark")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    budget = 60.0 * args.minutes
    mg.retainFreedMemory()      # freed arrays stay in the process for the next mini-batch
    lines = []
    for dynamic in args.dynamics:
        t0 = time.perf_counter()
        # loading the data and the evaluation on the test images come on top of training
        schedule = mg.CosineSchedule(args.lr[0], 1) if len(args.lr) == 1 else mg.StepSchedule(args.lr)
        opt = mg.SGD(maxEpochs=10**6, maxTime=0.95 * budget, miniBatch=args.batch,
                     learningRate=TimedSchedule(schedule, 0.95 * budget), momentum=0.9,
                     nesterov=bool(args.nesterov), P=mg.ProjBound(-1, 1), out=1, rng=args.seed)
        xc, His, xOpt, info = cnnDriver("fashionmnist", dynamic, args.ntrain, 0, args.nf, args.nt, 1.0, False,
                                        "single", opt, False, (5e-4, 5e-4, 3e-4), mg.BatchNormLayer2,
                                        os.path.join(args.out, f"fashionmnist-full-{dynamic}"), ntest=None,
                                        embedded=args.embedded, rng=args.seed, historySubset=5000,
                                        full_output=True)
        minutes = (time.perf_counter() - t0) / 60
        r = info["test"]
        epochs = His.nRows
        last = His.his[-1]
        lines.append(
            f"{dynamic}: test accuracy {r['accuracy']:.2f} % ({r['nExamples']} test images, "
            f"{minutes:.1f} min, {epochs} epochs, the last one "
            f"{'partial' if His.stopReason == 'maxTime' else 'complete'}; final lr {last[3]:.0e})"
        )
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
