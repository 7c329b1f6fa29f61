"""Cost of argument validation in a forward propagation + ``JTmv`` of a ResNN block.

The block: ``ResNN(DoubleSymLayer(Conv2D((H, W), (3, 3, C, C)), relu, opCNNBias), nt, h)``
on features ``N x H x W x C`` (default ``16 x 16 x 16 x 8``, ``nt = 20``), double
precision. With validation on and off (``mg.setValidation``) the script prints the
best of ``--repeat`` timings of ``forwardProp`` followed by ``JTmv`` (the two settings
interleaved; CPU time of the process, which other processes on a shared machine disturb
less than wall-clock time) and the number of calls of ``_validateArgs`` during one such pass
with the CPU time spent inside them (measured by wrapping
``AbstractMeganetElement._validateArgs``; on a loaded machine this is steadier than the
difference of the two totals).

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


def countValidations(fn, repeat=5):
    """Run ``fn()`` ``repeat`` times; return the calls of ``_validateArgs`` per run and the
    CPU time spent inside them per run (seconds, the least over the runs)."""
    original = AbstractMeganetElement._validateArgs
    calls, spent = [0], [0.0]

    def timed(self, *args, **kwargs):
        calls[0] += 1
        t0 = time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.process_time() - t0

    AbstractMeganetElement._validateArgs = timed
    best = float("inf")
    try:
        for _ in range(repeat):
            calls[0], spent[0] = 0, 0.0
            fn()
            best = min(best, spent[0])
    finally:
        AbstractMeganetElement._validateArgs = original
    return calls[0], best


class Setting:
    """Validation on or off; on a version without ``mg.setValidation`` "off" replaces
    ``_validateArgs`` by a no-op (the checks' cost without the call wrappers' cost)."""

    def __init__(self, on):
        self.on = on
        self.label = "validation on" if on else "validation off"

    def __enter__(self):
        if hasattr(mg, "setValidation"):
            self.previous = mg.setValidation(self.on)
        elif not self.on:
            self.previous = AbstractMeganetElement._validateArgs
            AbstractMeganetElement._validateArgs = lambda self, *args, **kwargs: None
        return self

    def __exit__(self, *exc):
        if hasattr(mg, "setValidation"):
            mg.setValidation(self.previous)
        elif not self.on:
            AbstractMeganetElement._validateArgs = self.previous


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

    settings = [Setting(True), Setting(False)]
    print(f"ResNN nt={a.nt}, DoubleSymLayer(Conv2D 3x3, relu, opCNNBias), features "
          f"{a.N} x {a.img}x{a.img}x{a.channels}, double; best of {a.repeat} (settings interleaved)")
    counts, best = {}, {}
    for s in settings:
        with s:
            forwardBackward()  # warm up
            counts[s.label] = countValidations(forwardBackward)
            best[s.label] = float("inf")
    for _ in range(a.repeat):  # interleave the settings so that load changes affect both
        for s in settings:
            with s:
                t0 = time.process_time()
                forwardBackward()
                best[s.label] = min(best[s.label], time.process_time() - t0)
    for s in settings:
        n, spent = counts[s.label]
        print(f"{s.label:<16} {1e3 * best[s.label]:9.2f} ms   _validateArgs calls per pass: "
              f"{n:4d}, time inside them: {1e3 * spent:7.3f} ms")
    on, off = best["validation on"], best["validation off"]
    print(f"overhead of validation: {100 * (on - off) / off:.1f} %")


if __name__ == "__main__":
    main()
