"""Cost of argument validation in a forward propagation + ``JTmv`` of a ResNN block.

The block: ``ResNN(DoubleSymLayer(Conv2D((H, W), (3, 3, C, C)), relu, opCNNBias), nt, h)``
on features ``N x H x W x C`` (default ``16 x 16 x 16 x 8``, ``nt = 20``), double
precision. For each validation setting available (``mg.setValidation``) the script
prints the best of ``--repeat`` timings of ``forwardProp`` followed by ``JTmv`` and the
number of argument validations performed during one such pass (counted by wrapping
``AbstractMeganetElement._validateArgs``).

Usage::

    python benchmarks/validation_overhead.py [--N 16] [--img 16] [--channels 8] [--nt 20]
                                             [--repeat 20]

On a shared machine, single-threaded runs give steadier numbers:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/validation_overhead.py``.
"""
import argparse
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import meganet as mg  # noqa: E402
from meganet.element import AbstractMeganetElement  # noqa: E402


def makeBlock(nImg, c, nt):
    K = mg.Conv2D(nImg, (3, 3, c, c))
    layer = mg.DoubleSymLayer(K, activation=mg.reluActivation, Bin=mg.opCNNBias(nImg + (c,)))
    return mg.ResNN(layer, nt, 0.1)


def countValidations(fn):
    """Run ``fn()`` and return how many times ``_validateArgs`` was called."""
    original = AbstractMeganetElement._validateArgs
    calls = [0]

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    AbstractMeganetElement._validateArgs = counting
    try:
        fn()
    finally:
        AbstractMeganetElement._validateArgs = original
    return calls[0]


def bestTime(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=16)
    p.add_argument("--img", type=int, default=16)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--nt", type=int, default=20)
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args(argv)
    rng = numpy.random.default_rng(0)
    net = makeBlock((a.img, a.img), a.channels, a.nt)
    th = net.initTheta(rng=rng)
    Y = rng.standard_normal((a.N,) + net.sizeFeatIn())
    W = rng.standard_normal((a.N,) + net.sizeFeatOut())

    def forwardBackward():
        Z, tmp = net.forwardProp(th, Y)
        return net.JTmv(W, th, Y, tmp)

    settings = [("validation on", True)]
    if hasattr(mg, "setValidation"):
        settings.append(("validation off", False))
    print(f"ResNN nt={a.nt}, DoubleSymLayer(Conv2D 3x3, relu, opCNNBias), features "
          f"{a.N} x {a.img}x{a.img}x{a.channels}, double; best of {a.repeat}")
    times = {}
    for label, flag in settings:
        previous = mg.setValidation(flag) if hasattr(mg, "setValidation") else None
        try:
            forwardBackward()  # warm up
            n = countValidations(forwardBackward)
            times[label] = bestTime(forwardBackward, a.repeat)
        finally:
            if previous is not None:
                mg.setValidation(previous)
        print(f"{label:<16} {1e3 * times[label]:9.2f} ms   validations per pass: {n}")
    if len(times) == 2:
        on, off = times["validation on"], times["validation off"]
        print(f"overhead of validation: {100 * (on - off) / off:.1f} %")


if __name__ == "__main__":
    main()
