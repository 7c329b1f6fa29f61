"""Peak memory of one forward propagation + gradient of the PDE blocks versus the number of time steps.

Blocks (image features ``N x H x W x C``, default ``8 x 32 x 32 x 32``, float32, 3 x 3
convolutions, ``DoubleSymLayer`` with relu and TV normalization with scale and shift,
``h = 0.1``; the blocks of :mod:`stl10net`):

* ``DoubleHamiltonianNN`` (two layers on ``C/2`` channels each; reversible),
* ``LeapFrogNN`` (reversible),
* ``ResNN`` (stores its states; ``storeStates=True``),
* ``ResNN(storeStates=False)`` (keeps nothing between forward and backward; its ``JTmv``
  recomputes the states, which then live during that ``JTmv``).

Two measurements:

1. meganet alone, in this process, with :mod:`tracemalloc` (NumPy reports its data
   allocations to it) from just before ``forwardProp`` to just after ``JTmv`` (inputs,
   weights and the layer objects are allocated before and not counted);
2. meganet and PyTorch autograd (the same blocks, see :mod:`stl10net`; ``--torch``, on by
   default when PyTorch is installed) measured the same way: a fresh process per block,
   library and ``nt`` builds the block and data, then runs forward + gradient once; reported
   is the growth of the resident set (high-water mark minus the size before).

Both tables give the ratio of the peak at the largest ``nt`` to the peak at the smallest;
the second also meganet's peak over PyTorch's at every ``nt`` (row ``mg/torch``).

Usage::

    python benchmarks/memory_vs_depth.py [--N 8] [--img 32] [--channels 32] [--nt 4 8 16 32]
                                         [--kernel Conv2D|ConvFFT] [--no-torch]
"""
import argparse
import gc
import os
import time
import tracemalloc

import benchutil  # noqa: I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

import meganet as mg  # noqa: E402
from stl10net import PDEUnitSpec  # noqa: E402

BLOCKS = {"DoubleHamiltonianNN": "hamiltonian", "LeapFrogNN": "leapfrog", "ResNN": "parabolic",
          "ResNN(storeStates=False)": "parabolic"}
H = 0.1


def makeSpec(name, a, nt):
    return PDEUnitSpec(BLOCKS[name], nImg=(a.img, a.img), channels=a.channels, nt=nt, h=H,
                       pdeNorm="tv")


def makeBlock(name, a, nt):
    """The meganet block ``name`` with ``nt`` steps (and a ``a.kernel`` convolution)."""
    spec = makeSpec(name, a, nt)
    block = spec.net
    if a.kernel != "Conv2D":
        layers = [block.layer1, block.layer2] if name == "DoubleHamiltonianNN" else [block.layer]
        for layer in layers:
            layer.K = mg.ConvFFT(layer.K.nImg, layer.K.sK, precision="single")
    if name == "ResNN(storeStates=False)":
        block = mg.ResNN(block.layer, nt, H, storeStates=False)
    return spec, block


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


def child(a):
    """Resident-set growth of one forward + gradient in this fresh process."""
    nt = a.nt[0]
    spec, block = makeBlock(a.blocks[0], a, nt)
    rng = numpy.random.default_rng(0)
    theta = block.initTheta(rng=rng)
    if a.child == "meganet":
        def run(Y, W):
            def f():
                Z, tmp = block.forwardProp(theta, Y)
                block.JTmv(W, theta, Y, tmp)
            return f
    else:
        torch = benchutil.importTorch(required=True)
        model = spec.torchModel(torch, theta)

        def run(Y, W):
            x, w = model.nchw(Y, requiresGrad=True), model.nchw(W)
            return lambda: model.unitStep(x, w)
    warm, big = run(*spec.data(1)), run(*spec.data(a.N))
    peak, base = benchutil.measurePeak(big, warmup=warm)
    print(peak, base)


def rssTable(a, names):
    script = os.path.abspath(__file__)
    print(f"\nresident-set growth of forward + gradient, fresh process each (MiB)")
    print(f"{'block':<26}{'library':<9}" + "".join(f"{'nt=' + str(n):>10}" for n in a.nt)
          + f"{'ratio':>8}")
    for name in names:
        rows = {}
        for lib in ("meganet", "torch"):
            if lib == "torch" and name == "ResNN(storeStates=False)":
                continue
            mib = []
            for nt in a.nt:
                peak, base = benchutil.runChild(script, ["--child", lib, "--blocks", name, "--nt", nt,
                                                         "--N", a.N, "--img", a.img,
                                                         "--channels", a.channels, "--kernel", a.kernel])
                mib.append((int(peak) - int(base)) / 2 ** 20)
            rows[lib] = mib
            ratio = f"{mib[-1] / mib[0]:>7.2f}x" if mib[0] > 0 else f"{'-':>8}"
            print(f"{name:<26}{lib:<9}" + "".join(f"{m:>10.1f}" for m in mib) + ratio, flush=True)
        if len(rows) == 2:
            print(f"{name:<26}{'mg/torch':<9}"
                  + "".join(f"{m / t:>10.2f}" for m, t in zip(rows["meganet"], rows["torch"])), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=8)
    p.add_argument("--img", type=int, default=32)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--nt", type=int, nargs="+", default=[4, 8, 16, 32])
    p.add_argument("--kernel", default="Conv2D", choices=["Conv2D", "ConvFFT"])
    p.add_argument("--blocks", nargs="+", default=list(BLOCKS), choices=list(BLOCKS))
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    p.add_argument("--no-torch", dest="torch", action="store_false")
    p.add_argument("--child", choices=["meganet", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        return child(a)
    stateMB = a.N * a.img * a.img * a.channels * 4 / 2 ** 20
    print(f"features {a.N} x {a.img}x{a.img}x{a.channels} float32 (one state = {stateMB:.2f} MiB), "
          f"{a.kernel} 3x3, DoubleSymLayer(relu, TVNormLayer), h={H}")
    print(f"meganet, tracemalloc peak (MiB)")
    print(f"{'block':<26}" + "".join(f"{'nt=' + str(n):>12}" for n in a.nt) + f"{'ratio':>9}")
    for name in a.blocks:
        peaks, times = [], []
        for nt in a.nt:
            _, block = makeBlock(name, a, nt)
            peak, el = peakOfForwardBackward(block, a.N, numpy.random.default_rng(0))
            peaks.append(peak / 2 ** 20)
            times.append(el)
        row = "".join(f"{pk:>9.1f}MiB" for pk in peaks)
        ts = ", ".join(f"{t:.1f}" for t in times)
        print(f"{name:<26}{row}{peaks[-1] / peaks[0]:>8.2f}x   (time {ts} s)", flush=True)
    if a.torch and benchutil.importTorch() is not None:
        if a.kernel != "Conv2D":
            print("(the PyTorch blocks use its conv2d; the meganet rows use ConvFFT)")
        rssTable(a, a.blocks)
    print(f"ratio = peak at nt={a.nt[-1]} / peak at nt={a.nt[0]}")


if __name__ == "__main__":
    main()
