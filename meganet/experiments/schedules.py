"""Learning-rate schedules for :class:`~meganet.optim.SGD` (``learningRate=schedule``).

A schedule is a function of the fraction ``t`` in ``[0, 1]`` of the training done
(:meth:`rate`); SGD calls it once per epoch (``schedule(epoch)``, epochs counted from 1),
which evaluates the rate at the middle of the epoch, so that the same schedule stretches to
any number of epochs. A time budget can use :meth:`rate` directly with the fraction of the
time used.
"""

import math
import numbers

__all__ = ["CosineSchedule", "StepSchedule"]


def _positiveInt(name, v, owner):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer; got {v!r}")
    return int(v)


def _rate(name, v, owner, positive=True):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0 or (
            positive and v == 0):
        what = "a positive" if positive else "a non-negative"
        raise ValueError(f"{owner}: {name} must be {what} finite number; got {v!r}")
    return float(v)


class _Schedule:
    def __init__(self, nEpochs):
        self.nEpochs = _positiveInt("nEpochs", nEpochs, type(self).__name__)

    def rate(self, t):
        raise NotImplementedError

    def _fraction(self, epoch):
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 1:
            raise ValueError(f"{type(self).__name__}: the epoch must be a positive integer (counted from 1); "
                             f"got {epoch!r}")
        return min(1.0, (epoch - 0.5) / self.nEpochs)

    def __call__(self, epoch):
        """Learning rate of ``epoch`` (1, 2, ...; epochs after ``nEpochs`` get the last one's)."""
        return self.rate(self._fraction(epoch))

    def rates(self):
        """The learning rate of each of the ``nEpochs`` epochs, as a list."""
        return [self(e) for e in range(1, self.nEpochs + 1)]


class CosineSchedule(_Schedule):
    """Cosine decay from ``lrMax`` to ``lrMin``: ``lr(t) = lrMin + (lrMax - lrMin) (1 + cos(pi t)) / 2``.

    Epoch ``e`` of ``nEpochs`` gets ``lr(t)`` at its middle, ``t = (e - 1/2) / nEpochs``; with
    ``warmup > 0`` the rate first rises linearly from ``lrMax / 2`` to ``lrMax`` over
    ``t <= warmup`` and the cosine spans the rest.

    Parameters
    ----------
    lrMax : float
        Peak learning rate (> 0).
    nEpochs : int
        Number of epochs the schedule spans.
    lrMin : float
        Rate at the end of training (``0 <= lrMin <= lrMax``).
    warmup : float
        Fraction of the training spent warming up (``0 <= warmup < 1``).

    Examples
    --------
    >>> import meganet as mg
    >>> [round(r, 4) for r in mg.CosineSchedule(0.05, 5).rates()]
    [0.0488, 0.0397, 0.025, 0.0103, 0.0012]
    """

    def __init__(self, lrMax, nEpochs, lrMin=0.0, warmup=0.0):
        super().__init__(nEpochs)
        name = type(self).__name__
        self.lrMax = _rate("lrMax", lrMax, name)
        self.lrMin = _rate("lrMin", lrMin, name, positive=False)
        if self.lrMin > self.lrMax:
            raise ValueError(f"{name}: lrMin ({lrMin!r}) must not exceed lrMax ({lrMax!r})")
        self.warmup = _rate("warmup", warmup, name, positive=False)
        if self.warmup >= 1:
            raise ValueError(f"{name}: warmup must be a fraction of the training in [0, 1); got {warmup!r}")

    def rate(self, t):
        """Learning rate at the fraction ``t`` (clipped to ``[0, 1]``) of the training."""
        t = min(1.0, max(0.0, float(t)))
        if t < self.warmup:
            return self.lrMax * (0.5 + 0.5 * t / self.warmup)
        s = (t - self.warmup) / (1.0 - self.warmup)
        return self.lrMin + (self.lrMax - self.lrMin) * 0.5 * (1.0 + math.cos(math.pi * s))

    def __repr__(self):
        return (f"CosineSchedule(lrMax={self.lrMax:g}, nEpochs={self.nEpochs}, lrMin={self.lrMin:g}, "
                f"warmup={self.warmup:g})")


class StepSchedule(_Schedule):
    """Piecewise-constant rates: ``rates[i]`` during the ``i``-th of ``len(rates)`` equal parts.

    With ``nEpochs == len(rates)`` epoch ``e`` gets ``rates[e - 1]``; another number of
    epochs stretches or compresses the steps (epoch ``e`` gets the rate of the part in which
    it starts).

    Parameters
    ----------
    rates : sequence of float
        Positive learning rates.
    nEpochs : int, optional
        Default ``len(rates)``.

    Examples
    --------
    >>> import meganet as mg
    >>> mg.StepSchedule([0.05, 0.02, 0.005], 6).rates()
    [0.05, 0.05, 0.02, 0.02, 0.005, 0.005]
    """

    def __init__(self, rates, nEpochs=None):
        name = type(self).__name__
        try:
            rates = list(rates)
        except TypeError:
            raise ValueError(f"{name}: rates must be a sequence of positive numbers; got {rates!r}") from None
        if not rates:
            raise ValueError(f"{name}: rates must hold at least one learning rate; got none")
        self.lrs = [_rate(f"rates[{i}]", r, name) for i, r in enumerate(rates)]
        super().__init__(len(self.lrs) if nEpochs is None else nEpochs)

    def rate(self, t):
        """Learning rate at the fraction ``t`` (clipped to ``[0, 1]``) of the training."""
        n = len(self.lrs)
        return self.lrs[min(n - 1, max(0, int(n * float(t))))]

    def __call__(self, epoch):
        self._fraction(epoch)      # checks the epoch
        n = len(self.lrs)          # integer arithmetic: exact part boundaries
        return self.lrs[min(n - 1, (epoch - 1) * n // self.nEpochs)]

    def __repr__(self):
        return f"StepSchedule({self.lrs}, nEpochs={self.nEpochs})"
