"""Reliability: no lost training, no silent wrong numbers (see docs/reliability.md).

Each test here covers a defect that an earlier version had; the comment at its top says
what happened before.
"""
import os
import signal
import stat

import h5py
import numpy as np
import pytest
import scipy.io

import meganet as mg
import meganet.optim.checkpoint as ckmod
from meganet.backend import asArray, toHost
from test_checkpoint import CALLS_PER_EPOCH, assertSameRun, options, reference, tmpFiles
from test_sgd import LeastSquares


def lsq(**kw):
    return LeastSquares(N=60, n=5, seed=4, **kw)


X0 = np.linspace(-1, 1, 5)


# =========================================================================== overwriting
def test_fresh_solve_refuses_to_overwrite_a_checkpoint(tmp_path):
    # before: a fresh solve() silently replaced the checkpoint of an earlier run
    path = tmp_path / "run.h5"
    mg.SGD(checkpoint=path, **options(maxEpochs=2)).solve(lsq(), X0)
    before = path.read_bytes()
    prob = lsq()
    with pytest.raises(FileExistsError, match=r"run.h5' already exists; pass resume=True to "
                                              r"solve\(\) .* or overwrite=True"):
        mg.SGD(checkpoint=path, **options()).solve(prob, X0)
    assert prob.calls == [] and path.read_bytes() == before
    # resume() writing to another existing file is refused as well
    other = tmp_path / "other.h5"
    other.write_bytes(before)
    with pytest.raises(FileExistsError, match="other.h5' already exists"):
        mg.SGD(checkpoint=other, **options()).resume(lsq(), path=path)
    # overwrite=True starts a new run on that file
    res = mg.SGD(checkpoint=path, overwrite=True, **options()).solve(lsq(), X0)
    assertSameRun(reference()[0], res)
    assert mg.load_checkpoint(path)["epoch"] == options()["maxEpochs"] + 1
    with pytest.raises(ValueError, match="overwrite must be True/False"):
        mg.SGD(overwrite="yes")


# =========================================================================== writability
def test_unwritable_checkpoint_fails_before_the_first_epoch(tmp_path):
    # before: a raw error after a full epoch of work, whose result was lost
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    prob = lsq()
    with pytest.raises(OSError, match=r"cannot write the checkpoint .*afile/run.h5"):
        mg.SGD(checkpoint=blocker / "run.h5", **options()).solve(prob, X0)
    assert prob.calls == []          # nothing computed
    with pytest.raises(OSError, match="cannot write the checkpoint .* is a directory"):
        mg.SGD(checkpoint=tmp_path, **options()).solve(lsq(), X0)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permission bits do not restrict the super-user")
