"""Data-parallel SGD over MPI: one training epoch with 1 and with 2 ranks on this machine.

A PDE-CNN (an opening 3x3 convolution layer and a ResNN of DoubleSymLayers with 3x3
convolutions) is trained for one SGD epoch on synthetic images, wrapped with
``mg.wrapMPI`` and started with ``mpiexec -n 1`` and ``mpiexec -n 2`` (one BLAS/OpenMP
thread per rank), alternately, ``--trials`` times. Printed per run: the epoch time (the
mini-batch steps plus the end-of-epoch evaluation on all examples), the CPU time of rank 0,
the time rank 0 spent in ``Allreduce`` (which includes waiting for the other rank) and the
bytes it reduced per step; then the median speed-up ``T1 / T2`` and parallel efficiency
``T1 / (2 T2)``, the ratio of the CPU times (an estimate of the speed-up when every rank has a
core of its own), the largest relative difference between the 1-rank and 2-rank iterates,
and the compute/communication ratio from which docs/distributed.md estimates the scaling to
more ranks.

Usage::

    python benchmarks/mpi_scaling.py [--N 512] [--img 16] [--channels 8] [--nt 3]
                                     [--miniBatch 32] [--precision double|single]
                                     [--repeat 2] [--trials 3]

Needs the ``mpi`` extra (``pip install 'meganet[mpi]'``). The measurements are only as
quiet as the machine: other work on the same cores inflates them.
"""
import argparse
import json
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import meganet as mg  # noqa: E402

MARK = "RESULT "


def parseArgs(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=512, help="training examples")
    p.add_argument("--img", type=int, default=16, help="image height = width")
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--nt", type=int, default=3, help="time steps of the ResNN block")
    p.add_argument("--miniBatch", type=int, default=32)
    p.add_argument("--precision", choices=["double", "single"], default="double")
    p.add_argument("--repeat", type=int, default=2, help="epochs timed per run (the fastest is kept)")
    p.add_argument("--trials", type=int, default=3,
                   help="alternating 1-rank / 2-rank runs (the median speed-up is reported)")
    p.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def problem(a):
    kw = dict(precision=a.precision)
    nImg, c = (a.img, a.img), a.channels
    opening = mg.SingleLayer(mg.Conv2D(nImg, (3, 3, 3, c), **kw), activation=mg.reluActivation,
                             Bin=mg.opCNNBias(nImg + (c,)), **kw)
    layer = mg.DoubleSymLayer(mg.Conv2D(nImg, (3, 3, c, c), **kw), activation=mg.reluActivation,
                              Bin=mg.opCNNBias(nImg + (c,)), **kw)
    net = mg.Meganet([mg.NN([opening]), mg.ResNN(layer, a.nt, 0.1)])
    rng = numpy.random.default_rng(0)
    Y = rng.standard_normal((a.N,) + nImg + (3,)).astype(net.dtype)
    C = numpy.eye(10)[rng.integers(0, 10, a.N)]
    nW = 10 * (net.numelFeatOut() + 1)
    fctn = mg.DnnBatchObjFctn(net, mg.TikhonovReg(mg.opEye(net.nTheta()), alpha=1e-4),
                              mg.SoftmaxLoss(), mg.TikhonovReg(mg.opEye(nW), alpha=1e-4), Y, C,
                              batchSize=a.miniBatch)
    x0 = numpy.concatenate([mg.toHost(net.initTheta(rng=1)), 1e-2 * rng.standard_normal(nW)])
    return fctn, mg.asArray(x0, precision=a.precision)


