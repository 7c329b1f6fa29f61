"""Data-parallel objectives over MPI: 2 real processes against one process, and the hooks.

The 2-rank tests start ``mpiexec -n 2`` through ``mg.runMPI`` (local processes and
shared-memory transports only, one thread each, killed after a timeout) on
``tests/mpi/run_ranks.py`` once, and compare what each rank saved with the same
problems solved here in one process (``tests/mpi/problems.py``). They need the ``mpi``
extra (mpi4py and an MPI launcher) and are skipped without it; the tests of the optimizer
hooks and of the error messages run everywhere.
"""
import importlib.util
import io
import json
import math
import sys
import contextlib
from pathlib import Path

import numpy as np
import pytest

import meganet as mg

sys.path.insert(0, str(Path(__file__).parent / "mpi"))
import mpi_problems as problems  # noqa: E402

SCRIPT = Path(__file__).parent / "mpi" / "run_ranks.py"
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
TIMEOUT = 300          # seconds for the whole 2-rank script (it takes a few seconds)
ROUNDOFF = 1e-12       # relative difference allowed between 2 ranks and 1 process


def relDiff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --------------------------------------------------------------------------- 2 real ranks
def runTwoRanks(script, outdir):
    """``script OUTDIR`` on 2 local ranks (skipped without the mpi extra); the finished process."""
    if not HAVE_MPI4PY:
        pytest.skip("mpi4py is not installed (pip install 'meganet[mpi]')")
    try:
        mg.mpiexecCommand(2)
    except FileNotFoundError as err:
        pytest.skip(str(err))
    proc = mg.runMPI(2, [str(script), str(outdir)], timeout=TIMEOUT)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Run the scenarios on 2 ranks; ``(rank results, rank infos, stdout)``."""
    out = tmp_path_factory.mktemp("mpi")
    proc = runTwoRanks(SCRIPT, out)
    res = [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]
    info = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return res, info, proc.stdout


def test_two_processes_were_started(ranks):
    _, info, _ = ranks
    assert [i["size"] for i in info] == [2, 2]
    assert [i["wrapped"] for i in info] == ["MPIObjFctn", "MPIObjFctn"]


def test_ranks_stay_in_lockstep(ranks):
    """Every rank holds the same iterates: the reductions give every rank the same numbers.

    (Same computation on every rank, so equal bits; this is what keeps the optimizers'
    branches -- line searches, stopping tests -- identical on all ranks.)
    """
    res, _, _ = ranks
    for key in res[0]:
        if key.startswith(("A_", "B_", "C_", "E_")):
            np.testing.assert_array_equal(res[0][key], res[1][key], err_msg=key)


def test_sgd_time_budget_stops_every_rank_after_the_same_mini_batch(ranks):
    """``maxTime``: rank 0's clock decides (rank 1's alone would stop after one mini-batch)."""
    res, info, _ = ranks
    assert info[0]["F_reason"] == info[1]["F_reason"] == "maxTime"
    assert info[0]["F_rows"] == info[1]["F_rows"]
    assert 1 < info[0]["F_rows"] < 50
    np.testing.assert_array_equal(res[0]["F_x"], res[1]["F_x"])


def test_sgd_on_two_ranks_equals_one_process(ranks, tmp_path):
    """Several SGD epochs, fixed seed, per-example layers: the same iterates to round-off."""
    res, _, _ = ranks
    fctn, x0 = problems.objective("batch")
    xc, His, xOpt = problems.sgd(3, checkpoint=tmp_path / "s.h5").solve(
        fctn, x0, problems.validation())
    assert relDiff(res[0]["A_x"], xc) <= ROUNDOFF
    assert relDiff(res[0]["A_xOpt"], xOpt) <= ROUNDOFF
    np.testing.assert_allclose(res[0]["A_his"], problems.historyWithoutTime(His), rtol=1e-10,
                               atol=1e-12)
    assert relDiff(xc, x0) > 1e-2          # it did move
    # resumed from a checkpoint read by every rank: the same as the uninterrupted run
    _, info, _ = ranks
    assert info[0]["B_exists"] and info[1]["B_exists"]
    assert all(0 < i["B_reductions"] < i["nReductions"] / 2 for i in info)   # 1 epoch of 3
    assert relDiff(res[0]["B_x"], xc) <= ROUNDOFF
    np.testing.assert_allclose(res[0]["B_his"], res[0]["A_his"], rtol=1e-12, atol=1e-14)


def test_only_rank0_prints_and_writes_checkpoints(ranks):
    _, info, stdout = ranks
    assert stdout.count("== sgd (") == 1
    assert stdout.count("val accuracy") == 1
    assert info[0]["A_writes"] >= 3 and info[0]["writes"] > info[0]["A_writes"]
    assert info[1]["writes"] == 0


def test_image_driver_under_mpiexec(tmp_path):
    """drivers/cnnDriver.py with --mpi on 2 ranks: trains, and only rank 0 prints and saves."""
    proc = runTwoRanks(Path(__file__).parent / "mpi" / "run_driver.py", tmp_path)
    info = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    # both ranks trained the data-parallel objectives; one epoch in the history
    assert [i["trained"] for i in info] == [[["MPIObjFctn", "MPIObjFctn"]]] * 2
    assert [i["historyRows"] for i in info] == [1, 1]
    # rank 0 alone wrote the results file and printed the driver's header and the table
    assert info[0]["saved"] == ["result.h5"] and info[1]["saved"] == []
    assert sorted(p.name for p in tmp_path.glob("*.h5")) == ["result.h5"]
    saved = mg.loadResults(tmp_path / "result.h5")
    assert np.all(np.isfinite(saved["xc"])) and saved["xc"].size == 78 + 50
    assert saved["settings"]["ntrain"] == 32
    assert proc.stdout.count("------- cnnDriver:") == 2        # two runs, one header each
    assert proc.stdout.count("== sgd (") == 1
    # rng=None: rank 0's seed is broadcast, so the ranks train from the same x0 in lockstep
    np.testing.assert_array_equal(info[0]["x"], info[1]["x"])
    # each rank its own augmentation generator
    aug = [np.load(tmp_path / f"rank{r}-aug.npy") for r in range(2)]
    assert not np.allclose(aug[0], aug[1])


def test_driver_mpi_in_one_process(monkeypatch):
    """Without a launcher (or with mpi=False) DriverMPI changes nothing a driver does."""
    import argparse
    for v in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(v, raising=False)
    for par in (mg.DriverMPI(), mg.DriverMPI(False), mg.DriverMPI.of(None)):
        assert (par.rank, par.size, par.writing, par.comm) == (0, 1, True, None)
        fctn = object()
        assert par.wrap(fctn) is fctn and par.wrap(None) is None
        rng = par.rng(4)
        assert par.augmentRng(rng) is rng
        assert rng.random() == np.random.default_rng(4).random()
    par = mg.DriverMPI(False)
    assert mg.DriverMPI.of(par) is par
    with pytest.raises(TypeError, match="mpi must be None, True or False; got 'yes'"):
        mg.DriverMPI("yes")
    p = mg.DriverMPI.addArgument(argparse.ArgumentParser())
    assert [p.parse_args(a).mpi for a in ([], ["--mpi"], ["--no-mpi"])] == [None, True, False]


def test_communication_is_one_gradient_per_step(ranks):
    """Bytes reduced: one gradient per mini-batch, plus a few scalars per call."""
    _, info, _ = ranks
    nBatch, epochs = 40 // 8, 3
    grads = nBatch * epochs * info[0]["bytesPerGradient"]
    assert grads <= info[0]["nBytes"] <= grads + info[0]["nReductions"] * 8 * 40


def test_value_gradient_history_and_gauss_newton_products(ranks):
    """Memory-mapped data, all examples / a subset / fewer examples than ranks."""
    res, info, _ = ranks
    assert info[0]["D_memmap"] and info[1]["D_memmap"]
    fctn, x0 = problems.objective("batch")
    J, para, g, H, _ = fctn(x0)
    v = np.random.default_rng(5).standard_normal(x0.size)
    for r in range(2):
        assert float(res[r]["D_J"]) == pytest.approx(float(J), rel=ROUNDOFF)
        assert relDiff(res[r]["D_g"], g) <= ROUNDOFF
        np.testing.assert_allclose(res[r]["D_hisVals"], para["hisVals"], rtol=ROUNDOFF)
        np.testing.assert_allclose(res[r]["D_lossPara"], para["lossPara"], rtol=ROUNDOFF)
        assert relDiff(res[r]["D_Hv"], H @ v) <= ROUNDOFF
        assert float(res[r]["D_Jnoderiv"]) == pytest.approx(float(J), rel=ROUNDOFF)
    idx = np.array([5, 17, 2, 33, 8, 21, 0])
    Js, _, gs = fctn(x0, idx)[:3]
    assert float(res[0]["D_Jidx"]) == pytest.approx(float(Js), rel=ROUNDOFF)
    assert relDiff(res[1]["D_gidx"], gs) <= ROUNDOFF
    J1, p1 = fctn(x0, np.array([9]))[:2]
    for r in range(2):
        assert float(res[r]["D_J1"]) == pytest.approx(float(J1), rel=ROUNDOFF)
        np.testing.assert_allclose(res[r]["D_lossPara1"], p1["lossPara"], rtol=ROUNDOFF)
        np.testing.assert_allclose(res[r]["D_hisVals1"], p1["hisVals"], rtol=ROUNDOFF)


@pytest.mark.parametrize("name", ["SD", "NLCG", "LBFGS", "Newton", "TRNewton"])
def test_deterministic_optimizers_on_two_ranks(ranks, name):
    """The same iterates as one process, to round-off amplified by the method.

    Newton's inexact CG steps (tolerance 0.1) amplify round-off: in one process, merely
    evaluating the same objective in two chunks instead of one moves its third iterate
    by about 1e-9 (relative), hence the looser tolerance there.
    """
    res, _, _ = ranks
    fctn, x0 = problems.objective("full", nEx=24, seed=3)
    opt = problems.deterministic()[name]
    opt.atol = opt.rtol = 1e-14
    xc, His, _ = opt.solve(fctn, x0)
    tol = 1e-7 if name == "Newton" else 1e-11
    assert relDiff(res[0]["E_" + name], xc) <= tol
    np.testing.assert_allclose(res[0]["E_his_" + name], np.asarray(His.his)[:, 1], rtol=tol)


def test_class_objective_on_two_ranks(ranks):
    res, _, _ = ranks
    fctn, W0 = problems.classProblem()
    W, _, _ = mg.Newton(maxIter=4, atol=1e-14, rtol=1e-14).solve(fctn, W0)
    assert relDiff(res[0]["E_class"], W) <= 1e-9


def test_batch_statistics_are_per_rank_share(ranks):
    """With batch normalization each rank normalizes its own share (documented semantics)."""
    res, _, _ = ranks
    fctn, x = problems.objective("full", batchNorm=True, nEx=20, seed=5)
    shares = fctn(x, np.arange(10))[0], fctn(x, np.arange(10, 20))[0]
    expected = 0.5 * float(shares[0]) + 0.5 * float(shares[1])
    assert float(res[0]["G_J"]) == pytest.approx(expected, rel=ROUNDOFF)
    assert abs(float(fctn(x)[0]) - expected) > 1e-6    # not the statistics of all 20


def test_errors_reach_every_rank(ranks):
    _, info, _ = ranks
    assert [i["I_badIdx"] for i in info] == ["ValueError", "ValueError"]
    # the objective raised on rank 0 only; rank 1 is told instead of waiting
    assert [i["I_fragile"] for i in info] == ["ArithmeticError", "RuntimeError"]
    # different x on the ranks (e.g. differently drawn starting points) is an error on all
    assert [i["I_lockstep"] for i in info] == [True, True]


# --------------------------------------------------------------------------- one process
class Quadratic:
    """J(x; idx) = mean_i |x - a_i|^2 / 2 with optional parallel hooks."""

    def __init__(self, writer=True, shared=None, hessian=False):
        self.A = np.random.default_rng(0).standard_normal((24, 3))
        self.writer, self.shared, self.hessian = writer, shared, hessian

    def nData(self):
        return 24

    def __call__(self, x, idx=None):
        A = self.A if idx is None else self.A[idx]
        d = x[None, :] - A
        out = 0.5 * float(np.mean(np.sum(d * d, axis=1))), {}, d.mean(axis=0)
        return out + (np.eye(3), None) if self.hessian else out

    def isWritingRank(self):
        return self.writer

    def bcastFromWriter(self, value):
        if self.shared is not None:
            self.shared.append(value)
        return value


def test_non_writing_process_prints_nothing_and_writes_no_checkpoint(tmp_path):
    shared = []
    f = Quadratic(writer=False, shared=shared)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mg.SGD(maxEpochs=2, miniBatch=6, out=1, rng=0, checkpoint=tmp_path / "c.h5").solve(
            f, np.zeros(3))
        mg.LBFGS(maxIter=3, out=1).solve(f, np.zeros(3))
        mg.TRNewton(maxIter=2, out=1).solve(Quadratic(writer=False, hessian=True), np.zeros(3))
    assert buf.getvalue() == ""
    assert not (tmp_path / "c.h5").exists()
    perms = [s for s in shared if s is not None]
    assert len(perms) == 2 and all(sorted(p) == list(range(24)) for p in perms)
    assert sum(s is None for s in shared) >= 2     # the waits for the writer's checkpoints


def test_a_failed_write_stops_every_process():
    """The writer's exception is raised there and reported to the waiting processes."""
    from meganet.optim.optimizer import Objective

    class Writer(Quadratic):
        def bcastFromWriter(self, value):      # rank 0: its value goes to the others
            sent.append(value)
            return value

    class Other(Quadratic):
        def bcastFromWriter(self, value):      # another rank: receives rank 0's value
            return sent[-1]

    def failingWrite():
        raise OSError("disk full")
    sent = []
    with pytest.raises(OSError, match="disk full"):
        Objective(Writer(writer=True), "SGD").runOnWriter(failingWrite)
    assert sent == ["OSError: disk full"]
    calls = []
    with pytest.raises(RuntimeError, match="SGD: the writing process failed: OSError: disk full"):
        Objective(Other(writer=False), "SGD").runOnWriter(lambda: calls.append(1))
    assert calls == []                       # only the writer writes
    sent.append(None)
    Objective(Other(writer=False), "SGD").runOnWriter(lambda: calls.append(1))
    with pytest.raises(OSError):             # without waiting: no exchange at all
        Objective(Writer(writer=True), "SGD").runOnWriter(failingWrite, wait=False)
    assert sent == ["OSError: disk full", None] and calls == []