def test_read_only_folder_fails_before_the_first_epoch(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    prob = lsq()
    try:
        with pytest.raises(PermissionError, match="cannot write the checkpoint"):
            mg.SGD(checkpoint=folder / "run.h5", **options()).solve(prob, X0)
    finally:
        folder.chmod(0o755)
    assert prob.calls == []


def test_read_only_folder_simulated_fails_before_the_first_epoch(tmp_path, monkeypatch):
    # the same as above for every user (the super-user ignores permission bits): creating
    # a file in the folder is refused
    folder = tmp_path / "ro"
    folder.mkdir()
    orig = os.open

    def refusing(path, flags, *args, **kw):
        if os.path.dirname(os.fspath(path)) == str(folder) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return orig(path, flags, *args, **kw)
    monkeypatch.setattr(ckmod.os, "open", refusing)
    prob = lsq()
    with pytest.raises(PermissionError, match=r"cannot write the checkpoint .*ro/run.h5' "
                                              r"\(Permission denied\)"):
        mg.SGD(checkpoint=folder / "run.h5", **options()).solve(prob, X0)
    assert prob.calls == []


def test_write_failure_mid_run_warns_once_and_training_goes_on(tmp_path, monkeypatch):
    # before: the first failed write (disk full, folder removed) ended the run
    path = tmp_path / "run.h5"
    orig = os.replace
    n = {"k": 0}

    def failing(src, dst):
        n["k"] += 1
        if n["k"] >= 2:                   # every write after the first one fails
            raise OSError(28, "No space left on device")
        return orig(src, dst)
    monkeypatch.setattr(ckmod.os, "replace", failing)
    with pytest.warns(RuntimeWarning) as rec:
        res = mg.SGD(checkpoint=path, **options()).solve(lsq(), X0)
    monkeypatch.undo()
    msgs = [str(w.message) for w in rec if "checkpoint" in str(w.message)]
    assert len(msgs) == 1 and "run.h5" in msgs[0] and "No space left" in msgs[0]
    assert n["k"] == options()["maxEpochs"] + 1   # it kept trying: every epoch and the end
    assertSameRun(reference()[0], res)             # training went on
    ck = mg.load_checkpoint(path)                  # the previous (first) checkpoint stays
    assert (ck["epoch"], ck["k"]) == (2, 0)
    assert tmpFiles(path) == []


# =========================================================================== signals
class _OldHandlerCalled(Exception):
    """Raised by the test's own SIGTERM handler (which SGD must replace while solving)."""


def _raiseOld(signum, frame):
    raise _OldHandlerCalled()


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_writes_last_step_prints_one_line_and_resume_reproduces_the_run(
        tmp_path, capsys, sig):
    # before: SIGTERM killed the process without a checkpoint of the epoch in progress;
    # SIGINT wrote one but did not say where or how to resume
    signum = getattr(signal, sig)
    failAt = 2 * CALLS_PER_EPOCH + 4           # during mini-batch 4 of epoch 3

    class Signalling(LeastSquares):
        def __call__(self, x, idx=None):
            if len(self.calls) + 1 == failAt:
                os.kill(os.getpid(), signum)
            return super().__call__(x, idx)

    ref, kw, x0 = reference(fval=True)
    val = LeastSquares(N=30, n=5, seed=5)
    path = tmp_path / "run.h5"
    previous = signal.signal(signal.SIGTERM, _raiseOld)
    try:
        expected = SystemExit if sig == "SIGTERM" else KeyboardInterrupt
        with pytest.raises(expected) as info:
            mg.SGD(checkpoint=path, **options()).solve(Signalling(N=60, n=5, seed=4), x0, val)
        assert signal.getsignal(signal.SIGTERM) is _raiseOld     # handler restored
    finally:
        signal.signal(signal.SIGTERM, previous)
    if sig == "SIGTERM":
        assert info.value.code == 128 + signal.SIGTERM
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"stopped by {sig}" in err[0] and str(path) in err[0] and "resume=True" in err[0]
    assert "epoch 3 (3 of 7 mini-batches done)" in err[0]
    ck = mg.load_checkpoint(path)
    assert (ck["epoch"], ck["k"], ck["it"]) == (3, 3, 2 * 7 + 3)
    res = mg.SGD(checkpoint=path, **options()).solve(lsq(), x0, val, resume=True)
    assertSameRun(ref, res)


def test_no_signal_handler_without_checkpoint():
    previous = signal.getsignal(signal.SIGTERM)
    seen = []

    class Spy(LeastSquares):
        def __call__(self, x, idx=None):
            seen.append(signal.getsignal(signal.SIGTERM))
            return super().__call__(x, idx)
    mg.SGD(**options(maxEpochs=1)).solve(Spy(N=60, n=5, seed=4), X0)
    assert all(h is previous for h in seen)


# =========================================================================== files
def test_stale_tmp_files_removed_on_next_successful_write(tmp_path):
    # before: temp files of killed writes accumulated next to the checkpoint
    path = tmp_path / "run.h5"
    stale = [tmp_path / "run.h5.k3j_x9q2.tmp", tmp_path / "run.h5.0a1b2c3d.tmp"]
    keep = [tmp_path / "run.h5.notes.tmp", tmp_path / "other.h5.abcdefgh.tmp",
            tmp_path / "run.h5.k3j_x9q2.tmp.bak"]
    for p in stale + keep:
        p.write_bytes(b"partial")
    mg.SGD(checkpoint=path, **options(maxEpochs=1)).solve(lsq(), X0)
    assert [p.exists() for p in stale] == [False, False]
    assert all(p.exists() for p in keep)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoint_honours_the_umask(tmp_path, umask):
    # before: always mode 0600 (a temporary file's mode), whatever the umask
    old = os.umask(umask)
    try:
        path = tmp_path / "run.h5"
        mg.SGD(checkpoint=path, **options(maxEpochs=1)).solve(lsq(), X0)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


# =========================================================================== network state
def _bnNetwork():
    """Parabolic, Hamiltonian and leapfrog blocks with BatchNormLayer2 in their layers."""
    n1 = (4, 4)

    def layer(c):
        return mg.DoubleSymLayer(mg.Conv2D(n1, (3, 3, c, c)), activation=mg.tanhActivation,
                                 normLayer1=mg.BatchNormLayer2(n1 + (c,), momentum=0.8))
    opening = mg.NN([mg.SingleLayer(mg.Conv2D(n1, (3, 3, 1, 2)), activation=mg.reluActivation,
                                    normLayer=mg.BatchNormLayer2(n1 + (2,), isWeight=True))])
    blocks = [opening, mg.ResNN(layer(2), 2, 0.3),
              mg.DoubleHamiltonianNN(layer(1), layer(1), 2, 0.2),
              mg.LeapFrogNN(layer(2), 2, 0.25)]
    return mg.Meganet(blocks)


def test_getState_setState_collects_every_child(rng):
    net = _bnNetwork()
    state = net.getState()
    assert sorted(state) == sorted(
        [f"blocks[0].layers[0].normLayer.running{s}" for s in ("Mean", "Var")]
        + [f"blocks[{b}].{lay}.normLayer1.running{s}" for b, lay in
           ((1, "layer"), (2, "layer1"), (2, "layer2"), (3, "layer")) for s in ("Mean", "Var")])
    th = net.initTheta(rng=0)
    Y = rng.standard_normal((6, 4, 4, 1))
    net.forwardProp(th, Y)                          # training mode moves the statistics
    trained = net.getState()
    moved = [k for k in trained if not np.allclose(trained[k], state[k])]
    assert len(moved) == len(trained)
    assert trained[moved[0]] is not net.getState()[moved[0]]      # copies
    fresh = _bnNetwork()
    fresh.setState(trained)
    Z1 = net.forwardProp(th, Y, doDerivative=False)[0]
    Z2 = fresh.forwardProp(th, Y, doDerivative=False)[0]
    np.testing.assert_allclose(Z2, Z1, rtol=1e-13, atol=1e-13)
    # a single element without state, and bad states
    assert mg.Dense((3, 2)).getState() == {}
    bad = dict(trained)
    del bad[moved[0]]
    with pytest.raises(ValueError, match=r"missing \['" + moved[0].replace("[", r"\[")
                       .replace("]", r"\]")):
        fresh.setState(bad)
    with pytest.raises(ValueError, match=r"unknown \['foo'\]"):
        fresh.setState({**trained, "foo": np.zeros(2)})
    with pytest.raises(ValueError, match=r"must have shape \(2,\); got \(3,\)"):
        fresh.setState({**trained, "blocks[1].layer.normLayer1.runningMean": np.zeros(3)})
    with pytest.raises(TypeError, match="state must be a dict"):
        fresh.setState([1])


def test_getState_on_the_device_backend(device, rng):
    L = mg.BatchNormLayer2((3,), useGPU=True)
    net = mg.NN([mg.SingleLayer(mg.Dense((3, 3), useGPU=True), normLayer=L)])
    net.forwardProp(net.initTheta(rng=0), net.asArray(rng.standard_normal((4, 3))))
    st = {k: toHost(v) for k, v in net.getState().items()}
    other = mg.NN([mg.SingleLayer(mg.Dense((3, 3), useGPU=True),
                                  normLayer=mg.BatchNormLayer2((3,), useGPU=True))])
    other.setState(st)                              # host arrays go to the device
    np.testing.assert_allclose(toHost(other.layers[0].normLayer.runningMean), st[
        "layers[0].normLayer.runningMean"])
    assert type(other.layers[0].normLayer.runningMean) is type(L.runningMean)


def _bnProblem(rng=0):
    net = _bnNetwork()
    r = np.random.default_rng(rng)
    Y = r.standard_normal((24, 4, 4, 1))
    C = np.eye(3)[r.integers(0, 3, 24)]
    nW = 3 * (net.numelFeatOut() + 1)
    x0 = np.concatenate([net.initTheta(rng=1), 0.1 * r.standard_normal(nW)])
    return net, Y, C, x0


class DyingObjective(mg.DnnBatchObjFctn):
    """Raises KeyboardInterrupt at call ``failAt`` (a Ctrl-C during that mini-batch)."""
    failAt = None

    def __call__(self, x, idx=None, doDerivative=True):
        self.nCalls = getattr(self, "nCalls", 0) + 1
        if self.nCalls == self.failAt:
            Yk = self.Y[idx[:2]]
            self.net.forwardProp(self.split(x)[0], Yk)     # a half-done mini-batch
            raise KeyboardInterrupt
        return super().__call__(x, idx, doDerivative=doDerivative)


def test_resume_restores_the_running_statistics(tmp_path, capsys):
    # before: running means after a resumed run differed (e.g. -0.408 vs -0.350), so
    # validation, xOpt and inference changed
    opts = dict(maxEpochs=3, miniBatch=5, learningRate=0.05, rng=3)
    net, Y, C, x0 = _bnProblem()
    fctn = mg.DnnBatchObjFctn(net, None, mg.SoftmaxLoss(), None, Y, C, batchSize=5)
    xRef, HisRef, _ = mg.SGD(**opts).solve(fctn, x0)
    ref = _runningStats(net)
    # the interrupted run (4 mini-batches per epoch; + 1 evaluation)
    net2, *_ = _bnProblem()
    dying = DyingObjective(net2, None, mg.SoftmaxLoss(), None, Y, C, batchSize=5)
    dying.failAt = 5 + 3
    path = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):
        mg.SGD(checkpoint=path, **opts).solve(dying, x0)
    capsys.readouterr()
    # resume in a "new process": a freshly built network
    net3, *_ = _bnProblem()
    fctn3 = mg.DnnBatchObjFctn(net3, None, mg.SoftmaxLoss(), None, Y, C, batchSize=5)
    xRes, HisRes, _ = mg.SGD(checkpoint=path, **opts).solve(fctn3, x0, resume=True)
    np.testing.assert_allclose(xRes, xRef, rtol=1e-10, atol=1e-12)
    got = _runningStats(net3)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-10, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(HisRes["Jc"], HisRef["Jc"], rtol=1e-10)
    assert len(mg.load_checkpoint(path)["state"]) == len(ref) == 10


