"""Taylor test of a derivative: ``checkDerivative`` (Meganet.m's checkDerivative)."""
import math

import numpy

from ..backend import getArrayModuleOf, toHost
from .checkResult import CheckResult

__all__ = ["checkDerivative", "DerivativeCheck"]


class DerivativeCheck(CheckResult):
    """Result of a Taylor test (a :class:`~meganet.utils.checkResult.CheckResult`).

    Unpacks like Meganet.m's outputs, ``isOK, Err, Order = checkDerivative(...)``, and is
    truthy when the test passed.

    Attributes
    ----------
    isOK : bool
    Err : ndarray, shape (nTrials, 2)
        Relative errors ``E0 = |f(x+hv) - f(x)|/|f(x)|`` and
        ``E1 = |f(x+hv) - f(x) - h J v|/|f(x)|``.
    Order : ndarray, shape (nTrials, 2)
        ``log2(E(j-1)/E(j))``: about 1 for E0 and 2 for E1 when J is right.
    h : ndarray, shape (nTrials,)
    order : float
        Observed (asymptotic) convergence order of E1: the median of ``Order[:, 1]`` over
        the smaller half of the step sizes at which E1 lies above the rounding floor
        (``1e4 eps``); ``nan`` when E1 never does (the linearisation is exact to
        rounding, e.g. for a linear map).
    """

    def __init__(self, isOK, Err, Order, h, order, success, name=""):
        super().__init__(isOK, name)
        self.Err = Err
        self.Order = Order
        self.h = h
        self.order = order
        self.success = success

    def __iter__(self):
        return iter((self.isOK, self.Err, self.Order))

    def numbers(self):
        return {"observed order": self.order, "min E1": float(numpy.min(self.Err[:, 1]))}

    def table(self):
        """The per-step table as a string."""
        lines = [f"{'h':>9}  {'E0':>9}  {'E1':>9}  {'O1':>6}  {'O2':>6}  OK?"]
        for j in range(len(self.h)):
            lines.append(f"{self.h[j]:9.3e}  {self.Err[j, 0]:9.3e}  {self.Err[j, 1]:9.3e}  "
                         f"{self.Order[j, 0]:6.2f}  {self.Order[j, 1]:6.2f}  {int(self.success[j]):3d}")
        order = "exact to rounding" if math.isnan(self.order) else f"{self.order:.2f}"
        lines.append(f"{self.name + ': ' if self.name else ''}observed order of E1: {order}; "
                     f"{'PASSED' if self.isOK else 'FAILED'}")
        return "\n".join(lines)

    def report(self):
        """The table (same as :meth:`table`)."""
        return self.table()

    def __repr__(self):
        order = "exact" if math.isnan(self.order) else f"{self.order:.2f}"
        return f"DerivativeCheck(isOK={self.isOK}, order={order})"


def _evaluate(fctn, x):
    res = fctn(x)
    if isinstance(res, tuple):
        if len(res) >= 3:      # objective functions: (Jc, para, dJ, ...)
            return res[0], res[2]
        if len(res) == 2:
            return res
        return res[0], None
    return res, None


def _directional(F, dF, v):
    """``J v`` from what the function returned as its derivative."""
    if callable(dF):
        return dF(v)
    xp = getArrayModuleOf(dF, v)
    if dF.size == v.size and (numpy.ndim(F) == 0 or F.size == 1):
        return xp.sum(dF.reshape(-1) * v.reshape(-1))   # gradient of a scalar function
    if dF.ndim == 2 and dF.shape[1] == v.size:
        return (dF @ v.reshape(-1)).reshape(numpy.shape(F))     # Jacobian matrix
    raise ValueError(
        f"checkDerivative: cannot apply the derivative: expected a callable v -> J v, a "
        f"gradient with {v.size} entries or a Jacobian with {v.size} columns; got an array "
        f"of shape {tuple(dF.shape)}")


def _norm(a):
    return float(numpy.linalg.norm(toHost(a).ravel().astype(numpy.float64)))


