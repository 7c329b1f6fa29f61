"""Run under ``mpiexec -n 2``: data-parallel training scenarios; each rank saves its results.

Usage: ``mpiexec -n 2 python tests/mpi/run_ranks.py OUTDIR``. Rank r writes
``OUTDIR/rank<r>.npz`` (iterates, histories, Hessian products) and ``OUTDIR/rank<r>.json``
(counts and exception names); test_mpi.py compares them with one-process runs.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import meganet as mg  # noqa: E402
import meganet.optim.sgd as sgdmodule  # noqa: E402
import mpi_problems as problems  # noqa: E402


def main(outdir):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    res, info = {}, {"size": comm.Get_size()}

    # count checkpoint writes on this rank
    writes = []
    realWrite = sgdmodule.writeCheckpoint

    def countingWrite(path, *args, **kw):
        writes.append(path)
        realWrite(path, *args, **kw)
    sgdmodule.writeCheckpoint = countingWrite

    # A: SGD, per-example layers, validation, checkpoints every epoch, printed table
    fctn, x0 = problems.objective("batch")
    par = mg.wrapMPI(fctn)
    info["wrapped"] = type(par).__name__
    fval = mg.wrapMPI(problems.validation())
    ckA = os.path.join(outdir, "A.h5")
    xc, His, xOpt = problems.sgd(3, out=1, checkpoint=ckA).solve(par, x0, fval)
    res["A_x"], res["A_xOpt"], res["A_his"] = xc, xOpt, problems.historyWithoutTime(His)
    info["A_writes"] = len(writes)
    info["bytesPerGradient"] = int(x0.nbytes)
    info["nBytes"], info["nReductions"] = par.nBytes, par.nReductions

    # B: the same run stopped after 2 epochs, then resumed to 3 (every rank reads the file)
    ckB = os.path.join(outdir, "B.h5")
    problems.sgd(2, checkpoint=ckB).solve(par, x0, fval)
    info["B_exists"] = os.path.exists(ckB)          # rank 0's file, seen by every rank
    before = par.nReductions
    xB, HisB, _ = problems.sgd(3, checkpoint=ckB).solve(par, x0, fval, resume=True)
    info["B_reductions"] = par.nReductions - before
    res["B_x"], res["B_his"] = xB, problems.historyWithoutTime(HisB)

    # C: fresh entropy on every rank and ADAM: the permutation must come from rank 0
    xC, _, _ = mg.SGD(maxEpochs=1, miniBatch=8, ADAM=True, nesterov=False, rng=None,
                      learningRate=1e-2).solve(par, x0)
    res["C_x"] = xC

    # D: memory-mapped data
    Y, C = problems.data(40, 1)
    path = os.path.join(outdir, "Y.npy")
    if rank == 0:
        np.save(path, Y)
    comm.Barrier()
    Ymm = np.load(path, mmap_mode="r")
    fmm, _ = problems.objective("batch", Y=Ymm, C=C)
    info["D_memmap"] = isinstance(fmm.Y, np.memmap)
    pmm = mg.MPIObjFctn(fmm, comm)
    Jd, pd, gd, Hd, _ = pmm(x0)
    res["D_J"], res["D_g"], res["D_hisVals"] = np.array(Jd), gd, np.array(pd["hisVals"])
    res["D_lossPara"] = np.asarray(pd["lossPara"])
    v = np.random.default_rng(5).standard_normal(x0.size)
    res["D_Hv"] = Hd @ v
    idx = np.array([5, 17, 2, 33, 8, 21, 0])
    Js, ps, gs = pmm(x0, idx)[:3]
    res["D_Jidx"], res["D_gidx"] = np.array(Js), gs
    J1, p1 = pmm(x0, np.array([9]))[:2]                           # rank 1 has no example
    res["D_J1"], res["D_lossPara1"] = np.array(J1), np.asarray(p1["lossPara"])
    res["D_hisVals1"] = np.array(p1["hisVals"])
    res["D_Jnoderiv"] = np.array(pmm(x0, doDerivative=False)[0])

    # E: deterministic optimizers on the full-batch objective and on ClassObjFctn
    ffull, _ = problems.objective("full", nEx=24, seed=3)
    pfull = mg.MPIObjFctn(ffull, comm)
    for name, opt in problems.deterministic().items():
        opt.atol = opt.rtol = 1e-14
        xE, HisE, _ = opt.solve(pfull, x0)
        res["E_" + name] = xE
        res["E_his_" + name] = np.asarray(HisE.his)[:, 1]
    fcl, W0 = problems.classProblem()
    xCl, _, _ = mg.Newton(maxIter=4, atol=1e-14, rtol=1e-14).solve(mg.MPIObjFctn(fcl, comm), W0)
    res["E_class"] = xCl

    # G: batch statistics per rank's share
    fbn, xbn = problems.objective("full", batchNorm=True, nEx=20, seed=5)
    res["G_J"] = np.array(mg.MPIObjFctn(fbn, comm)(xbn)[0])

    # F: a time budget decided by rank 0: rank 1's clock says "out of time" after its
    # first reading, rank 0's advances one second per reading; both stop together
    class Clock:
        readings = 0

        @classmethod
        def perf_counter(cls):
            cls.readings += 1
            return float(cls.readings) if rank == 0 else (0.0 if cls.readings == 1 else 1e9)
    realTime = sgdmodule.time
    sgdmodule.time = Clock
    try:
        xF, HisF, _ = problems.sgd(50, maxTime=15).solve(par, x0)
    finally:
        sgdmodule.time = realTime
    res["F_x"] = xF
    info["F_reason"], info["F_rows"] = HisF.stopReason, HisF.nRows

    # I: errors
    try:
        pmm(x0, np.array([0, 40]))
    except ValueError:
        info["I_badIdx"] = "ValueError"

    class Fragile:
        """Raises on the rank whose share holds example 0."""

        def __init__(self, f):
            self.f = f

        def nData(self):
            return self.f.nData()

        def __call__(self, x, idx=None):
            if idx is None or 0 in idx:
                raise ArithmeticError("example 0 is cursed")
            return self.f(x, idx)
    try:
        mg.MPIObjFctn(Fragile(fmm), comm)(x0, np.arange(10))
    except Exception as e:  # noqa: BLE001 -- the type is what is checked
        info["I_fragile"] = type(e).__name__
    try:
        pmm(x0 + 1e-3 * rank)              # ranks out of lockstep
    except RuntimeError as e:
        info["I_lockstep"] = "lockstep" in str(e)
    info["writes"] = len(writes)

    np.savez(os.path.join(outdir, f"rank{rank}.npz"), **{k: mg.toHost(v) for k, v in res.items()})
    with open(os.path.join(outdir, f"rank{rank}.json"), "w") as fh:
        json.dump(info, fh)


if __name__ == "__main__":
    main(sys.argv[1])
