"""Run under ``mpiexec -n 2``: a tiny image driver (``drivers/cnnDriver.py``) trained data-parallel.

Usage: ``mpiexec -n 2 python tests/mpi/run_driver.py OUTDIR``. The driver trains on the
embedded Fashion-MNIST subset with augmentation and writes ``OUTDIR/result.h5``; each rank
records in ``OUTDIR/rank<r>.json`` which results files it wrote, the types of the objectives
its optimizer was given and its final weights (``rng=None``: the seed is broadcast), and
``OUTDIR/rank<r>-aug.npy`` its first augmentation draws.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

import meganet as mg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drivers"))
import cnnDriver  # noqa: E402


def main(outdir):
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.Get_rank()
    saved = []
    realSave = mg.saveResults

    def recordingSave(path, *args, **kw):
        saved.append(os.path.basename(path))
        return realSave(path, *args, **kw)
    cnnDriver.mg.saveResults = recordingSave

    # the driver's own command line (--mpi), as a user would start it
    His = cnnDriver.main(["--dataset", "fashionmnist", "--ntrain", "32", "--nval", "16", "--nf", "2", "4",
                          "--nt", "1", "--epochs", "1", "--batch", "16", "--precision", "double",
                          "--res-file", os.path.join(outdir, "result"), "--mpi", "--seed", "3"])
    cnnDriver.mg.saveResults = realSave
    # the function with an optimizer that records the objective it is given; this rank's augmentation
    seen = []

    class RecordingSGD(mg.SGD):
        def solve(self, fctn, x0, fval=None, resume=False):
            seen.append((type(fctn).__name__, type(fval).__name__))
            return super().solve(fctn, x0, fval, resume)

    par = mg.DriverMPI(True)
    np.save(os.path.join(outdir, f"rank{rank}-aug.npy"), par.augmentRng(par.rng(5)).random(4))
    xc, _, _ = cnnDriver.cnnDriver("fashionmnist", "parabolic", 32, 16, [2, 4], 1, 1.0, False, "double",
                                   RecordingSGD(maxEpochs=1, miniBatch=16, out=0), None, None, None, None,
                                   rng=None, mpi=par)
    info = dict(saved=saved, trained=seen, historyRows=int(np.asarray(His["epoch"]).size), x=xc.tolist())
    with open(os.path.join(outdir, f"rank{rank}.json"), "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    main(sys.argv[1])
