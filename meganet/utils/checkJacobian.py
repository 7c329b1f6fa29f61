"""``checkJacobian``: Taylor test of vector maps, and the full derivative check of an element.

Two uses:

* ``checkJacobian(fctn, x0, ...)`` -- Meganet.m's checkJacobian: the Taylor test of a
  vector-valued map whose ``fctn(x)`` returns ``(F, dF)`` with ``dF`` a callable
  ``v -> J v`` or a Jacobian matrix (see :func:`checkDerivative`).
* ``checkJacobian(element, theta, Y, ...)`` -- every derivative product of a meganet
  element at ``(theta, Y)``: Taylor tests of ``Jthetamv`` and ``JYmv``, adjoint tests of
  ``JthetaTmv`` and ``JYTmv``, ``JTmv`` against the two transposes, per-example
  gradients (``reduceDim=False``) against the reduced gradient, and the products
  computed without ``tmp`` against those computed with it.
"""
import numpy

from ..backend import toHost
from .checkAdjoint import checkAdjoint
from .checkDerivative import checkDerivative
from .checkResult import CheckResult, ToleranceCheck

__all__ = ["checkJacobian", "ElementCheck"]


class ElementCheck(CheckResult):
    """Result of ``checkJacobian(element, ...)`` (a :class:`~meganet.utils.checkResult.CheckResult`).

    Unpacks as ``isOK, results``; ``results`` maps each check's name to its outcome, itself
    a check result: a :class:`~meganet.utils.checkDerivative.DerivativeCheck` for the
    Taylor tests and a :class:`~meganet.utils.checkResult.ToleranceCheck`
    (``isOK, relative error``) for the others.
    """

    def __init__(self, element, results):
        super().__init__(all(bool(r) for r in results.values()), type(element).__name__)
        self.element = element
        self.results = results

    def __iter__(self):
        return iter((self.isOK, self.results))

    def failures(self):
        """Names of the checks that failed."""
        return [k for k, r in self.results.items() if not r]

    def numbers(self):
        return {k: (r.order if hasattr(r, "order") else r.err) for k, r in self.results.items()}

    def report(self):
        """A readable table of all checks."""
        lines = [f"derivative checks of {self.element!r}"]
        for k, r in self.results.items():
            if hasattr(r, "order"):
                order = "exact" if numpy.isnan(r.order) else f"{r.order:.2f}"
                detail = f"Taylor, observed order {order}"
            else:
                detail = f"relative error {r.err:.2e}"
            lines.append(f"  {k:<28} {r._status()}  {detail}")
        lines.append("PASSED" if self.isOK else "FAILED: " + ", ".join(self.failures()))
        return "\n".join(lines)

    def __repr__(self):
        return f"ElementCheck(isOK={self.isOK}, failures={self.failures()})"


def _relErr(a, b):
    a = toHost(a).astype(numpy.float64).ravel()
    b = toHost(b).astype(numpy.float64).ravel()
    if a.shape != b.shape:
        return float("inf")
    den = max(numpy.linalg.norm(a), numpy.linalg.norm(b))
    return float(numpy.linalg.norm(a - b) / den) if den > 0 else 0.0


def _isElement(obj):
    return all(hasattr(obj, m) for m in ("forwardProp", "Jthetamv", "JYTmv", "nTheta"))


