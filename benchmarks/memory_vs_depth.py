"""Peak memory of one forward propagation + JTmv of the PDE blocks versus the number of time steps.

Blocks (image features ``N x H x W x C``, default ``8 x 32 x 32 x 32``, float32, 3 x 3
convolutions, ``DoubleSymLayer`` with relu, per-channel bias and TV normalization):

* ``DoubleHamiltonianNN`` (two layers on ``C/2`` channels each; reversible),
* ``LeapFrogNN`` (reversible),
* ``ResNN`` (stores its states; ``storeStates=True``),
* ``ResNN(storeStates=False)`` (keeps nothing between forward and backward; its ``JTmv``
  recomputes the states, which then live during that ``JTmv``).

The peak is measured with :mod:`tracemalloc` (NumPy reports its data allocations to it)
from just before ``forwardProp`` to just after ``JTmv`` (inputs, weights and the layer
objects are allocated before and not counted); the table also gives the ratio to the
smallest ``nt``.

Usage::

    python benchmarks/memory_vs_depth.py [--N 8] [--img 32] [--channels 32] [--nt 4 8 16 32]
                                         [--kernel Conv2D|ConvFFT]
"""
import argparse
import gc
import os
import sys
import time
import tracemalloc

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import meganet as mg  # noqa: E402


def symLayer(kernel, nImg, c):
    K = getattr(mg, kernel)(nImg, (3, 3, c, c), precision="single")
    return mg.DoubleSymLayer(K, activation=mg.reluActivation, Bin=mg.opCNNBias(nImg + (c,)),
                             normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, precision="single"),
                             precision="single")


def makeBlock(name, kernel, nImg, c, nt, h=0.1):
    if name == "DoubleHamiltonianNN":
        return mg.DoubleHamiltonianNN(symLayer(kernel, nImg, c // 2), symLayer(kernel, nImg, c // 2), nt, h)
    if name == "LeapFrogNN":
        return mg.LeapFrogNN(symLayer(kernel, nImg, c), nt, h)
    if name == "ResNN":
        return mg.ResNN(symLayer(kernel, nImg, c), nt, h)
    if name == "ResNN(storeStates=False)":
        return mg.ResNN(symLayer(kernel, nImg, c), nt, h, storeStates=False)
    raise ValueError(name)


def peakOfForwardBackward(block, N, rng):
    th = block.initTheta(rng=rng)
    Y = block.asArray(rng.standard_normal((N,) + block.sizeFeatIn()))
    W = block.asArray(rng.standard_normal((N,) + block.sizeFeatOut()))
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    Z, tmp = block.forwardProp(th, Y)
    dth, dY = block.JTmv(W, th, Y, tmp)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del Z, tmp, dth, dY
    return peak, elapsed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=8)
    p.add_argument("--img", type=int, default=32)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--nt", type=int, nargs="+", default=[4, 8, 16, 32])
    p.add_argument("--kernel", default="Conv2D", choices=["Conv2D", "ConvFFT"])
    p.add_argument("--blocks", nargs="+",
                   default=["DoubleHamiltonianNN", "LeapFrogNN", "ResNN", "ResNN(storeStates=False)"])
    a = p.parse_args(argv)
    nImg = (a.img, a.img)
    stateMB = a.N * a.img * a.img * a.channels * 4 / 2 ** 20
    print(f"features {a.N} x {a.img}x{a.img}x{a.channels} float32 (one state = {stateMB:.2f} MiB), "
          f"{a.kernel} 3x3, DoubleSymLayer(relu, opCNNBias, TVNormLayer)")
    print(f"{'block':<26}" + "".join(f"{'nt=' + str(n):>12}" for n in a.nt) + f"{'ratio':>9}")
    for name in a.blocks:
        peaks, times = [], []
        for nt in a.nt:
            block = makeBlock(name, a.kernel, nImg, a.channels, nt)
            peak, el = peakOfForwardBackward(block, a.N, numpy.random.default_rng(0))
            peaks.append(peak / 2 ** 20)
            times.append(el)
        row = "".join(f"{pk:>9.1f}MiB" for pk in peaks)
        ts = ", ".join(f"{t:.1f}" for t in times)
        print(f"{name:<26}{row}{peaks[-1] / peaks[0]:>8.2f}x   (time {ts} s)")
    print(f"ratio = peak at nt={a.nt[-1]} / peak at nt={a.nt[0]}")


if __name__ == "__main__":
    main()