def worker(a):
    """One run under mpiexec: time ``repeat`` epochs from x0; rank 0 saves the results."""
    fctn, x0 = problem(a)
    par = mg.wrapMPI(fctn)
    size = getattr(par, "size", 1)
    times, cpu, comm, steps = [], [], [], a.N // a.miniBatch
    for _ in range(a.repeat):
        t0 = getattr(par, "commTime", 0.0)
        tic, cpu0 = time.perf_counter(), time.process_time()
        xc, _, _ = mg.SGD(maxEpochs=1, miniBatch=a.miniBatch, learningRate=1e-2,
                          rng=5).solve(par, x0)
        times.append(time.perf_counter() - tic)
        cpu.append(time.process_time() - cpu0)
        comm.append(getattr(par, "commTime", 0.0) - t0)
    if mg.isWritingRank(par):
        best = int(numpy.argmin(times))
        numpy.save(a.worker, mg.toHost(xc))
        print(MARK + json.dumps({"size": size, "time": times[best], "cpu": cpu[best],
                                 "comm": comm[best], "steps": steps,
                                 "gradBytes": int(x0.nbytes), "nTheta": int(x0.size)}),
              flush=True)


def launch(a, nProcs, xfile):
    args = [f"--N={a.N}", f"--img={a.img}", f"--channels={a.channels}", f"--nt={a.nt}",
            f"--miniBatch={a.miniBatch}", f"--precision={a.precision}", f"--repeat={a.repeat}",
            f"--worker={xfile}"]
    out = mg.runMPI(nProcs, [os.path.abspath(__file__)] + args, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(out.args)} failed:\n{out.stdout}\n{out.stderr}")
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(MARK)]
    return json.loads(lines[-1][len(MARK):])


def main(argv=None):
    a = parseArgs(argv)
    if a.worker:
        worker(a)
        return
    import tempfile
    trials = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.trials):
            trials.append({P: launch(a, P, os.path.join(tmp, f"x{P}.npy")) for P in (1, 2)})
        x1, x2 = (numpy.load(os.path.join(tmp, f"x{P}.npy")) for P in (1, 2))
    r1 = trials[0][1]
    steps = r1["steps"]
    print(f"one SGD epoch: {a.N} examples {a.img}x{a.img}x3, {a.channels} channels, ResNN nt={a.nt}, "
          f"miniBatch {a.miniBatch} ({steps} steps), {r1['nTheta']} weights, {a.precision}, "
          f"1 thread per rank; {a.trials} trials of 1 and 2 ranks, best of {a.repeat} epochs each")
    print(f"{'trial':>5} {'ranks':>5} {'epoch [s]':>10} {'CPU [s]':>8} {'Allreduce [s]':>14} "
          f"{'bytes/step':>11} {'speed-up':>9}")
    speedups, cpuSpeedups = [], []
    for t, runs in enumerate(trials, 1):
        speedups.append(runs[1]["time"] / runs[2]["time"])
        cpuSpeedups.append(runs[1]["cpu"] / runs[2]["cpu"])
        for r in (runs[1], runs[2]):
            su = f"{speedups[-1]:>9.2f}" if r["size"] > 1 else ""
            print(f"{t:>5} {r['size']:>5} {r['time']:>10.3f} {r['cpu']:>8.3f} {r['comm']:>14.4f} "
                  f"{(r['gradBytes'] if r['size'] > 1 else 0):>11d} {su}")
    med = float(numpy.median(speedups))
    print(f"speed-up T1/T2: median {med:.2f} (range {min(speedups):.2f}-{max(speedups):.2f}), "
          f"parallel efficiency {med / 2:.0%}")
    print(f"CPU time of rank 0, 1 rank / 2 ranks: median {numpy.median(cpuSpeedups):.2f} "
          "(estimates the speed-up when every rank has a free core)")
    diff = float(numpy.max(numpy.abs(x2 - x1)) / numpy.max(numpy.abs(x1)))
    print(f"largest relative difference of the iterates (2 ranks vs 1): {diff:.2e}")
    cpu1 = min(runs[1]["cpu"] for runs in trials)
    comm2 = float(numpy.median([runs[2]["comm"] for runs in trials]))
    tComp = cpu1 / steps                          # compute (CPU time) per step on one rank
    tComm = comm2 / steps                         # reduction (and waiting) per step, 2 ranks
    print(f"per step: compute {1e3 * tComp:.2f} ms (CPU time, 1 rank), Allreduce "
          f"{1e3 * tComm:.3f} ms (2 ranks, wall clock); compute/communication = "
          f"{tComp / max(tComm, 1e-12):.0f}")


if __name__ == "__main__":
    main()