def _runningStats(net):
    """The running statistics of the BatchNormLayer2 layers of :func:`_bnNetwork`."""
    bns = [net.blocks[0].layers[0].normLayer, net.blocks[1].layer.normLayer1,
           net.blocks[2].layer1.normLayer1, net.blocks[2].layer2.normLayer1,
           net.blocks[3].layer.normLayer1]
    return {f"{i}.{s}": np.array(getattr(L, s)) for i, L in enumerate(bns)
            for s in ("runningMean", "runningVar")}


# =========================================================================== verification
def _xOffset(path):
    with h5py.File(path, "r") as f:
        return f["x"].id.get_offset()


def test_bit_flipped_checkpoint_is_refused(tmp_path):
    # before: a flipped bit in x resumed silently with weights off by 45
    path = tmp_path / "run.h5"
    mg.SGD(checkpoint=path, **options(maxEpochs=2)).solve(lsq(), X0)
    off = _xOffset(path)
    data = bytearray(path.read_bytes())
    data[off + 7] ^= 0x02                 # a bit of the exponent of x[0]
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"run.h5' is corrupted: .*checksum"):
        mg.SGD(checkpoint=path, **options()).solve(lsq(), X0, resume=True)
    with pytest.raises(mg.CheckpointError, match="corrupted"):
        mg.load_checkpoint(path)
    assert issubclass(mg.CheckpointError, ValueError)