def checkJacobian(fctn, x0=None, Y=None, *, out=False, rng=None, nEx=3, tol=1.9,
                  nSuccess=None, nTrials=30, v=None, precision=None, reduceDim=True,
                  checkTmp=True):
    """Taylor test of a vector map, or every derivative check of a meganet element.

    Parameters
    ----------
    fctn : callable or element
        A callable returning ``(F, dF)`` (see :func:`checkDerivative`), or an element.
    x0 : array
        The point (callable use) or ``theta`` (element use; ``element.initTheta()`` plus a
        small random perturbation if omitted, so biases are not all zero).
    Y : array, optional
        Element use: input features; standard normal with ``nEx`` examples if omitted.
    out : bool
        Print the tables.
    rng : seed or numpy.random.Generator
    tol, nSuccess, nTrials, v :
        Taylor test settings (nSuccess defaults to 3, or 2 in single precision).
    reduceDim : bool
        Element use: also check per-example gradients.
    checkTmp : bool
        Element use: also compare the products computed with ``tmp=None``.

    Returns
    -------
    DerivativeCheck (callable use) or ElementCheck (element use).
    """
    g = numpy.random.default_rng(rng)
    if not _isElement(fctn):
        if nSuccess is None:
            single = precision == "single" or (x0 is not None and x0.dtype == numpy.float32)
            nSuccess = 2 if single else 3
        return checkDerivative(fctn, x0, v=v, out=out, tol=tol, nSuccess=nSuccess,
                               nTrials=nTrials, rng=g)

    el = fctn
    xp = el.xp
    dtype = el.dtype
    if nSuccess is None:
        nSuccess = 2 if el.precision == "single" else 3
    theta = x0
    if theta is None:
        theta = el.initTheta(rng=g)
        theta = theta + xp.asarray((0.1 * g.standard_normal(theta.shape)).astype(dtype))
    if Y is None:
        Y = xp.asarray(g.standard_normal((nEx,) + tuple(el.sizeFeatIn())).astype(dtype))
    Z, tmp = el.forwardProp(theta, Y)
    nth = el.nTheta()
    name = type(el).__name__
    res = {}
    kw = dict(out=out, tol=tol, nSuccess=nSuccess, nTrials=nTrials)

    def randLike(shape):
        return xp.asarray(g.standard_normal(shape).astype(dtype))

    if nth > 0:
        if out:
            print(f"{name}: Taylor test of Jthetamv")
        res["Jthetamv (Taylor)"] = checkDerivative(
            lambda th: (el.forwardProp(th, Y)[0],
                        lambda dth: el.Jthetamv(dth, th, Y, None)),
            theta, rng=g, name="Jthetamv", **kw)
    if out:
        print(f"{name}: Taylor test of JYmv")
    res["JYmv (Taylor)"] = checkDerivative(
        lambda y: (el.forwardProp(theta, y)[0], lambda dy: el.JYmv(dy, theta, y, None)),
        Y, rng=g, name="JYmv", **kw)
    if nth > 0:
        res["JthetaTmv (adjoint)"] = checkAdjoint(el.getJthetaOp(theta, Y, tmp), rng=g, out=out)
    res["JYTmv (adjoint)"] = checkAdjoint(el.getJYOp(theta, Y, tmp), rng=g, out=out)
    res["JTmv (adjoint, joint)"] = checkAdjoint(el.getJOp(theta, Y, tmp), rng=g, out=out)

    # JTmv must agree with the two transposes; Jmv with the two products
    eqtol = 1e-12 if dtype == numpy.float64 else 1e-5
    W = randLike(Z.shape)
    dth, dY = el.JTmv(W, theta, Y, tmp)
    dYT = el.JYTmv(W, theta, Y, tmp)
    e = _relErr(dY, dYT)
    if nth > 0:
        dthT = el.JthetaTmv(W, theta, Y, tmp)
        e = max(e, _relErr(dth, dthT))
    res["JTmv = (JthetaTmv, JYTmv)"] = ToleranceCheck(e <= eqtol, e, eqtol, "JTmv")
    dthv = randLike((nth,))
    dYv = randLike(Y.shape)
    Jv = el.Jmv(dthv, dYv, theta, Y, tmp)
    Jv2 = el.JYmv(dYv, theta, Y, tmp)
    if nth > 0:
        Jv2 = Jv2 + el.Jthetamv(dthv, theta, Y, tmp)
    e = _relErr(Jv, Jv2)
    res["Jmv = Jthetamv + JYmv"] = ToleranceCheck(e <= eqtol, e, eqtol, "Jmv")

    if reduceDim and nth > 0:
        per = el.JthetaTmv(W, theta, Y, tmp, reduceDim=False)
        if tuple(per.shape) != (Y.shape[0], nth):
            res["reduceDim=False"] = ToleranceCheck(False, float("inf"), eqtol * 10, "reduceDim")
        else:
            e = _relErr(per.sum(axis=0), el.JthetaTmv(W, theta, Y, tmp))
            res["reduceDim=False"] = ToleranceCheck(e <= eqtol * 10, e, eqtol * 10, "reduceDim")

    if checkTmp:
        e = _relErr(el.JYTmv(W, theta, Y, None), dYT)
        e = max(e, _relErr(el.JYmv(dYv, theta, Y, None), el.JYmv(dYv, theta, Y, tmp)))
        if nth > 0:
            e = max(e, _relErr(el.JthetaTmv(W, theta, Y, None), el.JthetaTmv(W, theta, Y, tmp)))
            e = max(e, _relErr(el.Jthetamv(dthv, theta, Y, None),
                               el.Jthetamv(dthv, theta, Y, tmp)))
        res["tmp=None recomputes"] = ToleranceCheck(e <= eqtol, e, eqtol, "tmp=None")

    result = ElementCheck(el, res)
    if out:
        print(result.report())
    return result
