"""One training step of the paper's STL-10 network: meganet versus the identical PyTorch model.

For each dynamics (parabolic ``ResNN``, Hamiltonian ``DoubleHamiltonianNN``, second-order
``LeapFrogNN``; the network of :mod:`stl10net`) and each batch size, the script

1. builds the meganet network (float32) and the PyTorch model with the same weights;
2. checks that both compute the same function: loss and gradients with respect to every
   weight, in float64 on a batch of ``--checkBatch`` examples (relative difference below
   1e-8) and in float32 on the timed batch (below ``--tol``); it also prints how far each
   library's float32 result is from the float64 one on the small batch (see
   ``docs/performance.md`` for why meganet's float32 gradients are less accurate than
   PyTorch's);
3. times one training step (forward, softmax cross-entropy, gradient with respect to all
   weights; not the input) of each, in the same process with the same number of threads,
   alternating the two, best of ``--repeat``;
4. measures the peak training memory of each the same way: a fresh subprocess per model
   builds the model and data, then runs one step; reported is the growth of the resident
   set (its high-water mark, ``VmHWM``, minus the resident size before the step).

GFLOP/s are the network's convolution FLOPs of one training step (three times those of
the forward pass: forward, input gradient, weight gradient) over the time, the same
nominal count for both (meganet's JTmv of a symmetric layer also recomputes the layer's
forward pass, which is not counted).

Usage (PyTorch is an optional dependency: ``pip install torch==2.13.0``)::

    python benchmarks/train_step_vs_torch.py [--dynamics parabolic hamiltonian leapfrog]
        [--batch 32 128] [--repeat 3] [--threads 2] [--no-memory] [--pdeNorm inst|tv]
        [--storeInterm] [--storeInputs needed|all] [--keepTmp] [--no-time]
        [--prototype-lean-normalization] [--allocator retain|default]
"""
import argparse
import os
import sys

import benchutil  # noqa: I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

from stl10net import DYNAMICS, STL10Spec  # noqa: E402


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    p.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    benchutil.addAllocatorOption(p)
    p.add_argument("--nf0", type=int, default=16, help="channels of the first unit (paper: 16)")
    p.add_argument("--img", type=int, default=96, help="image size (STL-10: 96)")
    p.add_argument("--nt", type=int, default=3)
    p.add_argument("--pdeNorm", default="inst", choices=["inst", "tv"])
    p.add_argument("--storeInterm", action="store_true",
                   help="symmetric layers keep their intermediates (memory for speed)")
    p.add_argument("--storeInputs", default="needed", choices=["needed", "all"],
                   help="NN/Meganet keep the inputs JTmv reads ('needed') or all (Meganet.m)")
    p.add_argument("--keepTmp", action="store_true",
                   help="NN/Meganet keep tmp intact in JTmv (Meganet.m) instead of releasing it")
    p.add_argument("--checkBatch", type=int, default=8)
    p.add_argument("--tol", type=float, default=5e-2,
                   help="largest relative difference accepted in float32")
    p.add_argument("--no-memory", dest="memory", action="store_false")
    p.add_argument("--no-time", dest="time", action="store_false",
                   help="measure the peak memory only (no timing, no float32 check on the batch)")
    p.add_argument("--prototype-lean-normalization", dest="leanNorm", action="store_true",
                   help="meganet's memory child with the prototype normalization adjoint of "
                        "memory_profile.py")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="time without a first untimed step of each library")
    p.add_argument("--child", choices=["meganet", "torch"], help=argparse.SUPPRESS)
    return p


def specFor(a, dynamics, precision="single"):
    return STL10Spec(dynamics, nImg=(a.img, a.img), nf0=a.nf0, nt=a.nt, pdeNorm=a.pdeNorm,
                     precision=precision, storeInterm=a.storeInterm, storeInputs=a.storeInputs,
                     keepTmp=a.keepTmp)


def rel(a, b):
    return float(numpy.linalg.norm(numpy.asarray(a, dtype=float) - b) / numpy.linalg.norm(b))


def results(torch, spec, N):
    """``((loss, dtheta, dW) of meganet, the same of PyTorch)`` on a batch of N."""
    theta, W = spec.initWeights()
    Y, labels = spec.data(N)
    ours = spec.meganetStep(theta, W, Y, labels)()
    model = spec.torchModel(torch, theta, W)
    loss = float(model.step(*model.input(Y, labels)).detach())
    return ours, (loss,) + model.gradient()


def differences(a, b):
    """Relative differences of two ``(loss, dtheta, dW)``."""
    return (abs(a[0] - b[0]) / abs(b[0]),) + tuple(rel(x, y) for x, y in zip(a[1:], b[1:]))


def compare(torch, spec, N):
    """Relative differences (loss, dtheta, dW) of meganet and PyTorch on a batch of N."""
    return differences(*results(torch, spec, N))


def timeStep(a, torch, spec, N):
    """``(meganet s, torch s, float32 difference)`` of one training step on a batch of N."""
    e32 = compare(torch, spec, N)
    if max(e32) > a.tol:
        sys.exit(f"{spec.dynamics}, batch {N}: float32 relative differences {e32} above {a.tol}")
    theta, W = spec.initWeights()
    Y, labels = spec.data(N)
    mstep = spec.meganetStep(theta, W, Y, labels)
    model = spec.torchModel(torch, theta, W)
    x, lab = model.input(Y, labels)
    tm, tt = benchutil.bestAlternating([mstep, lambda: model.step(x, lab)], a.repeat,
                                       warmup=a.warmup)
    return tm, tt, max(e32)