def test_resume_with_another_network_or_options_names_the_difference(tmp_path):
    # before: a network with another step size resumed silently
    def problem(h=0.3, N=24, momentum=0.8):
        net = mg.Meganet([mg.NN([mg.SingleLayer(mg.Dense((4, 2)))]),
                          mg.ResNN(mg.DoubleSymLayer(mg.Dense((4, 4)), normLayer1=mg.BatchNormLayer2(
                              (4,), momentum=momentum)), 2, h)])
        r = np.random.default_rng(0)
        Y, C = r.standard_normal((N, 2)), np.eye(2)[r.integers(0, 2, N)]
        fctn = mg.DnnBatchObjFctn(net, None, mg.SoftmaxLoss(), None, Y, C, batchSize=8)
        return fctn, np.concatenate([net.initTheta(rng=0), np.zeros(2 * 5)])
    path = tmp_path / "run.h5"
    fctn, x0 = problem()
    mg.SGD(checkpoint=path, **options(maxEpochs=1)).solve(fctn, x0)
    for kw, what in [(dict(h=0.25), "network blocks[1].h: 0.3 in the checkpoint, 0.25 now"),
                     (dict(momentum=0.5), "blocks[1].layer.normLayer1.momentum: 0.8 in the "
                                          "checkpoint, 0.5 now"),
                     (dict(N=32), "data nEx: 24 in the checkpoint, 32 now")]:
        f2, x2 = problem(**kw)
        with pytest.raises(ValueError, match="cannot resume from .*run.h5.*what differs") as e:
            mg.SGD(checkpoint=path, **options(maxEpochs=2)).solve(f2, x2, resume=True)
        assert what in str(e.value)
    with pytest.raises(ValueError, match="optimizer momentum: 0.9 in the checkpoint, 0.5 now"):
        mg.SGD(checkpoint=path, **options(maxEpochs=2, momentum=0.5)).solve(
            problem()[0], x0, resume=True)
    # the same set-up resumes, and maxEpochs may grow
    mg.SGD(checkpoint=path, **options(maxEpochs=2)).solve(problem()[0], x0, resume=True)
    fp = mg.load_checkpoint(path)["fingerprint"]
    assert fp["network blocks[1].h"] == 0.3 and fp["optimizer miniBatch"] == 8
    assert fp["data Y.shape"] == [24, 2] and fp["data nEx"] == 24


