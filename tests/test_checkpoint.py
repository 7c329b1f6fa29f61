"""SGD checkpoints: atomic writes, interruption (Ctrl-C and hard kills), resumption, .mat export."""
import glob
import math
import os

import h5py
import numpy as np
import pytest
import scipy.io

import meganet as mg
import meganet.optim.checkpoint as ckmod
from meganet.backend import asArray, toHost
from test_sgd import LeastSquares, Logistic

EPOCHS, MB = 5, 8          # N = 60 -> 7 mini-batches per epoch (4 examples dropped)
CALLS_PER_EPOCH = 60 // MB + 1


class Kill(BaseException):
    """A hard kill: nothing in the optimizer may catch it."""


def options(**kw):
    opts = dict(maxEpochs=EPOCHS, miniBatch=MB, learningRate=lambda e: 0.05 / e, rng=123)
    opts.update(kw)
    return opts


def reference(variant="nesterov", useGPU=False, fval=False):
    prob = LeastSquares(N=60, n=5, seed=4, useGPU=useGPU)
    val = LeastSquares(N=30, n=5, seed=5, useGPU=useGPU) if fval else None
    kw = {"ADAM": True, "nesterov": False} if variant == "adam" else {}
    x0 = asArray(np.linspace(-1, 1, 5), useGPU)
    return mg.SGD(**options(**kw)).solve(prob, x0, val), kw, x0


def assertSameRun(a, b):
    xa, Ha, Oa = a
    xb, Hb, Ob = b
    np.testing.assert_allclose(toHost(xa), toHost(xb), rtol=0, atol=1e-12)
    np.testing.assert_allclose(toHost(Oa), toHost(Ob), rtol=0, atol=1e-12)
    assert Ha.names == Hb.names
    for name in Ha.names:
        if name != "Time":
            np.testing.assert_allclose(Ha[name], Hb[name], rtol=1e-12, atol=1e-14, err_msg=name)


def tmpFiles(path):
    return glob.glob(str(path) + ".*.tmp")


@pytest.mark.parametrize("variant", ["nesterov", "adam"])
def test_checkpointing_does_not_change_the_run(tmp_path, variant):
    ref, kw, x0 = reference(variant)
    path = tmp_path / "run.h5"
    res = mg.SGD(checkpoint=path, **options(**kw)).solve(LeastSquares(N=60, n=5, seed=4), x0)
    assertSameRun(ref, res)
    ck = mg.load_checkpoint(path)
    assert ck["epoch"] == EPOCHS + 1 and ck["k"] == 0 and ck["it"] == EPOCHS * 7
    np.testing.assert_array_equal(ck["x"], res[0])
    np.testing.assert_array_equal(ck["his"], res[1].his)
    assert ck["names"] == res[1].names and ck["stopReason"] == "maxEpochs"
    assert ck["options"]["miniBatch"] == MB and ck["options"]["ADAM"] == (variant == "adam")
    assert ck["rngState"]["bit_generator"] == "PCG64"
    assert ("mJ" in ck and "vJ" in ck and "v" not in ck) if variant == "adam" else ("v" in ck)
    assert tmpFiles(path) == []


@pytest.mark.parametrize("variant", ["nesterov", "adam"])
@pytest.mark.parametrize("failAt", [3, 2 * CALLS_PER_EPOCH + 5, 3 * CALLS_PER_EPOCH])
def test_keyboard_interrupt_then_resume(tmp_path, variant, failAt, useGPU):
    # failAt: mini-batch 3 of epoch 1; mini-batch 5 of epoch 3; the end-of-epoch evaluation
    ref, kw, x0 = reference(variant, useGPU, fval=True)
    path = tmp_path / "run.h5"
    prob = LeastSquares(N=60, n=5, seed=4, useGPU=useGPU, failAt=failAt)
    val = LeastSquares(N=30, n=5, seed=5, useGPU=useGPU)
    with pytest.raises(KeyboardInterrupt):
        mg.SGD(checkpoint=path, **options(**kw)).solve(prob, x0, val)
    ck = mg.load_checkpoint(path)
    epoch, k = divmod(failAt - 1, CALLS_PER_EPOCH)
    assert (ck["epoch"], ck["k"]) == (epoch + 1, k)     # the state after the last mini-batch
    assert ck["it"] == epoch * 7 + k and len(ck.get("his", [])) == epoch
    # resume in a "new process": fresh objective and optimizer, same options
    prob2 = LeastSquares(N=60, n=5, seed=4, useGPU=useGPU)
    res = mg.SGD(**options(**kw)).resume(prob2, val, path=path)
    assertSameRun(ref, res)
    assert type(res[0]) is type(x0)
    # solve(..., resume=True) on the finished run's checkpoint: nothing left to do
    res2 = mg.SGD(checkpoint=path, **options(**kw)).solve(
        LeastSquares(N=60, n=5, seed=4, useGPU=useGPU), x0, val, resume=True)
    assertSameRun(ref, res2)


