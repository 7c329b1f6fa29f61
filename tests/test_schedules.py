"""Learning-rate schedules (meganet.experiments.schedules)."""

import math

import numpy as np
import pytest

import meganet as mg


def test_cosine_rates_at_epoch_middles():
    s = mg.CosineSchedule(0.05, 5)
    expected = [0.025 * (1 + math.cos(math.pi * (e - 0.5) / 5)) for e in range(1, 6)]
    np.testing.assert_allclose(s.rates(), expected, rtol=1e-12)
    assert s(3) == pytest.approx(0.025)
    assert s.rate(0.0) == pytest.approx(0.05) and s.rate(1.0) == pytest.approx(0.0, abs=1e-15)
    assert all(a > b for a, b in zip(s.rates(), s.rates()[1:]))
    assert s(9) == pytest.approx(s.rate(1.0))        # after the last epoch: the end rate


def test_cosine_stretches_lrMin_and_warmup():
    long = mg.CosineSchedule(0.03, 10, lrMin=0.001)
    short = mg.CosineSchedule(0.03, 5, lrMin=0.001)
    # the 10-epoch schedule samples the same curve twice as densely
    np.testing.assert_allclose(long.rate(0.3), short.rate(0.3))
    assert min(long.rates()) > 0.001 and long.rate(1.0) == pytest.approx(0.001)
    w = mg.CosineSchedule(0.04, 5, warmup=0.2)
    assert w(1) == pytest.approx(0.04 * 0.75)        # middle of the warm-up: 3/4 of the peak
    assert w.rate(0.2) == pytest.approx(0.04)
    assert w(2) < 0.04 and w(2) > w(3) > w(4) > w(5)


def test_step_schedule_stretches_like_the_epoch_table():
    rates = [0.05, 0.05, 0.02, 0.005, 0.001]
    assert mg.StepSchedule(rates).rates() == rates
    assert mg.StepSchedule(rates, 7).rates() == [0.05, 0.05, 0.05, 0.02, 0.02, 0.005, 0.001]
    assert mg.StepSchedule(rates, 3).rates() == [0.05, 0.05, 0.005]
    assert mg.StepSchedule(rates).rate(0.5) == 0.02
    assert mg.StepSchedule(rates)(8) == 0.001


@pytest.mark.parametrize("make, match", [
    (lambda: mg.CosineSchedule(0.0, 5), "lrMax must be a positive"),
    (lambda: mg.CosineSchedule(0.05, 0), "nEpochs must be a positive integer"),
    (lambda: mg.CosineSchedule(0.05, 2.5), "nEpochs must be a positive integer"),
    (lambda: mg.CosineSchedule(0.05, 5, lrMin=0.1), "lrMin .* must not exceed lrMax"),
    (lambda: mg.CosineSchedule(0.05, 5, warmup=1.0), "warmup must be a fraction"),
    (lambda: mg.CosineSchedule(float("nan"), 5), "lrMax must be a positive finite number"),
    (lambda: mg.StepSchedule([]), "at least one"),
    (lambda: mg.StepSchedule([0.1, -0.1]), r"rates\[1\] must be a positive"),
    (lambda: mg.StepSchedule(0.1), "sequence of positive numbers"),
])
def test_schedules_refuse_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_schedule_refuses_bad_epoch():
    with pytest.raises(ValueError, match="epoch must be a positive integer.*got 0"):
        mg.CosineSchedule(0.05, 5)(0)


def test_sgd_uses_the_schedule_per_epoch():
    """SGD reads the rate once per epoch: its history's lr column is the schedule."""
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((40, 3)), rng.standard_normal(40)

    def fctn(x, idx=None, doDerivative=True):
        idx = np.arange(40) if idx is None else idx
        r = A[idx] @ x - b[idx]
        Jc = 0.5 * r @ r / len(idx)
        return (Jc, [], A[idx].T @ r / len(idx)) if doDerivative else (Jc, [], None)

    fctn.nData = lambda: 40
    sched = mg.CosineSchedule(0.05, 4)
    opt = mg.SGD(maxEpochs=4, miniBatch=10, learningRate=sched, progress=False, rng=0)
    x, His, _ = opt.solve(fctn, np.zeros(3))
    np.testing.assert_allclose(His["lr"], sched.rates(), rtol=1e-6)
