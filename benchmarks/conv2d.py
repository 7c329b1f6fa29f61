"""Timings of Conv2D's products (both GEMM variants), ConvFFT, and PyTorch's conv2d.

Prints one table per precision: the best of ``--repeat`` runs, in milliseconds, of

* ``Amv`` (forward), ``ATmv`` (adjoint, i.e. the input gradient) and ``JthetaTmv``
  (the weight gradient, summed over examples) of ``Conv2D(algorithm='shifted')``,
  ``Conv2D(algorithm='im2col')`` and ``ConvFFT`` (periodic, for comparison);
* ``torch.nn.functional.conv2d`` and its two backward products
  (``torch.nn.grad.conv2d_input`` / ``conv2d_weight``) on the same data, if PyTorch is
  importable (NCHW layout; the layout conversion is not timed).

Usage::

    python benchmarks/conv2d.py [--N 32] [--img 32] [--channels 16 32] [--k 3] [--repeat 10]

On a shared machine, single-threaded runs give steadier numbers:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/conv2d.py``.
"""
import argparse
import time

import benchutil  # noqa: I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

import meganet as mg  # noqa: E402

torch = benchutil.importTorch()  # optional comparison


def best(fun, repeat):
    """Best time in milliseconds."""
    return 1e3 * benchutil.best(fun, repeat)


def meganetRows(N, img, c, k, precision, repeat, rng):
    rows = []
    kernels = [("Conv2D shifted", mg.Conv2D((img, img), (k, k, c, c), algorithm="shifted",
                                             precision=precision)),
               ("Conv2D im2col", mg.Conv2D((img, img), (k, k, c, c), algorithm="im2col",
                                            precision=precision)),
               ("ConvFFT (periodic)", mg.ConvFFT((img, img), (k, k, c, c), precision=precision))]
    Y = mg.asArray(rng.standard_normal((N, img, img, c)), precision=precision)
    Wz = mg.asArray(rng.standard_normal((N, img, img, c)), precision=precision)
    for name, K in kernels:
        th = K.initTheta(rng=0)
        rows.append((name,
                     best(lambda: K.Amv(th, Y), repeat),
                     best(lambda: K.ATmv(th, Wz), repeat),
                     best(lambda: K.JthetaTmv(Wz, th, Y), repeat)))
    return rows, Y, Wz, th


def torchRow(Y, Wz, th, k, c, precision, repeat):
    dtype = torch.float32 if precision == "single" else torch.float64
    y = torch.from_numpy(numpy.ascontiguousarray(Y.transpose(0, 3, 1, 2))).to(dtype)
    w = torch.from_numpy(numpy.ascontiguousarray(Wz.transpose(0, 3, 1, 2))).to(dtype)
    # torch weights are (cout, cin, k1, k2); conv2d is a cross-correlation as Conv2D
    kt = torch.from_numpy(numpy.ascontiguousarray(th.reshape(k, k, c, c).transpose(3, 2, 0, 1))).to(dtype)
    p = (k - 1) // 2
    with torch.no_grad():
        z = torch.nn.functional.conv2d(y, kt, padding=p)
        ours = mg.Conv2D((y.shape[2], y.shape[3]), (k, k, c, c), precision=precision)
        ref = ours.Amv(mg.asArray(th, precision=precision), Y)
        err = float(numpy.abs(z.numpy().transpose(0, 2, 3, 1) - ref).max() / numpy.abs(ref).max())
        fwd = best(lambda: torch.nn.functional.conv2d(y, kt, padding=p), repeat)
        bin_ = best(lambda: torch.nn.grad.conv2d_input(y.shape, kt, w, padding=p), repeat)
        bw = best(lambda: torch.nn.grad.conv2d_weight(y, kt.shape, w, padding=p), repeat)
    return ("torch conv2d", fwd, bin_, bw), err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--img", type=int, default=32)
    ap.add_argument("--channels", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rng = numpy.random.default_rng(0)
    print(f"N={args.N}, images {args.img}x{args.img}, {args.k}x{args.k} stencils; best of "
          f"{args.repeat} runs in ms" + ("" if torch else "; PyTorch not installed"))
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    cases = [(p, c) for p in ("single", "double") for c in args.channels]
    # all NumPy timings first, then all PyTorch timings: the two libraries' thread pools
    # keep spinning for a while after a call and would slow each other down if interleaved
    results, data = {}, {}
    for precision, c in cases:
        rows, Y, Wz, th = meganetRows(args.N, args.img, c, args.k, precision, args.repeat, rng)
        results[precision, c] = rows
        data[precision, c] = (Y, Wz, th)
    errs = {}
    if torch is not None:
        time.sleep(0.5)
        for precision, c in cases:
            row, errs[precision, c] = torchRow(*data[precision, c], args.k, c, precision, args.repeat)
            results[precision, c].append(row)
    for precision in ("single", "double"):
        print(f"\nprecision={precision}")
        print(f"{'channels':>9} {'implementation':<20} {'Amv':>9} {'ATmv':>9} {'JthetaTmv':>10}")
        for c in args.channels:
            for name, a, b, g in results[precision, c]:
                print(f"{f'{c}->{c}':>9} {name:<20} {a:9.2f} {b:9.2f} {g:10.2f}")
            if (precision, c) in errs:
                print(f"{'':>9} (max. relative difference Conv2D vs torch forward: "
                      f"{errs[precision, c]:.1e})")


if __name__ == "__main__":
    main()