@pytest.mark.parametrize("where", ["create_dataset", "replace"])
def test_kill_while_writing_keeps_last_checkpoint(tmp_path, monkeypatch, where):
    ref, kw, x0 = reference()
    path = tmp_path / "run.h5"
    nWrites = {"n": 0}
    if where == "create_dataset":
        orig = h5py.Group.create_dataset

        def failing(self, name, *a, **k):
            if name == "x":
                nWrites["n"] += 1
                if nWrites["n"] == 3:          # in the middle of the 3rd checkpoint file
                    raise Kill()
            return orig(self, name, *a, **k)
        monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    else:
        orig = os.replace

        def failing(src, dst):
            nWrites["n"] += 1
            if nWrites["n"] == 3:              # temp file complete, not yet moved
                raise Kill()
            return orig(src, dst)
        monkeypatch.setattr(ckmod.os, "replace", failing)
    with pytest.raises(Kill):
        mg.SGD(checkpoint=path, **options()).solve(LeastSquares(N=60, n=5, seed=4), x0)
    monkeypatch.undo()
    assert tmpFiles(path) == []            # the partial temp file was removed
    ck = mg.load_checkpoint(path)          # the last good checkpoint: after epoch 2
    assert (ck["epoch"], ck["k"]) == (3, 0) and ck["his"].shape[0] == 2
    res = mg.SGD(checkpoint=path, **options()).solve(LeastSquares(N=60, n=5, seed=4), x0,
                                                     resume=True)
    assertSameRun(ref, res)


def test_failed_write_on_interrupt_keeps_previous(tmp_path, monkeypatch):
    ref, kw, x0 = reference()
    path = tmp_path / "run.h5"
    prob = LeastSquares(N=60, n=5, seed=4, failAt=2 * CALLS_PER_EPOCH + 3)
    orig = os.replace
    n = {"k": 0}

    def failing(src, dst):
        n["k"] += 1
        if n["k"] == 3:
            raise OSError("disk full")
        return orig(src, dst)
    monkeypatch.setattr(ckmod.os, "replace", failing)
    with pytest.warns(RuntimeWarning, match="could not write the checkpoint .* disk full"):
        with pytest.raises(KeyboardInterrupt):
            mg.SGD(checkpoint=path, **options()).solve(prob, x0)
    monkeypatch.undo()
    ck = mg.load_checkpoint(path)
    assert (ck["epoch"], ck["k"]) == (3, 0)
    res = mg.SGD(**options()).resume(LeastSquares(N=60, n=5, seed=4), path=path)
    assertSameRun(ref, res)


def test_nonfinite_keeps_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.h5"
    x0 = np.linspace(-1, 1, 5)
    nanAt = 3 * CALLS_PER_EPOCH + 4        # epoch 4, mini-batch 4
    prob = LeastSquares(N=60, n=5, seed=4, nanAt=nanAt)
    with pytest.raises(FloatingPointError, match="at epoch 4, iteration 4 of 7"):
        mg.SGD(checkpoint=path, **options()).solve(prob, x0)
    ck = mg.load_checkpoint(path)
    assert (ck["epoch"], ck["k"]) == (4, 0) and ck["his"].shape[0] == 3
    assert np.all(np.isfinite(ck["x"]))
    ref = mg.SGD(**options(maxEpochs=3)).solve(LeastSquares(N=60, n=5, seed=4), x0)
    np.testing.assert_allclose(ck["x"], ref[0], rtol=0, atol=1e-12)


def test_checkpointEvery_and_continuing_with_more_epochs(tmp_path, monkeypatch):
    path = tmp_path / "run.h5"
    x0 = np.linspace(-1, 1, 5)
    written = []
    orig = ckmod.writeCheckpoint

    def spy(p, arrays, meta, state=None):
        written.append((meta["epoch"], meta["k"]))
        return orig(p, arrays, meta, state)
    monkeypatch.setattr("meganet.optim.sgd.writeCheckpoint", spy)
    mg.SGD(checkpoint=path, checkpointEvery=2, **options(maxEpochs=3)).solve(
        LeastSquares(N=60, n=5, seed=4), x0)
    assert written == [(3, 0), (4, 0)]     # after epoch 2, and the final state
    # train 2 more epochs from the checkpoint = one run of 5 epochs
    res = mg.SGD(checkpoint=path, **options(maxEpochs=5)).resume(LeastSquares(N=60, n=5, seed=4))
    ref = mg.SGD(**options(maxEpochs=5)).solve(LeastSquares(N=60, n=5, seed=4), x0)
    assertSameRun(ref, res)


