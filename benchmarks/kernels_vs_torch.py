"""Conv2D's three products for every convolution of the STL-10 network, beside PyTorch's.

For each distinct convolution shape of the paper's STL-10 network (:mod:`stl10net`; all
three dynamics by default) the script times, in float32 on a batch of ``--batch``:

* ``Amv`` (forward), ``ATmv`` (transpose: the input gradient) and ``JthetaTmv`` (the
  weight gradient, summed over examples) of ``meganet.Conv2D`` (NHWC);
* ``torch.nn.functional.conv2d``, ``torch.nn.grad.conv2d_input`` and
  ``torch.nn.grad.conv2d_weight`` (NCHW, the layout PyTorch's CPU kernels are tuned for)
  on the same data,

alternating the two libraries, best of ``--repeat``, and prints GFLOP/s
(``2 H W k1 k2 cin cout N`` per product) and the ratio of the times.

Usage (``pip install torch==2.13.0`` for the PyTorch columns)::

    python benchmarks/kernels_vs_torch.py [--batch 32] [--repeat 5] [--threads 2]
        [--dynamics parabolic hamiltonian leapfrog] [--algorithm auto|shifted|im2col]
"""
import argparse

import benchutil  # noqa: I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

import meganet as mg  # noqa: E402
from stl10net import DYNAMICS, STL10Spec, convFlops  # noqa: E402

PRODUCTS = ("Amv", "ATmv", "JthetaTmv")


def shapes(dynamics, img):
    """Distinct ``(nImg, sK)`` of the networks' convolutions, in order of appearance."""
    seen = []
    for dyn in dynamics:
        for nImg, sK, _ in STL10Spec(dyn, nImg=(img, img)).convs:
            if (nImg, sK) not in seen:
                seen.append((nImg, sK))
    return seen


def meganetProducts(nImg, sK, N, algorithm, rng):
    K = mg.Conv2D(nImg, sK, algorithm=algorithm, precision="single")
    th = K.initTheta(rng=rng)
    Y = mg.asArray(rng.standard_normal((N,) + K.sizeFeatIn()), precision="single")
    Wz = mg.asArray(rng.standard_normal((N,) + K.sizeFeatOut()), precision="single")
    funs = (lambda: K.Amv(th, Y), lambda: K.ATmv(th, Wz), lambda: K.JthetaTmv(Wz, th, Y))
    return funs, (th, Y, Wz)


def torchProducts(torch, sK, data):
    th, Y, Wz = data
    y = torch.from_numpy(numpy.ascontiguousarray(Y.transpose(0, 3, 1, 2)))
    w = torch.from_numpy(numpy.ascontiguousarray(Wz.transpose(0, 3, 1, 2)))
    k = torch.from_numpy(numpy.ascontiguousarray(th.reshape(sK).transpose(3, 2, 0, 1)))
    pad = ((sK[0] - 1) // 2, (sK[1] - 1) // 2)
    F, G = torch.nn.functional, torch.nn.grad

    def nograd(f):
        def g():
            with torch.no_grad():
                return f()
        return g
    funs = (nograd(lambda: F.conv2d(y, k, padding=pad)),
            nograd(lambda: G.conv2d_input(y.shape, k, w, padding=pad)),
            nograd(lambda: G.conv2d_weight(y, k.shape, w, padding=pad)))
    # the same numbers, layout aside: largest difference of the forward products
    Z = funs[0]().numpy().transpose(0, 2, 3, 1)
    ref = mg.Conv2D(Y.shape[1:3], sK, precision="single").Amv(th, Y)
    return funs, float(numpy.abs(Z - ref).max() / numpy.abs(ref).max())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--img", type=int, default=96)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    p.add_argument("--algorithm", default="auto", choices=["auto", "shifted", "im2col"])
    a = p.parse_args(argv)
    torch = benchutil.importTorch()
    print(benchutil.machine() + (f"; torch {torch.__version__}" if torch else ""))
    print(f"Conv2D(algorithm={a.algorithm!r}) float32, batch {a.batch}, best of {a.repeat}; "
          "GFLOP/s (meganet | torch) and time ratio torch/meganet per product")
    head = f"{'image':>7} {'stencil':>15}"
    for name in PRODUCTS:
        head += f" | {name:>10} {'torch':>6} {'ratio':>5}"
    print(head + (" | fwd diff" if torch else ""))
    rng = numpy.random.default_rng(0)
    totals = numpy.zeros(2)
    for nImg, sK in shapes(a.dynamics, a.img):
        gf = a.batch * convFlops(nImg, sK) / 1e9
        ours, data = meganetProducts(nImg, sK, a.batch, a.algorithm, rng)
        line = f"{f'{nImg[0]}x{nImg[1]}':>7} {'x'.join(map(str, sK)):>15}"
        if torch is not None:
            theirs, err = torchProducts(torch, sK, data)
        for k in range(3):
            if torch is None:
                tm = benchutil.best(ours[k], a.repeat)
                line += f" | {gf / tm:>10.1f} {'':>6} {'':>5}"
                totals[0] += tm
                continue
            tm, tt = benchutil.bestAlternating([ours[k], theirs[k]], a.repeat)
            totals += (tm, tt)
            line += f" | {gf / tm:>10.1f} {gf / tt:>6.1f} {tt / tm:>5.2f}"
        print(line + (f" | {err:.0e}" if torch is not None else ""), flush=True)
    msg = f"total time of all products: meganet {totals[0]:.3f} s"
    if torch is not None:
        msg += f", torch {totals[1]:.3f} s, ratio torch/meganet {totals[1] / totals[0]:.2f}"
    print(msg)


if __name__ == "__main__":
    main()
