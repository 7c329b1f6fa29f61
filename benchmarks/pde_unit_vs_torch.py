"""One PDE unit of the paper (forward + full gradient): meganet versus the identical PyTorch block.

The unit: ``N x 48 x 48 x 64`` features (default ``N = 32``), the symmetric layer
``F(Y) = -K^T relu(K Y)`` (3 x 3 ``K``; ``--norm inst|tv`` adds the normalization the
network uses), ``nt = 3`` steps of size ``h = 1``, as ``ResNN``, ``DoubleHamiltonianNN``
(two layers on 32 channels each) and ``LeapFrogNN``. One evaluation is the forward pass
and the gradient of ``<W, block(Y)>`` with respect to every weight and to ``Y`` (meganet:
``forwardProp`` + ``JTmv``; PyTorch: autograd ``backward``). The script checks that both
agree (float64 to 1e-8, float32 printed), then times both in the same process with the
same threads, alternating, best of ``--repeat``. GFLOP/s count three times the forward
convolutions (forward, input gradient, weight gradient), the same for both.

Usage (``pip install torch==2.13.0``)::

    python benchmarks/pde_unit_vs_torch.py [--N 32] [--img 48] [--channels 64] [--nt 3]
        [--norm none|inst|tv] [--storeInterm] [--repeat 5] [--threads 2]
        [--allocator retain|default]
"""
import argparse
import sys

import benchutil  # noqa: I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

from stl10net import DYNAMICS, PDEUnitSpec  # noqa: E402

BLOCKS = {"parabolic": "ResNN", "hamiltonian": "DoubleHamiltonianNN", "leapfrog": "LeapFrogNN"}


def rel(a, b):
    return float(numpy.linalg.norm(numpy.asarray(a, dtype=float) - b) / numpy.linalg.norm(b))


def pair(torch, spec, N):
    """``(meganet step, torch step, check)``; ``check()`` gives the relative differences."""
    theta = spec.net.initTheta(rng=numpy.random.default_rng(0))
    Y, W = spec.data(N)
    ours = spec.meganetStep(theta, Y, W)
    model = spec.torchModel(torch, theta)
    x, w = model.nchw(Y, requiresGrad=True), model.nchw(W)

    def check():
        dth, dY = ours()
        model.unitStep(x, w)
        gth, gY = model.unitGradient(x)
        return rel(dth, gth), rel(dY, gY)
    return ours, (lambda: model.unitStep(x, w)), check


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=32)
    p.add_argument("--img", type=int, default=48)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--nt", type=int, default=3)
    p.add_argument("--norm", default="none", choices=["none", "inst", "tv"])
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    p.add_argument("--storeInterm", action="store_true",
                   help="the symmetric layer keeps its intermediates (memory for speed)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    benchutil.addAllocatorOption(p)
    a = p.parse_args(argv)
    torch = benchutil.importTorch(required=True)
    norm = None if a.norm == "none" else a.norm
    print(benchutil.machine() + f"; torch {torch.__version__} ({torch.get_num_threads()} threads); "
          + benchutil.applyAllocator(a))
    print(f"PDE unit: {a.N} x {a.img}x{a.img}x{a.channels}, DoubleSymLayer(relu, norm={a.norm}, "
          f"storeInterm={a.storeInterm}), "
          f"nt={a.nt}, h=1; forward + gradient (theta and Y); float32, best of {a.repeat}")
    rows = []
    for dyn in a.dynamics:
        def spec(precision):
            return PDEUnitSpec(dyn, nImg=(a.img, a.img), channels=a.channels, nt=a.nt,
                               pdeNorm=norm, precision=precision, storeInterm=a.storeInterm)
        e64 = pair(torch, spec("double"), min(a.N, 4))[2]()
        if max(e64) > 1e-8:
            sys.exit(f"{BLOCKS[dyn]}: meganet and PyTorch disagree in float64: {e64}")
        sp = spec("single")
        ours, theirs, check = pair(torch, sp, a.N)
        e32 = check()
        tm, tt = benchutil.bestAlternating([ours, theirs], a.repeat)
        gf = 3 * sp.forwardFlops(a.N) / 1e9
        rows.append((BLOCKS[dyn], tm, tt, gf, e64, e32))
        print(f"  {BLOCKS[dyn]}: meganet {tm:.3f} s, torch {tt:.3f} s", flush=True)
    print(f"\n{'block':<22}{'meganet s':>10}{'torch s':>9}{'meganet GF/s':>14}{'torch GF/s':>12}"
          f"{'torch/meganet':>15}{'f64 diff':>10}{'f32 diff':>10}")
    for name, tm, tt, gf, e64, e32 in rows:
        print(f"{name:<22}{tm:>10.3f}{tt:>9.3f}{gf / tm:>14.1f}{gf / tt:>12.1f}{tt / tm:>15.2f}"
              f"{max(e64):>10.0e}{max(e32):>10.0e}")
    print("ratio torch/meganet > 1: meganet is faster; diff: largest relative difference of the "
          "gradients (theta, Y)")


if __name__ == "__main__":
    main()
