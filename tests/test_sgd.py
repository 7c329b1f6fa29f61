"""SGD: update rules against a reference, convergence, schedule, batching, options, errors.

The objectives here are small problems defined in this file (least squares and logistic
regression on synthetic data, split into examples so that mini-batches are meaningful).
"""
import math
import warnings

import numpy as np
import pytest

import meganet as mg
from meganet.backend import asArray, getArrayModuleOf, toHost


# --------------------------------------------------------------------------- problems
class LeastSquares:
    """J(x; idx) = 1/(2|idx|) |A[idx] x - b[idx]|^2 on synthetic data (N examples)."""

    def __init__(self, N=256, n=10, noise=1e-2, seed=0, useGPU=False, precision="double",
                 failAt=None, nanAt=None):
        r = np.random.default_rng(seed)
        A = r.standard_normal((N, n))
        self.xTrue = r.standard_normal(n)
        b = A @ self.xTrue + noise * r.standard_normal(N)
        self.Ahost, self.bhost = A, b
        self.A = asArray(A, useGPU, precision)
        self.b = asArray(b, useGPU, precision)
        self.N = N
        self.calls = []          # (len(idx) or None) per call
        self.points = []         # host copies of x at full evaluations (idx None)
        self.failAt = failAt     # raise KeyboardInterrupt at this call number (1-based)
        self.nanAt = nanAt       # return a NaN gradient at this call number

    def nData(self):
        return self.N

    def __call__(self, x, idx=None):
        self.calls.append(None if idx is None else len(idx))
        if self.failAt is not None and len(self.calls) == self.failAt:
            raise KeyboardInterrupt("simulated interrupt")
        if idx is None:
            self.points.append(toHost(x).copy())
            A, b = self.A, self.b
        else:
            assert isinstance(idx, np.ndarray) and idx.ndim == 1
            A, b = self.A[idx], self.b[idx]
        res = A @ x - b
        m = A.shape[0]
        J = 0.5 * (res @ res) / m            # a 0-d array on the backend of x
        dJ = (A.T @ res) / m
        if self.nanAt is not None and len(self.calls) == self.nanAt:
            dJ = dJ * np.nan
        return J, {"hisNames": ["misfit"], "hisVals": [J]}, dJ

    def solution(self):
        return np.linalg.lstsq(self.Ahost, self.bhost, rcond=None)[0]

    def Jmin(self):
        r = self.Ahost @ self.solution() - self.bhost
        return 0.5 * r @ r / self.N


class Logistic:
    """Logistic regression with labels in {0, 1}; history: misfit and accuracy."""

    def __init__(self, N=400, n=5, seed=0, wTrue=None, useGPU=False):
        r = np.random.default_rng(seed)
        X = r.standard_normal((N, n))
        self.wTrue = r.standard_normal(n) * 3 if wTrue is None else wTrue
        p = 1 / (1 + np.exp(-(X @ self.wTrue)))
        c = (r.random(N) < p).astype(float)
        self.X, self.c = asArray(X, useGPU), asArray(c, useGPU)
        self.N = N
        self.points = []

    def nData(self):
        return self.N

    def __call__(self, x, idx=None):
        xp = getArrayModuleOf(x)
        if idx is None:
            self.points.append(toHost(x).copy())
            X, c = self.X, self.c
        else:
            X, c = self.X[idx], self.c[idx]
        z = X @ x
        m = X.shape[0]
        J = float(xp.sum(xp.logaddexp(0.0, z) - c * z)) / m
        dJ = X.T @ (1 / (1 + xp.exp(-z)) - c) / m
        acc = float(xp.mean(((z > 0) == (c > 0.5)).astype(x.dtype)))
        return J, {"hisNames": ["misfit", "accuracy"], "hisVals": [J, acc]}, dJ