def test_writing_process_output_unchanged(tmp_path):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mg.SGD(maxEpochs=1, miniBatch=6, out=1, rng=0, progress=False,
               checkpoint=tmp_path / "c.h5").solve(Quadratic(), np.zeros(3))
    assert "== sgd (" in buf.getvalue()
    assert (tmp_path / "c.h5").exists()


def test_wrap_mpi_without_launcher_returns_the_objective(monkeypatch):
    for v in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(v, raising=False)
    f = Quadratic()
    assert not mg.startedByMPI()
    assert mg.wrapMPI(f) is f
    assert mg.wrapMPI(None) is None
    assert mg.isWritingRank(f) is True and mg.isWritingRank(None) is True


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'meganet\[mpi\]'"):
        mg.MPIObjFctn(Quadratic())
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(ImportError, match="mpi4py"):
        mg.wrapMPI(Quadratic())


def test_rejected_objectives():
    net = problems.network()
    Y, C = problems.data(6, 0)
    nW = 3 * (net.numelFeatOut() + 1)
    vp = mg.DnnVarProObjFctn(net, None, mg.SoftmaxLoss(), mg.TikhonovReg(mg.opEye(nW), alpha=1e-2),
                             None, Y, C, nW)
    with pytest.raises(TypeError, match="DnnVarProObjFctn is not supported"):
        mg.MPIObjFctn(vp)
    with pytest.raises(TypeError, match="callable"):
        mg.MPIObjFctn(42)