def checkDerivative(fctn, x0, v=None, out=False, tol=1.9, nSuccess=3, nTrials=30, rng=None,
                    name=""):
    """Taylor test of the derivative of ``fctn`` at ``x0`` in direction ``v``.

    For ``h = 2^-j, j = 1..nTrials`` it computes ``E0 = |f(x0+hv) - f(x0)|`` and
    ``E1 = |f(x0+hv) - f(x0) - h J v|`` (relative to ``|f(x0)|``). A correct derivative
    gives E0 = O(h) and E1 = O(h^2).

    Parameters
    ----------
    fctn : callable
        ``fctn(x)`` returns ``(F, dF)`` or, for objective functions, ``(F, para, dF)``.
        ``dF`` is a callable ``v -> J v``, the gradient of a scalar ``F``, or a Jacobian
        matrix with ``x.size`` columns.
    x0 : array
    v : array, optional
        Direction; standard normal (on ``x0``'s backend and dtype) by default.
    out : bool
        Print the table.
    tol, nSuccess, nTrials :
        As Meganet.m: a step succeeds if the E1 order exceeds ``tol`` or
        ``E0/E1 > 100`` (and, here, also if E1 is at rounding level, ``E1 <= 100 eps``, as for
        a map that is constant in the direction ``v`` with a zero derivative); more than
        ``nSuccess`` successes are needed.
        In addition the observed E1 order (see :class:`DerivativeCheck`) must be at
        least 1.5 when it can be measured, unless the linearisation becomes exact to
        rounding at small h (``E0/E1 >= 1e6`` in double precision, as for piecewise-linear
        maps such as ReLU networks once no kink is crossed). This rejects slightly wrong
        derivatives (relative error above ~1e-6) that the ratio rule alone lets through.
    rng : seed or numpy.random.Generator, optional

    Returns
    -------
    DerivativeCheck
        Unpacks as ``isOK, Err, Order``.
    """
    xp = getArrayModuleOf(x0)
    if v is None:
        g = numpy.random.default_rng(rng)
        v = xp.asarray(g.standard_normal(x0.shape).astype(x0.dtype))
    F, dF = _evaluate(fctn, x0)
    if dF is None:
        raise ValueError("checkDerivative: fctn(x) must return (F, dF) or (F, para, dF)")
    dvF = _directional(F, dF, v)
    nF = _norm(F)
    nF = nF if nF > 0 else 1.0
    eps = float(numpy.finfo(numpy.dtype(x0.dtype)).eps)
    h = 2.0 ** (-numpy.arange(1, nTrials + 1, dtype=numpy.float64))
    Err = numpy.zeros((nTrials, 2))
    Order = numpy.zeros((nTrials, 2))
    success = numpy.zeros(nTrials, dtype=bool)
    for j in range(nTrials):
        Ft = _evaluate(fctn, x0 + h[j] * v)[0]
        Err[j, 0] = _norm(F - Ft) / nF
        Err[j, 1] = _norm(F + h[j] * dvF - Ft) / nF
        if j > 0:
            with numpy.errstate(divide="ignore", invalid="ignore"):
                Order[j] = numpy.log2(Err[j - 1] / Err[j])
        # a step succeeds on second-order decay, on a linearisation far better than the
        # constant one, or when it is exact to rounding (e.g. a map constant in this direction)
        success[j] = (Order[j, 1] > tol) or (Err[j, 0] > 100 * Err[j, 1]) or (Err[j, 1] <= 100 * eps)
    # observed (asymptotic) order: median over the smaller half of the steps where E1
    # lies clearly above the rounding floor
    floor = 1e4 * eps
    valid = [j for j in range(1, nTrials) if Err[j - 1, 1] > floor and Err[j, 1] > floor
             and numpy.isfinite(Order[j, 1])]
    tail = valid[len(valid) // 2:]
    order = float(numpy.median(Order[tail, 1])) if len(valid) >= 2 else float("nan")
    # a piecewise-linear map (ReLU) has E1 of order h while steps cross kinks, then E1 drops
    # to rounding: accept when the linearisation becomes exact (E0/E1 large), which a wrong
    # derivative with relative error e cannot reach beyond 1/e
    exactRatio = 1e6 if eps < 1e-10 else 1e2
    with numpy.errstate(divide="ignore", invalid="ignore"):
        ratio = numpy.where(Err[:, 1] > 0, Err[:, 0] / Err[:, 1], numpy.inf)
    becomesExact = bool(numpy.any(ratio[Err[:, 0] > 0] >= exactRatio))
    isOK = success.sum() > nSuccess and (math.isnan(order) or order >= 1.5 or becomesExact)
    res = DerivativeCheck(isOK, Err, Order, h, order, success, name=name)
    if out:
        print(res.table())
    return res