# --------------------------------------------------------------------------- reference
def referenceSGD(prob, x0, epochs, mb, lr, mu, nesterov, adam, seed, P=lambda x: x):
    """Plain-numpy transcription of the update rules (host, double)."""
    rng = np.random.default_rng(seed)
    x = P(x0.copy())
    v = np.zeros_like(x)
    m = np.zeros_like(x)
    w = np.zeros_like(x)
    t = 0
    for epoch in range(1, epochs + 1):
        ids = rng.permutation(prob.N)
        a = lr(epoch) if callable(lr) else lr
        for k in range(prob.N // mb):
            idk = ids[k * mb:(k + 1) * mb]
            A, b = prob.Ahost[idk], prob.bhost[idk]
            xe = x - mu * v if (nesterov and not adam) else x
            g = A.T @ (A @ xe - b) / len(idk)
            if adam:
                t += 1
                m = mu * m + (1 - mu) * g
                w = 0.999 * w + 0.001 * g * g
                step = a * (m / (1 - mu ** t)) / np.sqrt(w / (1 - 0.999 ** t) + 1e-8)
                x = P(x - step)
            else:
                v = a * g + mu * v
                x = P(x - v)
    return x


VARIANTS = {
    "plain": dict(momentum=0.0, nesterov=False, ADAM=False),
    "momentum": dict(momentum=0.9, nesterov=False, ADAM=False),
    "nesterov": dict(momentum=0.9, nesterov=True, ADAM=False),
    "adam": dict(momentum=0.9, nesterov=False, ADAM=True),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sgd_update_rules_match_reference(variant, useGPU):
    prob = LeastSquares(N=70, n=6, seed=3, useGPU=useGPU)
    x0 = np.random.default_rng(5).standard_normal(6)
    opts = VARIANTS[variant]
    lr = (lambda e: 0.02 / e) if variant != "adam" else 0.01
    opt = mg.SGD(maxEpochs=3, miniBatch=8, learningRate=lr, rng=11, **opts)
    xc, His, xOpt = opt.solve(prob, asArray(x0, useGPU))
    assert type(xc) is type(prob.A)
    ref = referenceSGD(prob, x0, 3, 8, lr, opts["momentum"], opts["nesterov"], opts["ADAM"], 11)
    np.testing.assert_allclose(toHost(xc), ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("variant,lr", [("plain", 0.05), ("momentum", 0.01), ("nesterov", 0.01),
                                        ("adam", 0.05)])
def test_sgd_variants_reduce_least_squares(variant, lr, useGPU):
    # J(x0) = 5.7; the least-squares minimum is Jmin = 4.0e-5 (noise 1e-2): each variant
    # must come within 5% of Jmin (J < 1.05 Jmin) in 30 epochs of 16 mini-batches.
    prob = LeastSquares(N=256, n=10, noise=1e-2, seed=1, useGPU=useGPU)
    x0 = asArray(np.zeros(10), useGPU)
    J0 = prob(x0)[0]
    opt = mg.SGD(maxEpochs=30, miniBatch=16, learningRate=lr, rng=0, **VARIANTS[variant])
    xc, His, xOpt = opt.solve(prob, x0)
    assert float(J0) > 5.0
    assert prob.Jmin() < His["Jc"][-1] < 1.05 * prob.Jmin(), His.table()
    # the training objective of the history is the objective at the iterate
    np.testing.assert_allclose(His["Jc"][-1], float(prob(xc)[0]), rtol=1e-12)
    np.testing.assert_allclose(His["train misfit"], His["Jc"])


def test_sgd_learning_rate_schedule_is_honoured():
    prob = LeastSquares(N=64, n=4)
    sched = lambda epoch: 0.1 / epoch ** 2  # noqa: E731
    opt = mg.SGD(maxEpochs=5, miniBatch=16, learningRate=sched, rng=0)
    _, His, _ = opt.solve(prob, np.zeros(4))
    np.testing.assert_allclose(His["lr"], [0.1 / e ** 2 for e in range(1, 6)])
    np.testing.assert_array_equal(His["epoch"], np.arange(1, 6))
    np.testing.assert_array_equal(His["TotalWork"], 2 * np.arange(1, 6))
    opt = mg.SGD(maxEpochs=2, learningRate=0.03, rng=0)
    _, His, _ = opt.solve(prob, np.zeros(4))
    np.testing.assert_array_equal(His["lr"], [0.03, 0.03])


def test_sgd_drops_remainder_batches_and_uses_permutations():
    prob = LeastSquares(N=50, n=3)
    seen = []
    orig = prob.__call__

    class Spy:
        def nData(self):
            return 50

        def __call__(self, x, idx=None):
            if idx is not None:
                seen.append(np.array(idx))
            return orig(x, idx)

    opt = mg.SGD(maxEpochs=4, miniBatch=16, rng=2, learningRate=0.01)
    opt.solve(Spy(), np.zeros(3))
    # floor(50/16) = 3 mini-batches of 16 per epoch, plus one full evaluation per epoch
    assert len(seen) == 12 and all(len(s) == 16 for s in seen)
    assert prob.calls.count(None) == 4 and prob.calls.count(16) == 12
    for e in range(4):
        batches = np.concatenate(seen[3 * e:3 * e + 3])
        assert len(np.unique(batches)) == 48          # disjoint batches of one permutation
    assert not np.array_equal(seen[0], seen[3])       # a new permutation each epoch


def test_sgd_miniBatch_larger_than_data_uses_all_examples():
    # regression: miniBatch > nEx made zero updates in every epoch, silently
    prob = LeastSquares(N=10, n=3)
    with pytest.warns(UserWarning, match=r"miniBatch=16 is larger than the number of training "
                                         r"examples \(10\); every step uses all 10 examples"):
        xc, His, _ = mg.SGD(maxEpochs=2, miniBatch=16, rng=0).solve(prob, np.ones(3))
    assert prob.calls == [10, None, 10, None] and His.nRows == 2
    assert His["Jc"][-1] < prob(np.ones(3))[0]
    ref = mg.SGD(maxEpochs=2, miniBatch=10, rng=0).solve(LeastSquares(N=10, n=3), np.ones(3))
    np.testing.assert_allclose(xc, ref[0], rtol=1e-12, atol=1e-14)


def test_sgd_history_columns_validation_and_xOpt():
    train = Logistic(N=400, n=5, seed=0)
    val = Logistic(N=300, n=5, seed=1, wTrue=train.wTrue)
    opt = mg.SGD(maxEpochs=8, miniBatch=20, learningRate=lambda e: 0.5 / e, rng=4)
    xc, His, xOpt = opt.solve(train, np.zeros(5), val)
    assert His.names == ["epoch", "Jc", "|x-xOld|", "lr", "TotalWork", "Time", "train misfit",
                         "train accuracy", "val Jc", "val misfit", "val accuracy"]
    assert His.his.shape == (8, 11)
    for name in His.names:
        assert isinstance(His[name], np.ndarray) and His[name].shape == (8,)
    # xOpt: iterate after the epoch with the best validation accuracy (first on ties)
    acc = His["val accuracy"]
    best = int(np.argmax(acc))
    assert His.optCriterion == "max val accuracy" and His.optIndex == best
    # the end-of-epoch evaluations of the validation objective record the iterates
    np.testing.assert_array_equal(toHost(xOpt), val.points[best])
    np.testing.assert_array_equal(toHost(xc), val.points[-1])
    # step norms: |x_e - x_{e-1}|
    xs = [np.zeros(5)] + val.points
    np.testing.assert_allclose(His["|x-xOld|"],
                               [np.linalg.norm(xs[e + 1] - xs[e]) for e in range(8)], rtol=1e-12)
    assert His["train accuracy"][-1] > 0.8
    assert His.stopReason == "maxEpochs"


def test_sgd_xOpt_without_validation_is_best_training_objective():
    prob = LeastSquares(N=64, n=4)
    # a too-large learning rate makes later epochs worse, so xOpt differs from xc
    lr = lambda e: 0.05 if e < 4 else 1.2  # noqa: E731
    xc, His, xOpt = mg.SGD(maxEpochs=6, miniBatch=8, learningRate=lr, momentum=0, nesterov=False,
                           rng=0).solve(prob, np.zeros(4))
    best = int(np.argmin(His["Jc"]))
    assert His.optCriterion == "min Jc" and His.optIndex == best
    np.testing.assert_array_equal(xOpt, prob.points[best])
    assert best < 5 and not np.array_equal(xOpt, xc)


def test_sgd_validation_without_accuracy_uses_val_objective():
    train, val = LeastSquares(N=64, n=4, seed=0), LeastSquares(N=32, n=4, seed=9)
    _, His, xOpt = mg.SGD(maxEpochs=3, miniBatch=8, rng=0, learningRate=0.01).solve(
        train, np.zeros(4), val)
    assert His.optCriterion == "min val Jc"
    np.testing.assert_array_equal(xOpt, val.points[int(np.argmin(His["val Jc"]))])


def test_sgd_lossTol_stops():
    prob = LeastSquares(N=128, n=5, noise=0.0)
    _, His, _ = mg.SGD(maxEpochs=50, miniBatch=8, lossTol=1e-2, learningRate=0.01, rng=0).solve(
        prob, np.zeros(5))
    assert His.stopReason == "lossTol"
    assert His.nRows < 50 and His["train misfit"][-1] < 1e-2 <= His["train misfit"][-2]


def test_sgd_maxWorkUnits():
    prob = LeastSquares(N=32, n=3)
    _, His, _ = mg.SGD(maxEpochs=10, maxWorkUnits=6, rng=0, learningRate=0.01).solve(
        prob, np.zeros(3))
    assert His.nRows == 3 and His.stopReason == "maxWorkUnits"


def test_sgd_maxTime_ends_the_epoch_after_the_running_mini_batch(monkeypatch, capsys):
    """A clock that advances one second per objective call makes the stop exact."""
    import meganet.optim.sgd as sgdModule
    prob = LeastSquares(N=64, n=3)

    class Clock:                      # the objective's calls are the only thing that takes time
        @staticmethod
        def perf_counter():
            return float(len(prob.calls))
    monkeypatch.setattr(sgdModule, "time", Clock)
    # 8 mini-batches + 1 evaluation per epoch: the clock passes 20 s at the 2nd batch of epoch 3
    _, His, _ = mg.SGD(maxEpochs=1000, miniBatch=8, maxTime=20, out=1, progress=False,
                       learningRate=0.01, rng=0).solve(prob, np.zeros(3))
    assert His.stopReason == "maxTime" and His.nRows == 3
    assert prob.calls == ([8] * 8 + [None]) * 2 + [8, 8, None]
    assert "time budget of 20 s (epoch 3 ended after mini-batch 2 of 8)" in capsys.readouterr().out
    # the budget used up by the evaluation after the last mini-batch: no epoch starts
    prob.calls.clear()
    _, His, _ = mg.SGD(maxEpochs=1000, miniBatch=8, maxTime=9, learningRate=0.01, rng=0).solve(
        prob, np.zeros(3))
    assert His.stopReason == "maxTime" and His.nRows == 1 and prob.calls == [8] * 8 + [None]
    # a budget that is never reached leaves maxEpochs in charge
    prob.calls.clear()
    _, His, _ = mg.SGD(maxEpochs=2, miniBatch=8, maxTime=1e6, rng=0, learningRate=0.01).solve(
        prob, np.zeros(3))
    assert His.stopReason == "maxEpochs" and His.nRows == 2


def test_sgd_projection_keeps_iterates_in_box():
    prob = LeastSquares(N=64, n=6, seed=2)
    low = -0.3 * np.ones(6)
    low[0] = -np.inf
    P = mg.ProjBound(low, 0.25)
    pts = []

    def fctn(x, idx=None):
        pts.append(x.copy())
        return prob(x, idx)
    fctn.nData = lambda: 64
    xc, _, _ = mg.SGD(maxEpochs=4, miniBatch=8, P=P, nesterov=False, rng=0,
                      learningRate=0.05).solve(fctn, 3 * np.ones(6))
    pts = np.array(pts)
    assert np.all(pts[:, 1:] >= -0.3) and np.all(pts <= 0.25)
    ref = referenceSGD(prob, 3 * np.ones(6), 4, 8, 0.05, 0.9, False, False, 0, P=P)
    np.testing.assert_allclose(xc, ref, rtol=1e-13)
    assert np.any(np.isclose(pts[-1], 0.25))   # the constraint is active


def test_sgd_single_precision_and_determinism(useGPU):
    prob = LeastSquares(N=64, n=4, useGPU=useGPU, precision="single")
    x0 = asArray(np.zeros(4), useGPU, "single")
    a = mg.SGD(maxEpochs=3, miniBatch=8, rng=7, learningRate=0.01).solve(prob, x0)
    b = mg.SGD(maxEpochs=3, miniBatch=8, rng=7, learningRate=0.01).solve(prob, x0)
    c = mg.SGD(maxEpochs=3, miniBatch=8, rng=8, learningRate=0.01).solve(prob, x0)
    assert a[0].dtype == np.float32 and a[2].dtype == np.float32
    np.testing.assert_array_equal(toHost(a[0]), toHost(b[0]))
    assert not np.array_equal(toHost(a[0]), toHost(c[0]))
    # a Generator is used and advanced
    g = np.random.default_rng(7)
    d = mg.SGD(maxEpochs=3, miniBatch=8, rng=g, learningRate=0.01).solve(prob, x0)
    np.testing.assert_array_equal(toHost(a[0]), toHost(d[0]))
    e = mg.SGD(maxEpochs=3, miniBatch=8, rng=g, learningRate=0.01).solve(prob, x0)
    assert not np.array_equal(toHost(a[0]), toHost(e[0]))


def test_sgd_printing_and_progress(capsys):
    prob = LeastSquares(N=32, n=3)
    mg.SGD(maxEpochs=2, miniBatch=8, out=1, rng=0, learningRate=0.01).solve(prob, np.zeros(3))
    cap = capsys.readouterr()
    assert "== sgd (n=3, maxEpochs=2" in cap.out
    assert "epoch" in cap.out and "train misfit" in cap.out
    lines = [ln for ln in cap.out.splitlines() if ln.split() and ln.split()[0] in ("1", "2")]
    assert len(lines) == 2
    assert "batch" in cap.err                       # the tqdm bar
    mg.SGD(maxEpochs=2, miniBatch=8, out=1, progress=False, rng=0,
           learningRate=0.01).solve(prob, np.zeros(3))
    assert capsys.readouterr().err == ""
    mg.SGD(maxEpochs=2, miniBatch=8, rng=0, learningRate=0.01).solve(prob, np.zeros(3))
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""
    _, His, _ = mg.SGD(maxEpochs=2, miniBatch=8, rng=0, learningRate=0.01).solve(prob, np.zeros(3))
    table = His.table()
    assert table.splitlines()[0].startswith("epoch") and len(table.splitlines()) == 3


def test_sgd_defaults_as_meganet():
    opt = mg.SGD()
    assert (opt.maxEpochs, opt.miniBatch, opt.lossTol, opt.out, opt.learningRate, opt.momentum,
            opt.nesterov, opt.ADAM, opt.maxWorkUnits) == (10, 16, -math.inf, 0, 0.1, 0.9, True,
                                                         False, math.inf)
    x = np.arange(3.0)
    assert opt.P(x) is x
    with pytest.warns(UserWarning, match="ADAM and nesterov"):
        opt = mg.SGD(ADAM=True)
    assert opt.ADAM and not opt.nesterov
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.SGD(ADAM=True, nesterov=False)


@pytest.mark.parametrize("kw,err,match", [
    (dict(miniBatch=0), ValueError, "miniBatch must be an integer >= 1; got 0"),
    (dict(miniBatch=2.5), ValueError, "miniBatch must be an integer"),
    (dict(maxEpochs=-1), ValueError, "maxEpochs must be an integer >= 0; got -1"),
    (dict(momentum=1.0), ValueError, r"momentum must be a finite number in \[0, 1\); got 1.0"),
    (dict(momentum=-0.1), ValueError, "momentum"),
    (dict(learningRate=0), ValueError, "learningRate must be a positive finite number"),
    (dict(learningRate="fast"), ValueError, "learningRate"),
    (dict(nesterov="yes"), ValueError, "nesterov must be True/False"),
    (dict(P=3), TypeError, "P must be callable"),
    (dict(checkpointEvery=0), ValueError, "checkpointEvery must be an integer >= 1"),
    (dict(rng=-1), ValueError, "rng"),
    (dict(maxTime=0), ValueError, "maxTime must be a number > 0"),
    (dict(maxTime="1h"), ValueError, "maxTime"),
])
def test_sgd_bad_options(kw, err, match):
    with pytest.raises(err, match=match):
        mg.SGD(**kw)


def test_sgd_bad_options_set_after_construction():
    opt = mg.SGD()
    opt.miniBatch = 0
    with pytest.raises(ValueError, match="miniBatch"):
        opt.solve(LeastSquares(N=16, n=2), np.zeros(2))


@pytest.mark.parametrize("value", [0.0, -0.1, float("nan"), float("inf")])
def test_sgd_bad_learning_rate_function(value):
    prob = LeastSquares(N=32, n=3)
    lr = lambda e: 0.01 if e < 3 else value  # noqa: E731
    with pytest.raises(ValueError, match=r"learningRate\(3\) \(epoch 3\) returned " + str(value)):
        mg.SGD(maxEpochs=5, miniBatch=8, learningRate=lr, rng=0).solve(prob, np.zeros(3))


def test_sgd_nonfinite_gradient_and_objective(useGPU):
    # calls: 4 mini-batches + 1 evaluation per epoch; call 8 is epoch 2, mini-batch 3
    prob = LeastSquares(N=32, n=3, nanAt=8, useGPU=useGPU)
    with pytest.raises(FloatingPointError,
                       match="gradient of the mini-batch has non-finite entries at epoch 2, "
                             "iteration 3 of 4"):
        mg.SGD(maxEpochs=3, miniBatch=8, rng=0, learningRate=0.01).solve(
            prob, asArray(np.zeros(3), useGPU))

    class Exploding(LeastSquares):
        def __call__(self, x, idx=None):
            J, para, dJ = super().__call__(x, idx)
            return (math.inf if len(self.calls) == 2 else J), para, dJ

    with pytest.raises(FloatingPointError, match="objective value of the mini-batch is inf at "
                                                 "epoch 1, iteration 2 of 4"):
        mg.SGD(maxEpochs=3, miniBatch=8, rng=0).solve(Exploding(N=32, n=3), np.zeros(3))


def test_sgd_bad_objectives():
    with pytest.raises(TypeError, match="must be callable"):
        mg.SGD().solve(3, np.zeros(2))

    def noData(x, idx=None):
        return 0.0, {}, x
    with pytest.raises(TypeError, match="nData"):
        mg.SGD().solve(noData, np.zeros(2))

    class TwoOutputs(LeastSquares):
        def __call__(self, x, idx=None):
            return super().__call__(x, idx)[:2]
    with pytest.raises(TypeError, match=r"must return \(Jc, para, dJ\) or \(Jc, para, dJ, H, PC\)"):
        mg.SGD(rng=0).solve(TwoOutputs(N=32, n=2), np.zeros(2))
    with pytest.raises(ValueError, match="flat 1-D array"):
        mg.SGD().solve(LeastSquares(N=32, n=2), np.zeros((2, 1)))


def test_sgd_objective_with_Y_attribute_and_doDerivative():
    prob = LeastSquares(N=40, n=3)
    calls = []

    class WithY:
        Y = np.zeros((40, 7))

        def __call__(self, x, idx=None, doDerivative=True):
            calls.append(doDerivative)
            J, para, dJ = prob(x, idx)
            return J, para, (dJ if doDerivative else None)

    _, His, _ = mg.SGD(maxEpochs=2, miniBatch=10, rng=0, learningRate=0.01).solve(
        WithY(), np.zeros(3))
    # 4 gradient evaluations per epoch, one value-only evaluation per epoch
    assert calls == ([True] * 4 + [False]) * 2


def test_sgd_variable_projection_validation_point(useGPU):
    # para['W'] (here a host array) is appended to x for the validation objective
    prob = LeastSquares(N=32, n=3, useGPU=useGPU)
    got = []

    def fctn(x, idx=None):
        J, para, dJ = prob(x, idx)
        para = dict(para, W=np.array([[7.0, 8.0]]))
        return J, para, dJ
    fctn.nData = lambda: 32

    def fval(x, idx=None):
        got.append(toHost(x).copy())
        return 0.0, {}, x
    mg.SGD(maxEpochs=1, miniBatch=8, rng=0, learningRate=0.01).solve(
        fctn, asArray(np.zeros(3), useGPU), fval)
    assert got[0].shape == (5,) and np.array_equal(got[0][3:], [7.0, 8.0])
