"""A cheaper training history for long training sets."""

import inspect

import numpy

__all__ = ["HistorySubset"]


class HistorySubset:
    """An objective whose value-only evaluation on ALL examples uses a fixed subset.

    :class:`~meganet.optim.SGD` evaluates the training objective on all examples (up to
    ``2^15``) after every epoch for its history; for a short run on a large training set
    that evaluation can cost as much as a third of the training. Wrapped in this class the
    objective answers those calls (``idx=None``) with its value on ``n`` examples drawn
    once at random (so the history's training loss and accuracy are estimates on that
    subset); the mini-batch calls (``idx`` given) go to the objective unchanged.

    Parameters
    ----------
    fctn : objective
        E.g. :class:`~meganet.objectives.DnnBatchObjFctn`; every other attribute is the
        objective's.
    n : int
        Size of the subset (all examples when ``n >= fctn.nData()``).
    rng : None, int or numpy.random.Generator
    """

    def __init__(self, fctn, n, rng=None):
        if not callable(fctn) or not hasattr(fctn, "nData"):
            raise TypeError(
                f"HistorySubset: fctn must be an objective with nData(); got {type(fctn).__name__}"
            )
        if int(n) < 1:
            raise ValueError(f"HistorySubset: n must be positive; got {n}")
        self.fctn = fctn
        nEx = fctn.nData()
        self.idx = (
            None
            if int(n) >= nEx
            else numpy.sort(numpy.random.default_rng(rng).choice(nEx, int(n), replace=False))
        )
        self._kw = "doDerivative" in inspect.signature(fctn).parameters

    def __getattr__(self, name):
        return getattr(self.__dict__["fctn"], name)

    def __call__(self, x, idx=None, doDerivative=True):
        if idx is None:
            idx = self.idx
        args = (x,) if idx is None else (x, idx)
        return self.fctn(*args, doDerivative=doDerivative) if self._kw else self.fctn(*args)