def test_lossTol_run_is_finished_on_resume(tmp_path):
    path = tmp_path / "run.h5"
    prob = LeastSquares(N=60, n=5, seed=4, noise=0.0)
    opts = options(lossTol=0.05, maxEpochs=40)
    xc, His, _ = mg.SGD(checkpoint=path, **opts).solve(prob, np.zeros(5))
    assert His.stopReason == "lossTol"
    prob2 = LeastSquares(N=60, n=5, seed=4, noise=0.0)
    xr, Hr, _ = mg.SGD(checkpoint=path, **opts).resume(prob2)
    assert prob2.calls == [] and Hr.stopReason == "lossTol"
    np.testing.assert_array_equal(xr, xc)


def test_resume_errors_and_warnings(tmp_path):
    path = tmp_path / "run.h5"
    x0 = np.zeros(5)
    with pytest.raises(FileNotFoundError, match="no file"):
        mg.SGD(**options()).resume(LeastSquares(N=60, n=5), path=path)
    with pytest.raises(ValueError, match="resume=True needs the checkpoint option"):
        mg.SGD(**options()).solve(LeastSquares(N=60, n=5), x0, resume=True)
    with pytest.warns(UserWarning, match="no checkpoint .* starting from x0"):
        mg.SGD(checkpoint=path, **options(maxEpochs=1)).solve(LeastSquares(N=60, n=5), x0,
                                                              resume=True)
    with pytest.raises(ValueError, match=r"what differs:\n  data nEx: 60 in the checkpoint, 64 now"):
        mg.SGD(**options()).resume(LeastSquares(N=64, n=5), path=path)
    with pytest.raises(ValueError, match="holds 5 weights but x0 has 4"):
        mg.SGD(checkpoint=path, **options()).solve(LeastSquares(N=60, n=4), np.zeros(4),
                                                   resume=True)
    with pytest.raises(ValueError, match="optimizer ADAM: False in the checkpoint, True now"):
        mg.SGD(**options(ADAM=True, nesterov=False)).resume(LeastSquares(N=60, n=5), path=path)
    with pytest.raises(ValueError, match="optimizer miniBatch: 8 in the checkpoint, 4 now"):
        mg.SGD(**options(miniBatch=4)).resume(LeastSquares(N=60, n=5), path=path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(mg.CheckpointError, match="other.h5' is not a valid meganet checkpoint"):
        mg.load_checkpoint(other)
    with pytest.raises(TypeError, match="checkpoint must be a file path"):
        mg.SGD(checkpoint=3)


def test_save_and_load_mat(tmp_path):
    train = Logistic(N=200, n=4, seed=0)
    val = Logistic(N=100, n=4, seed=1, wTrue=train.wTrue)
    xc, His, xOpt = mg.SGD(maxEpochs=3, miniBatch=10, rng=0).solve(train, np.zeros(4), val)
    path = tmp_path / "res.mat"
    mg.save_mat(path, xc, His, xOpt)
    raw = scipy.io.loadmat(path, simplify_cells=True)
    assert raw["xc"].shape == (4,) and np.array_equal(raw["xc"], xc)
    S = raw["His"]
    assert set(S) == {"epoch", "Jc", "c__x_xOld_", "lr", "TotalWork", "Time", "train_misfit",
                      "train_accuracy", "val_Jc", "val_misfit", "val_accuracy"}
    np.testing.assert_array_equal(S["val_accuracy"], His["val accuracy"])
    assert list(raw["HisNames"]) == His.names
    np.testing.assert_array_equal(raw["HisMatrix"], His.his)
    # MATLAB layout: column vectors
    raw2 = scipy.io.loadmat(path)
    assert raw2["xc"].shape == (4, 1) and raw2["His"]["epoch"][0, 0].shape == (3, 1)
    xc2, His2, xOpt2 = mg.load_mat(path)
    np.testing.assert_array_equal(xc2, xc)
    np.testing.assert_array_equal(xOpt2, xOpt)
    assert His2.names == His.names and His2.stopReason == "maxEpochs"
    np.testing.assert_array_equal(His2.his, His.his)
    mg.save_mat(tmp_path / "b.mat", asArray(xc, False), His)
    assert mg.load_mat(tmp_path / "b.mat")[2] is None
    with pytest.raises(TypeError, match="His must be a History"):
        mg.save_mat(tmp_path / "c.mat", xc, {"a": 1})


def test_save_mat_device(tmp_path, device):
    xc = asArray(np.arange(3.0), True)
    His = mg.History(["iter", "Jc"], [[0, 1.0], [1, 0.5]])
    mg.save_mat(tmp_path / "d.mat", xc, His, xc)
    xr, Hr, xo = mg.load_mat(tmp_path / "d.mat")
    np.testing.assert_array_equal(xr, np.arange(3.0))
    assert math.isclose(Hr["Jc"][1], 0.5)
    H = mg.History(["a", "a"], [[1, 2]])
    assert H.names == ["a", "a (2)"] and H["a (2)"][0] == 2
    with pytest.raises(ValueError, match="row 0 has 1 values; expected 2"):
        mg.History(["a", "b"], [[1]])