@pytest.mark.skipif(not HAVE_MPI4PY, reason="mpi4py is not installed")
def test_one_process_communicator_gives_the_objective_itself():
    fctn, x0 = problems.objective("batch", nEx=12)
    par = mg.MPIObjFctn(fctn)
    assert (par.rank, par.size) == (0, 1) and par.isWritingRank()
    assert par.bcastFromWriter(np.arange(3)).tolist() == [0, 1, 2]
    J, para, g, H, PC = par(x0)
    J1, para1, g1, H1, _ = fctn(x0)
    assert float(J) == pytest.approx(float(J1), rel=1e-14) and PC is None
    np.testing.assert_allclose(g, g1, rtol=1e-14, atol=1e-16)
    assert para["hisNames"] == para1["hisNames"]
    assert par.nData() == 12 and par.net is fctn.net        # attributes of the objective
    with pytest.raises(ValueError, match=r"integer indices in \[0, 12\)"):
        par(x0, np.array([0.5]))
    with pytest.raises(ValueError, match="selects no examples"):
        par(x0, np.array([], dtype=int))
    with pytest.raises(TypeError, match="mpi4py communicator"):
        mg.MPIObjFctn(fctn, comm=object())
    with pytest.raises(TypeError, match="already data-parallel"):
        mg.MPIObjFctn(par)
    with pytest.raises(ValueError, match="positive integer"):
        mg.mpiexecCommand(0)
    with pytest.raises(TypeError, match="list of strings"):
        mg.runMPI(2, "script.py")
    assert math.isfinite(par.nBytes) and par.nReductions == 2


@pytest.mark.skipif(not HAVE_MPI4PY, reason="mpi4py is not installed")
def test_device_arrays_are_reduced_through_the_host(useGPU):
    """Device arrays (CuPy-like) stay on the device; without CUDA-aware MPI they are
    copied to the host for the reduction and back."""
    fctn, x0 = problems.objective("batch", nEx=12, useGPU=useGPU)
    par = mg.MPIObjFctn(fctn, cudaAware=False)
    J, para, g, H, _ = par(x0, np.arange(12))
    J1, _, g1, H1, _ = fctn(x0)
    assert mg.backend.isDeviceArray(g) == useGPU
    v = mg.asArray(np.random.default_rng(1).standard_normal(x0.size), useGPU=useGPU)
    Hv = H @ v
    assert mg.backend.isDeviceArray(Hv) == useGPU
    np.testing.assert_allclose(mg.toHost(g), mg.toHost(g1), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(mg.toHost(Hv), mg.toHost(H1 @ v), rtol=1e-13, atol=1e-16)
    assert float(J) == pytest.approx(float(J1), rel=1e-14)
    xc, His, _ = problems.sgd(1).solve(par, x0)
    assert mg.backend.isDeviceArray(xc) == useGPU and His.his.shape[0] == 1