def child(a):
    """Peak memory of one training step of one model, in this (fresh) process."""
    dyn, N = a.dynamics[0], a.batch[0]
    if a.leanNorm and a.child == "meganet":
        from memory_profile import leanNormalizationAdjoint
        leanNormalizationAdjoint()
    spec = specFor(a, dyn)
    theta, W = spec.initWeights()
    if a.child == "meganet":
        def step(Y, labels):
            return spec.meganetStep(theta, W, Y, labels)
    else:
        torch = benchutil.importTorch(required=True)
        model = spec.torchModel(torch, theta, W)

        def step(Y, labels):
            x, lab = model.input(Y, labels)
            return lambda: model.step(x, lab)
    warm, run = step(*spec.data(2)), step(*spec.data(N))
    peak, base = benchutil.measurePeak(run, warmup=warm)
    print(peak, base)


def peakMiB(a, lib, dyn, N):
    peak, base = benchutil.runChild(os.path.abspath(__file__),
                                    ["--child", lib, "--dynamics", dyn, "--batch", N,
                                     "--nf0", a.nf0, "--img", a.img, "--nt", a.nt,
                                     "--pdeNorm", a.pdeNorm, "--storeInputs", a.storeInputs]
                                    + (["--storeInterm"] if a.storeInterm else [])
                                    + (["--keepTmp"] if a.keepTmp else [])
                                    + (["--prototype-lean-normalization"] if a.leanNorm else []))
    return (int(peak) - int(base)) / 2 ** 20


def main(argv=None):
    a = parser().parse_args(argv)
    if a.child:
        return child(a)
    torch = benchutil.importTorch(required=True)
    print(benchutil.machine() + f"; torch {torch.__version__} ({torch.get_num_threads()} threads); "
          + benchutil.applyAllocator(a))
    print(f"STL-10 network, {a.img}x{a.img}x3 input, nf0={a.nf0}, nt={a.nt}, h=1, PDE-block "
          f"normalization: {a.pdeNorm}, storeInterm={a.storeInterm}, storeInputs={a.storeInputs}, "
          f"keepTmp={a.keepTmp}; float32; best of {a.repeat} alternating runs")
    rows = []
    for dyn in a.dynamics:
        ours64, theirs64 = results(torch, specFor(a, dyn, "double"), a.checkBatch)
        e64 = differences(ours64, theirs64)
        print(f"{dyn}: float64 check on {a.checkBatch} examples: relative differences loss "
              f"{e64[0]:.1e}, dtheta {e64[1]:.1e}, dW {e64[2]:.1e}", flush=True)
        if max(e64) > 1e-8:
            sys.exit(f"{dyn}: meganet and PyTorch disagree in float64")
        ours32, theirs32 = results(torch, specFor(a, dyn), a.checkBatch)
        print(f"  float32 versus float64 (loss, dtheta, dW): meganet "
              + ", ".join(f"{e:.1e}" for e in differences(ours32, ours64)) + "; torch "
              + ", ".join(f"{e:.1e}" for e in differences(theirs32, theirs64)), flush=True)
        spec = specFor(a, dyn)
        for N in a.batch:
            tm = tt = err = None
            if a.time:
                tm, tt, err = timeStep(a, torch, spec, N)
            gf = 3 * spec.forwardFlops(N) / 1e9
            mem = (peakMiB(a, "meganet", dyn, N), peakMiB(a, "torch", dyn, N)) if a.memory else None
            rows.append((dyn, N, tm, tt, gf, mem, err))
            print(f"  {dyn} batch {N}:"
                  + (f" meganet {tm:.3f} s, torch {tt:.3f} s, ratio {tt / tm:.2f}" if a.time else "")
                  + (f" peak {mem[0]:.0f} / {mem[1]:.0f} MiB" if mem else ""), flush=True)
    print()
    print(f"{'dynamics':<12}{'batch':>6}{'meganet s':>11}{'torch s':>9}{'meganet GF/s':>14}"
          f"{'torch GF/s':>12}{'torch/meganet':>15}" + (f"{'peak MiB meganet':>18}{'torch':>8}"
                                                        f"{'meganet/torch':>15}" if a.memory else "")
          + f"{'f32 diff':>10}")
    for dyn, N, tm, tt, gf, mem, err in rows:
        if tm is None:
            line = f"{dyn:<12}{N:>6}" + "".join(f"{'-':>{w}}" for w in (11, 9, 14, 12, 15))
        else:
            line = (f"{dyn:<12}{N:>6}{tm:>11.3f}{tt:>9.3f}{gf / tm:>14.1f}{gf / tt:>12.1f}"
                    f"{tt / tm:>15.2f}")
        if mem:
            line += f"{mem[0]:>18.0f}{mem[1]:>8.0f}{mem[0] / mem[1]:>15.2f}"
        print(line + (f"{err:>10.1e}" if err is not None else f"{'-':>10}"))
    print("ratio torch/meganet > 1: meganet is faster. Peak memory: growth of the resident set "
          "during one step, fresh process per model.")


if __name__ == "__main__":
    main()