def _write(path, content):
    path.write_bytes(content)
    return path


def test_invalid_checkpoint_files_are_named(tmp_path):
    # before: raw h5py OSError, KeyError: 'epoch' or JSONDecodeError
    good = tmp_path / "good.h5"
    mg.SGD(checkpoint=good, **options(maxEpochs=1)).solve(lsq(), X0)
    raw = good.read_bytes()
    cases = {"truncated.h5": raw[:len(raw) // 2], "garbage.h5": b"\x00garbage" * 100,
             "empty.h5": b""}
    for name, content in cases.items():
        _write(tmp_path / name, content)
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.zeros(5)

    def check(name):
        path = tmp_path / name
        with pytest.raises(ValueError, match=f"{name}' is not a valid meganet checkpoint"):
            mg.SGD(checkpoint=path, **options()).solve(lsq(), X0, resume=True)
        with pytest.raises(ValueError, match=f"{name}'"):
            mg.SGD(**options()).resume(lsq(), path=path)
    for name in list(cases) + ["foreign.h5"]:
        check(name)
    # a meganet mark with a broken record (checksum right, contents wrong)
    with h5py.File(tmp_path / "badjson.h5", "w") as f:
        f.attrs.update(format=ckmod.CHECKPOINT_FORMAT, version=ckmod.CHECKPOINT_VERSION,
                       meta="{not json", sha256=ckmod._checksum({}, "{not json"))
    ckmod.writeCheckpoint(tmp_path / "noepoch.h5", {"x": np.zeros(5)}, {"n": 5})
    for name in ("badjson.h5", "noepoch.h5"):
        check(name)


# =========================================================================== bad options
@pytest.mark.parametrize("make", [
    lambda: mg.TikhonovReg(alpha=-1e-3),
    lambda: mg.L2Reg(4, alpha=(1e-3, -1e-3)),
    lambda: mg.L1Reg(4, alpha=-1.0),
    lambda: mg.BlockReg([mg.TikhonovReg(4), mg.TikhonovReg(4, alpha=-2.0)]),
])
def test_negative_regularization_weights_raise(make):
    # before: accepted; the objective was unbounded and SGD "improved" it to -4.5e14
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        make()


def test_negative_weights_assigned_later_or_in_BlockReg_children_raise():
    R = mg.TikhonovReg(4, alpha=1.0)
    with pytest.raises(ValueError, match="TikhonovReg: alpha must be >= 0"):
        R.alpha = -1.0
    assert R.alpha == 1.0
    L = mg.L2Reg(4)
    with pytest.raises(ValueError, match="L2Reg: alpha must be >= 0"):
        L.alpha = (1.0, -1.0)

    class UserReg:                       # a user's regularizer with a weight
        alpha = -0.5

        def nTheta(self):
            return 2

        def regularizer(self, x):
            return self.alpha * (x @ x), None, 2 * self.alpha * x, 2 * self.alpha * np.eye(2)
    with pytest.raises(ValueError, match=r"BlockReg: regs\[1\] \(UserReg\) has the weight "
                                         r"alpha=-0.5"):
        mg.BlockReg([mg.TikhonovReg(4), UserReg()])
    u = UserReg()
    u.alpha = 0.5
    B = mg.BlockReg([mg.TikhonovReg(4), u])
    B.regularizer(np.ones(6))
    u.alpha = -0.5
    with pytest.raises(ValueError, match=r"regs\[1\]"):
        B.regularizer(np.ones(6))


def test_empty_batch_in_training_mode_keeps_running_statistics(rng):
    # before: the running statistics became NaN for good
    L = mg.BatchNormLayer2((4, 4, 2), isWeight=True)
    th = L.initTheta()
    L.forwardProp(th, rng.standard_normal((3, 4, 4, 2)))
    rm, rv = L.runningMean.copy(), L.runningVar.copy()
    with pytest.raises(ValueError, match=r"empty batch \(N = 0\)"):
        L.forwardProp(th, np.zeros((0, 4, 4, 2)))
    np.testing.assert_array_equal(L.runningMean, rm)
    np.testing.assert_array_equal(L.runningVar, rv)
    # evaluation mode (running statistics, no update) accepts an empty batch
    Z, _ = L.forwardProp(th, np.zeros((0, 4, 4, 2)), doDerivative=False)
    assert Z.shape == (0, 4, 4, 2)
    assert np.all(np.isfinite(L.runningMean)) and np.all(np.isfinite(L.runningVar))


def test_nan_validation_objective_is_reported_once():
    # before: NaN validation values were recorded silently (and never chosen as xOpt)
    def fval(x, idx=None):
        return np.nan, {}, None
    with pytest.warns(RuntimeWarning, match="validation objective is NaN at epoch 1") as rec:
        xc, His, xOpt = mg.SGD(**options(maxEpochs=3)).solve(lsq(), X0, fval)
    assert len([w for w in rec if "validation objective is NaN" in str(w.message)]) == 1
    assert np.isnan(His["val Jc"]).all() and His.nRows == 3
    with pytest.warns(RuntimeWarning, match="validation objective is NaN at iter 0"):
        mg.SD(maxIter=2).solve(lambda x, idx=None: (0.5 * x @ x, {}, x), X0, fval)


# =========================================================================== results
def test_save_mat_long_history_names_and_load_mat_on_foreign_files(tmp_path):
    # before: save_mat failed on history names longer than 31 characters (the result was
    # lost at the very end), load_mat on another .mat file raised KeyError
    names = ["epoch", "Jc", "train misfit of the very long objective name", "val accuracy"]
    His = mg.History(names, [[1, 0.5, 0.4, 80.0], [2, 0.3, 0.2, 90.0]], stopReason="maxEpochs")
    path = tmp_path / "res.mat"
    mg.save_mat(path, np.ones(3), His, np.zeros(3))
    raw = scipy.io.loadmat(path, simplify_cells=True)
    assert "train_misfit_of_the_very_long_objective_name" in raw["His"]
    xc, H2, xOpt = mg.load_mat(path)
    assert H2.names == names
    np.testing.assert_array_equal(H2.his, His.his)
    np.testing.assert_array_equal(xOpt, np.zeros(3))
    foreign = tmp_path / "foreign.mat"
    scipy.io.savemat(foreign, {"xc": np.ones(3), "W": np.eye(2)})
    with pytest.raises(ValueError, match=r"foreign.mat' is not a meganet result written by "
                                         r"save_mat: missing the fields \['xOpt', 'His', "
                                         r"'HisNames', 'HisMatrix', 'HisStopReason'\]"):
        mg.load_mat(foreign)
    garbage = _write(tmp_path / "garbage.mat", b"not a mat file" * 20)
    with pytest.raises(ValueError, match="garbage.mat' is not a readable MATLAB .mat file"):
        mg.load_mat(garbage)
    with pytest.raises(FileNotFoundError):
        mg.load_mat(tmp_path / "missing.mat")


# =========================================================================== fingerprint
def test_fingerprint_is_stable_under_training_and_backend(rng):
    """The network description ignores state, backend and memory options."""
    net = _bnNetwork()
    before = ckmod.describe(net)
    th = net.initTheta(rng=0)
    Y = rng.standard_normal((3, 4, 4, 1))
    Z, tmp = net.forwardProp(th, Y)
    net.JTmv(Z, th, Y, tmp)
    net.forwardProp(th, Y, doDerivative=False)
    assert ckmod.describe(net) == before
    assert ckmod.describe(_bnNetwork()) == before
    assert before["net"] == "Meganet" and before["blocks[1].nt"] == 2
    assert before["blocks[2].layer1.activation"].endswith("tanhActivation")
    assert not any("running" in k for k in before)
    assert ckmod.fingerprintDiff(before, dict(before)) == []
    assert ckmod.fingerprintDiff({"a": 0.1}, {"a": 0.1 + 1e-15}) == []
    assert ckmod.fingerprintDiff({"a": 1}, {"b": 1}) == [
        "a: 1 in the checkpoint, '<missing>' now", "b: '<missing>' in the checkpoint, 1 now"]


def test_checkpoint_of_device_run_resumes_on_host(tmp_path, device):
    path = tmp_path / "run.h5"
    x0 = asArray(X0, True)
    mg.SGD(checkpoint=path, **options(maxEpochs=2)).solve(lsq(useGPU=True), x0)
    xc, _, _ = mg.SGD(checkpoint=path, **options(maxEpochs=3)).solve(lsq(), X0, resume=True)
    ref = mg.SGD(**options(maxEpochs=3)).solve(lsq(), X0)[0]
    np.testing.assert_allclose(xc, ref, rtol=1e-12, atol=1e-12)


def test_all_checkpoint_writes_go_through_one_method(tmp_path):
    """``SGD._writeCheckpoint`` is the one place that writes (e.g. to write on one process
    only): replacing it leaves no file behind, also on an interrupt."""
    class NoWrites(mg.SGD):
        def _writeCheckpoint(self, st, nEx):
            self.calls = getattr(self, "calls", 0) + 1
            return True
    path = tmp_path / "run.h5"
    opt = NoWrites(checkpoint=path, **options(maxEpochs=2))
    opt.solve(lsq(), X0)
    with pytest.raises(KeyboardInterrupt):
        opt.solve(lsq(failAt=3), X0)
    assert opt.calls == 2 + 1 + 1 and list(tmp_path.iterdir()) == []
