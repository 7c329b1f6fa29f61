"""Deterministic optimizers, line searches, linear solvers and the box projection.

Test problems (defined here): a strictly convex quadratic with known minimiser, the
Rosenbrock function, and small linear systems.
"""
import math
import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import meganet as mg
from meganet.backend import asArray, getArrayModuleOf, toHost


# --------------------------------------------------------------------------- problems
class Quadratic:
    """J(x) = 1/2 (x - xs)^T A (x - xs), A SPD with eigenvalues 1..cond; H = A."""

    def __init__(self, n=8, cond=10.0, seed=0, useGPU=False, Hform="matrix"):
        r = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(r.standard_normal((n, n)))
        self.Ahost = Q @ np.diag(np.linspace(1, cond, n)) @ Q.T
        self.xs = r.standard_normal(n)
        self.A = asArray(self.Ahost, useGPU)
        self.xsd = asArray(self.xs, useGPU)
        self.Hform = Hform
        self.points = []

    def __call__(self, x, idx=None):
        self.points.append(toHost(x).copy())
        g = self.A @ (x - self.xsd)
        J = 0.5 * (x - self.xsd) @ g
        A = self.A
        if self.Hform == "callable":
            H = lambda v: A @ v  # noqa: E731
        elif self.Hform == "linop":
            H = mg.LinearOperator(A.shape[0], A.shape[1], lambda v: A @ v, lambda v: A.T @ v)
        else:
            H = A
        return J, {"hisNames": ["dist"], "hisVals": [float(getArrayModuleOf(x).linalg.norm(
            x - self.xsd))]}, g, H, None


def rosenbrock(x, idx=None):
    f = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    g = np.array([-400 * (x[1] - x[0] ** 2) * x[0] - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])
    H = np.array([[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]], [-400 * x[0], 200.0]])
    return f, {}, g, H, None


ROSEN_X0 = np.array([-1.2, 1.0])
TIGHT = dict(atol=1e-10, rtol=1e-12)


def allMethods(maxIter):
    return {
        "SD": mg.SD(maxIter=maxIter, **TIGHT),
        "NLCG": mg.NLCG(maxIter=maxIter, **TIGHT),
        "LBFGS": mg.LBFGS(maxIter=maxIter, **TIGHT),
        "Newton": mg.Newton(maxIter=maxIter, **TIGHT),
        "TRNewton-GMRES": mg.TRNewton(maxIter=maxIter, **TIGHT),
        "TRNewton-Steihaug": mg.TRNewton(maxIter=maxIter, linSol=mg.SteihaugPCG(tol=1e-12,
                                                                                maxIter=20),
                                         **TIGHT),
    }


# --------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("method", list(allMethods(1)))
def test_methods_reach_quadratic_minimiser(method):
    # tolerance: |x - xs|_inf < 1e-9 with |dJ| < 1e-10 as stopping rule (cond(A) = 10)
    prob = Quadratic()
    opt = allMethods(300)[method]
    xc, His, xOpt = opt.solve(prob, np.zeros(8))
    assert His.stopReason == "tolerance", His.table()
    assert np.abs(xc - prob.xs).max() < 1e-9
    assert His["Jc"][-1] < 1e-18
    np.testing.assert_array_equal(His["iter"], np.arange(His.nRows))
    assert His["|dJ|/|dJ0|"][0] == 1.0 and His["|x-xOld|"][0] == 0.0
    # no validation: xOpt is the iterate with the smallest objective
    assert His.optCriterion == "min Jc"
    np.testing.assert_array_equal(xOpt, xc)
    np.testing.assert_allclose(His["train dist"][-1], np.linalg.norm(xc - prob.xs))


@pytest.mark.parametrize("method", ["LBFGS", "Newton", "TRNewton"])
def test_device_backend(method, useGPU):
    prob = Quadratic(useGPU=useGPU, Hform="linop")
    opt = {"LBFGS": mg.LBFGS(maxIter=100, **TIGHT), "Newton": mg.Newton(maxIter=100, **TIGHT),
           "TRNewton": mg.TRNewton(maxIter=100, **TIGHT)}[method]
    x0 = asArray(np.zeros(8), useGPU)
    xc, His, xOpt = opt.solve(prob, x0)
    assert type(xc) is type(x0) and type(xOpt) is type(x0)
    assert np.abs(toHost(xc) - prob.xs).max() < 1e-9


@pytest.mark.parametrize("Hform", ["callable", "linop"])
def test_newton_hessian_forms(Hform):
    prob = Quadratic(Hform=Hform)
    xc, His, _ = mg.Newton(maxIter=100, **TIGHT).solve(prob, np.zeros(8))
    assert np.abs(xc - prob.xs).max() < 1e-9
    assert His.names[:9] == ["iter", "Jc", "|x-xOld|", "|dJ|/|dJ0|", "iterCG", "relresCG", "mu",
                             "LS", "TotalWork"]


def test_rosenbrock_newton_type_methods():
    # from (-1.2, 1): LBFGS, Newton and TRNewton (both subproblem solvers) reach (1, 1)
    # to 1e-8 within 60 iterations
    methods = {
        "LBFGS": mg.LBFGS(maxIter=60, **TIGHT),
        "Newton": mg.Newton(maxIter=60, linSol=mg.SteihaugPCG(tol=1e-12, maxIter=2), **TIGHT),
        "TRNewton-GMRES": mg.TRNewton(maxIter=60, **TIGHT),
        "TRNewton-Steihaug": mg.TRNewton(maxIter=60, linSol=mg.SteihaugPCG(tol=1e-12, maxIter=2),
                                         **TIGHT),
    }
    for name, opt in methods.items():
        xc, His, xOpt = opt.solve(rosenbrock, ROSEN_X0)
        assert His.stopReason == "tolerance", (name, His.table())
        assert np.abs(xc - 1).max() < 1e-8, name
        assert np.all(np.diff(His["Jc"]) <= 0), name    # monotone (line search / trust region)


def test_rosenbrock_sd_nlcg_decrease():
    # J(x0) = 24.2; in 200 iterations SD gets below 1 and NLCG below 1e-4
    J0 = rosenbrock(ROSEN_X0)[0]
    _, His, _ = mg.SD(maxIter=200, **TIGHT).solve(rosenbrock, ROSEN_X0)
    assert J0 == pytest.approx(24.2) and His["Jc"][-1] < 1.0
    assert np.all(np.diff(His["Jc"]) < 0)
    _, His, _ = mg.NLCG(maxIter=200, **TIGHT).solve(rosenbrock, ROSEN_X0)
    assert His["Jc"][-1] < 1e-4


def test_trnewton_without_iteration_limit():
    """``maxIter=inf`` (Meganet.m's drivers): the tolerances stop it, as a large finite limit."""
    for inf in (math.inf, float("inf"), np.inf):
        assert mg.TRNewton(maxIter=inf).maxIter == math.inf
    xc, His, _ = mg.TRNewton(maxIter=math.inf, **TIGHT).solve(rosenbrock, ROSEN_X0)
    xr, Hr, _ = mg.TRNewton(maxIter=10**6, **TIGHT).solve(rosenbrock, ROSEN_X0)
    assert His.stopReason == Hr.stopReason == "tolerance"
    np.testing.assert_allclose(xc, [1.0, 1.0], atol=1e-8)
    np.testing.assert_allclose(xc, xr, atol=1e-12)
    # the work budget stops it too
    _, His, _ = mg.TRNewton(maxIter=math.inf, maxWorkUnits=20, **TIGHT).solve(rosenbrock, ROSEN_X0)
    assert His.stopReason == "maxWorkUnits"


def test_trnewton_history_and_radius():
    _, His, _ = mg.TRNewton(maxIter=60, **TIGHT).solve(rosenbrock, ROSEN_X0)
    assert His.names == ["iter", "Jc", "|x-xOld|", "|dJ|/|dJ0|", "|dJ|", "relresGMRES",
                         "iterGMRES", "flagGMRES", "|s|", "Delta", "trFlag", "ared/pred",
                         "TotalWork"]
    flags = His["trFlag"][1:]
    assert set(np.unique(flags)) <= {-2, 0, 1, 2, 3}
    rej = flags == -2
    assert rej.any()                                  # Rosenbrock needs some rejections
    np.testing.assert_array_equal(His["|x-xOld|"][1:][rej], 0.0)
    assert np.all(His["|x-xOld|"][1:][~rej] > 0)
    # |s| never exceeds the radius in force when the step was computed
    Delta = His["Delta"]
    for i in range(2, His.nRows):
        assert His["|s|"][i] <= Delta[i - 1] * (1 + 1e-8)
    # rejected steps shrink the radius; accepted ones have ared/pred >= rho0
    for i in np.nonzero(rej)[0] + 1:
        if i >= 2:
            assert Delta[i] < Delta[i - 1]
    assert np.all(His["ared/pred"][1:][~rej] >= 1e-4)
    assert His.HBar is not None and His.V is not None


def test_trnewton_indefinite_hessian_uses_model_decrease():
    # J = x1^4/4 - x1^2/2 + x2^2/2 starts at a point with negative curvature in x1; the
    # GMRES/Tikhonov step alone would point uphill; the Cauchy safeguard makes progress.
    def f(x, idx=None):
        J = x[0] ** 4 / 4 - x[0] ** 2 / 2 + x[1] ** 2 / 2
        g = np.array([x[0] ** 3 - x[0], x[1]])
        H = np.diag([3 * x[0] ** 2 - 1, 1.0])
        return J, {}, g, H, None
    for linSol in (mg.GMRES(), mg.SteihaugPCG(tol=1e-10, maxIter=5)):
        xc, His, _ = mg.TRNewton(maxIter=50, Delta=0.1, linSol=linSol, **TIGHT).solve(
            f, np.array([0.1, 1.0]))
        np.testing.assert_allclose(xc, [1.0, 0.0], atol=1e-8)
        assert His["Jc"][-1] == pytest.approx(-0.25)


def test_validation_history_and_xOpt_deterministic():
    prob = Quadratic()
    acc = []

    def fval(x, idx=None):
        a = 1.0 / (1.0 + np.linalg.norm(x - prob.xs + 0.3))   # best near xs - 0.3
        acc.append(a)
        return 0.0, {"hisNames": ["accuracy"], "hisVals": [a]}, None
    xc, His, xOpt = mg.SD(maxIter=30, **TIGHT).solve(prob, np.zeros(8), fval)
    assert His.names[-4:] == ["LS", "train dist", "val Jc", "val accuracy"]
    assert His.optCriterion == "max val accuracy"
    best = int(np.argmax(His["val accuracy"]))
    assert His.optIndex == best
    np.testing.assert_array_equal(His["val accuracy"], acc)
    # xOpt is the iterate at which the best validation accuracy was measured
    assert np.linalg.norm(xOpt - prob.xs + 0.3) == pytest.approx(1 / acc[best] - 1)
    assert best < His.nRows - 1 and not np.array_equal(xOpt, xc)


def test_projected_sd_stays_in_box():
    # separable quadratic: the box-constrained minimiser is the clipped unconstrained one
    d = np.array([1.0, 2.0, 3.0, 4.0])
    xs = np.array([2.0, -0.5, -3.0, 0.3])
    pts = []

    def f(x, idx=None):
        pts.append(x.copy())
        return 0.5 * np.sum(d * (x - xs) ** 2), {}, d * (x - xs)
    P = mg.ProjBound(-1, 1)
    # the gradient does not vanish at a constrained minimiser: the run ends when the
    # line search cannot decrease J any more
    with pytest.warns(RuntimeWarning, match="SD: the line search failed at iteration"):
        xc, His, _ = mg.SD(maxIter=200, LS=mg.Armijo(P=P), **TIGHT).solve(f, 5 * np.ones(4))
    assert His.stopReason == "line search failed"
    assert np.abs(np.array(pts)).max() <= 1.0
    np.testing.assert_allclose(xc, np.clip(xs, -1, 1), atol=1e-8)


def test_nonfinite_and_missing_hessian():
    calls = []
    prob = Quadratic()

    def f(x, idx=None):
        calls.append(1)
        J, para, g, H, PC = prob(x)
        if len(calls) >= 4:
            g = g.copy()
            g[0] = np.nan
        return J, para, g, H, PC
    with pytest.raises(FloatingPointError, match=r"LBFGS: non-finite objective value or gradient "
                                                 r"at iteration \d"):
        mg.LBFGS(maxIter=10, **TIGHT).solve(f, np.zeros(8))
    calls.clear()
    with pytest.raises(FloatingPointError, match="Newton: the gradient has non-finite entries at "
                                                 "iteration"):
        mg.Newton(maxIter=10, **TIGHT).solve(f, np.zeros(8))

    def g(x, idx=None):
        return math.nan, {}, x
    with pytest.raises(FloatingPointError, match="SD: the objective value is nan at the starting "
                                                 "point"):
        mg.SD().solve(g, np.ones(2))

    def three(x, idx=None):
        return 0.5 * x @ x, {}, x
    for Opt in (mg.Newton, mg.TRNewton):
        with pytest.raises(TypeError, match="must return .*Hessian H"):
            Opt().solve(three, np.ones(2))


def test_printing_and_defaults(capsys):
    prob = Quadratic()
    mg.Newton(out=1, maxIter=3).solve(prob, np.zeros(8))
    out = capsys.readouterr().out
    assert "== newton (n=8, maxIter=3" in out and "iterCG" in out and "newton stopped" in out
    assert len([ln for ln in out.splitlines() if ln[:1].isdigit()]) == 4
    mg.SD(maxIter=3).solve(prob, np.zeros(8))
    assert capsys.readouterr().out == ""
    sd, nl, nt = mg.SD(), mg.NLCG(), mg.Newton()
    for o in (sd, nl, nt):
        assert (o.maxIter, o.atol, o.rtol, o.maxStep, o.out) == (10, 1e-3, 1e-3, 1.0, 0)
        assert isinstance(o.LS, mg.Armijo)
    assert (nt.linSol.tol, nt.linSol.maxIter) == (0.1, 10)
    lb = mg.LBFGS()
    assert (lb.nBFGS, lb.maxIter, lb.maxStep) == (10, 10, 1) and isinstance(lb.LS, mg.Wolfe)
    tr = mg.TRNewton()
    assert (tr.maxIter, tr.atol, tr.rtol, tr.dtol, tr.Delta, tr.rho0, tr.rhoL, tr.rhoH, tr.wdown,
            tr.wup, tr.C) == (10, 1e-3, 1e-3, 1e-5, None, 1e-4, 0.1, 0.75, 0.5, 1.5, 1e4)
    assert isinstance(tr.linSol, mg.GMRES) and tr.linSol.m is None and tr.linSol.tol == 1e-10
    ar, wo = mg.Armijo(), mg.Wolfe()
    assert (ar.gamma, ar.maxIter) == (1e-3, 10)
    assert (wo.muMax, wo.c1, wo.c2, wo.maxFunEvals) == (5, 1e-4, 0.9, 20)
    sp = mg.SteihaugPCG()
    assert (sp.tol, sp.maxIter, sp.Delta, sp.PC) == (0.1, 10, math.inf, None)


def test_maxWorkUnits_and_lbfgs_memory():
    prob = Quadratic(n=30, cond=100, seed=3)
    _, His, _ = mg.Newton(maxIter=100, maxWorkUnits=30, **TIGHT).solve(prob, np.zeros(30))
    assert His.stopReason == "maxWorkUnits" and His["TotalWork"][-1] > 30
    assert His["TotalWork"][-2] <= 30
    opt = mg.LBFGS(maxIter=200, nBFGS=3, **TIGHT)
    xc, His, _ = opt.solve(prob, np.zeros(30))
    assert len(opt._pairs) == 3 and np.abs(xc - prob.xs).max() < 1e-8


@pytest.mark.parametrize("make,match", [
    (lambda: mg.SD(maxIter=-1), "SD: maxIter must be an integer >= 0 \\(or inf\\); got -1"),
    (lambda: mg.NLCG(maxStep=0), "NLCG: maxStep must be a number > 0"),
    (lambda: mg.LBFGS(nBFGS=0), "LBFGS: nBFGS must be an integer >= 1; got 0"),
    (lambda: mg.Armijo(gamma=1.5), r"Armijo: gamma must be a finite number in \[0, 1\)"),
    (lambda: mg.Armijo(gamma=-0.1), r"Armijo: gamma must be a finite number in \[0, 1\); got -0.1"),
    (lambda: mg.TRNewton(maxIter=-math.inf), "TRNewton: maxIter must be an integer >= 0"),
    (lambda: mg.TRNewton(maxIter=math.nan), "TRNewton: maxIter must be an integer >= 0"),
    (lambda: mg.Wolfe(c1=0.5, c2=0.1), "Wolfe: need 0 < c1 < c2 < 1"),
    (lambda: mg.SteihaugPCG(Delta=0), "SteihaugPCG: Delta must be a number > 0"),
    (lambda: mg.GMRES(m=0), "GMRES: m must be an integer >= 1; got 0"),
    (lambda: mg.TRNewton(wup=0.9), "TRNewton: wup must be a finite number > 1"),
    (lambda: mg.ProjBound(1, -1), "ProjBound: need low <= up"),
])
def test_bad_options(make, match):
    with pytest.raises(ValueError, match=match):
        make()
    with pytest.raises(TypeError, match="LS must be an Armijo or Wolfe"):
        mg.SD(LS="armijo")
    with pytest.raises(TypeError, match="linSol must be a GMRES or SteihaugPCG"):
        mg.TRNewton(linSol=object())


# --------------------------------------------------------------------------- line searches
def _poly():
    # Meganet.m's Wolfe test function: f(x) = -prod(x - r) for r = 0.25, 0.5, 2.5, 3, 6
    c = -np.poly([0.25, 0.5, 2.5, 3, 6])

    def f(x, idx=None):
        return float(np.polyval(c, x[0])), {}, np.array([np.polyval(np.polyder(c), x[0])])
    return f


@pytest.mark.parametrize("mu0", np.linspace(0.04, 4, 12))
def test_wolfe_conditions(mu0):
    f = _poly()
    ls = mg.Wolfe(c2=0.5)
    x0, s = np.zeros(1), np.ones(1)
    J0, _, g0 = f(x0)
    xt, para = ls.lineSearch(f, x0, mu0, s, J0, g0)
    Jt, _, gt = f(xt)
    assert para["flag"] == 0
    np.testing.assert_allclose(xt, x0 + para["mu"] * s)
    assert Jt <= J0 + ls.c1 * para["mu"] * (g0 @ s)
    assert abs(gt @ s) <= ls.c2 * abs(g0 @ s)
    assert para["Jt"] == Jt and para["funEvals"] <= ls.maxFunEvals


def test_wolfe_failure_returns_best_point():
    f = _poly()
    x0, s = np.zeros(1), np.ones(1)
    J0, _, g0 = f(x0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xt, para = mg.Wolfe(maxFunEvals=1, c2=0.01).lineSearch(f, x0, 0.05, s, J0, g0)
    assert para["flag"] == 1 and f(xt)[0] < J0       # sufficient decrease only

    def liar(x, idx=None):                            # claims descent, but J grows
        return float(x[0] ** 2 + x[0]), {}, np.array([-1.0])
    with pytest.warns(RuntimeWarning, match="Wolfe: no step with sufficient decrease"):
        xt, para = mg.Wolfe().lineSearch(liar, x0, 1.0, s, 0.0, np.array([-1.0]))
    assert para["flag"] == 2 and para["mu"] == 0.0 and np.array_equal(xt, x0)
    with pytest.raises(ValueError, match="not a descent direction"):
        mg.Wolfe().lineSearch(f, x0, 1.0, -s, J0, g0)


def test_armijo_condition_and_failure():
    prob = Quadratic()
    x0 = np.zeros(8)
    J0, _, g0, _, _ = prob(x0)
    s = -g0
    ls = mg.Armijo()
    for mu0 in (1.0, 0.3, 5.0):
        xt, mu, it = ls.lineSearch(prob, x0, mu0, s, J0, g0)
        assert it <= ls.maxIter and mu == mu0 / 2 ** (it - 1)
        np.testing.assert_allclose(xt, x0 + mu * s)
        assert prob(xt)[0] < J0 + ls.gamma * mu * (g0 @ s)
        if it > 1:      # the previous trial violated the condition
            assert prob(x0 + 2 * mu * s)[0] >= J0 + ls.gamma * 2 * mu * (g0 @ s)
    xt, mu, it = mg.Armijo(maxIter=3).lineSearch(prob, x0, 1e6, s, J0, g0)
    assert it == 4 and np.array_equal(xt, x0)
    # gamma = 0 (Meganet.m's EResNN_SwissRollResNN): plain decrease, J(xt) < J(xc)
    ls0, ls20 = mg.Armijo(gamma=0, maxIter=20), mg.Armijo(maxIter=20)
    for mu0 in (1.0, 5.0, 1e3):
        xt, mu, it = ls0.lineSearch(prob, x0, mu0, s, J0, g0)
        assert it <= ls0.maxIter and mu == mu0 / 2 ** (it - 1) and prob(xt)[0] < J0
        if it > 1:
            assert prob(x0 + 2 * mu * s)[0] >= J0
        assert mu >= ls20.lineSearch(prob, x0, mu0, s, J0, g0)[1]    # a weaker test than gamma > 0
    # projected: the trial points stay in the box and the rule uses xt - xc
    P = mg.ProjBound(-0.1, 0.1)
    xt, mu, it = mg.Armijo(P=P).lineSearch(prob, x0, 1.0, s, J0, g0)
    assert np.abs(xt).max() <= 0.1 and prob(xt)[0] < J0 + 1e-3 * g0 @ (xt - x0)


# --------------------------------------------------------------------------- linear solvers
def _spd(n, seed, cond=50.0):
    r = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(r.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1, cond, n)) @ Q.T, r.standard_normal(n)


def test_steihaug_matches_solve(useGPU):
    A, b = _spd(20, 0)
    sol = np.linalg.solve(A, b)
    Ad, bd = asArray(A, useGPU), asArray(b, useGPU)
    x, para = mg.SteihaugPCG(tol=1e-13, maxIter=200).solve(Ad, bd)
    assert para["flag"] == 0 and para["relres"] <= 1e-13
    np.testing.assert_allclose(toHost(x), sol, rtol=1e-10, atol=1e-10)
    # Jacobi preconditioner (callable inverse) on a badly scaled system needs fewer steps
    D = np.diag(np.geomspace(1, 1e3, 20))
    As, bs = D @ A @ D, D @ b
    x1, p1 = mg.SteihaugPCG(tol=1e-10, maxIter=500).solve(As, bs)
    dinv = 1 / np.diag(As)
    x2, p2 = mg.SteihaugPCG(tol=1e-10, maxIter=500).solve(As, bs, PC=lambda r: dinv * r)
    x3, p3 = mg.SteihaugPCG(tol=1e-10, maxIter=500, PC=np.diag(np.diag(As))).solve(As, bs)
    xs = np.linalg.solve(As, bs)
    for x_, p_ in ((x2, p2), (x3, p3)):
        np.testing.assert_allclose(x_, xs, rtol=1e-7)
        assert p_["flag"] == 0 and p_["relres"] <= 1e-10
    # the two preconditioner forms are the same operator; which one needs one more CG step
    # in rounding-dominated late iterations depends on the BLAS kernel, so counts are only
    # compared with the unpreconditioned run (far apart), never with each other exactly
    assert max(p2["iter"], p3["iter"]) < p1["iter"]


def test_steihaug_respects_Delta_and_negative_curvature():
    A, b = _spd(20, 1)
    sol = np.linalg.solve(A, b)
    Delta = 0.5 * np.linalg.norm(sol)
    x, para = mg.SteihaugPCG(tol=1e-12, maxIter=100, Delta=Delta).solve(A, b)
    assert para["flag"] == 3
    assert np.linalg.norm(x) == pytest.approx(Delta, rel=1e-12)
    # the model decreases: m(x) = 1/2 x^T A x - b^T x < 0
    assert 0.5 * x @ A @ x - b @ x < 0
    # indefinite matrix: negative curvature takes the iterate to the boundary
    Ain = A - 2 * np.eye(20) * np.linalg.eigvalsh(A).max()
    x, para = mg.SteihaugPCG(tol=1e-12, maxIter=100, Delta=2.0).solve(Ain, b)
    assert para["flag"] == 2 and np.linalg.norm(x) == pytest.approx(2.0, rel=1e-12)
    assert 0.5 * x @ Ain @ x - b @ x < 0
    x, para = mg.SteihaugPCG().solve(A, np.zeros(20))
    assert para["flag"] == -2 and not x.any()


def test_gmres_matches_solve_and_arnoldi(useGPU):
    n = 40
    r = np.random.default_rng(0)
    A = r.standard_normal((n, n)) + np.sqrt(n) * np.eye(n)
    b = r.standard_normal(n)
    Ad, bd = asArray(A, useGPU), asArray(b, useGPU)
    x, para = mg.GMRES(m=n, tol=1e-12).solve(Ad, bd)
    np.testing.assert_allclose(toHost(x), np.linalg.solve(A, b), rtol=1e-10, atol=1e-11)
    assert para["flag"] == 0 and para["relres"] < 1e-12
    for m in (5, 12):
        x, para = mg.GMRES(m=m, tol=1e-12).solve(Ad, bd)
        V, H, k = toHost(para["V"]), para["H"], para["iter"]
        assert k == m and para["flag"] == -1 and V.shape == (n, m + 1) and H.shape == (m + 1, m)
        np.testing.assert_allclose(V.T @ V, np.eye(m + 1), atol=1e-13)
        AV = A @ V[:, :m]
        assert np.linalg.norm(AV - V @ H) / np.linalg.norm(AV) < 1e-13      # Arnoldi relation
        np.testing.assert_allclose(V[:, :m].T @ AV, H[:m], atol=1e-12)
        np.testing.assert_allclose(toHost(x), V[:, :m] @ para["z"], rtol=1e-13)
        res = np.linalg.norm(b - A @ toHost(x)) / np.linalg.norm(b)
        assert res == pytest.approx(para["relres"], rel=1e-8)
        # m-step GMRES minimises the residual over the Krylov space: as SciPy's first cycle
        xsp, _ = spla.gmres(A, b, rtol=1e-14, restart=m, maxiter=1)
        np.testing.assert_allclose(toHost(x), xsp, rtol=1e-8)


def test_gmres_breakdown_initial_guess_and_single():
    A = np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    b = np.array([1.0, 1.0, 0, 0, 0, 0])           # lies in a 2-dimensional invariant space
    x, para = mg.GMRES().solve(A, b)
    assert para["iter"] == 2 and para["flag"] == 0
    np.testing.assert_allclose(x, b / np.diag(A), atol=1e-14)
    x0 = np.ones(6)
    x, para = mg.GMRES(tol=1e-13).solve(A, 2 * (A @ x0), x0)
    np.testing.assert_allclose(x, 2 * x0, rtol=1e-12)
    x, para = mg.GMRES().solve(A.astype(np.float32), b.astype(np.float32))
    assert x.dtype == np.float32
    with pytest.raises(ValueError, match="GMRES: b must be a flat 1-D array; got shape"):
        mg.GMRES().solve(A, b[:, None])
    with pytest.raises(ValueError, match="SteihaugPCG: b must be a flat 1-D array; got shape"):
        mg.SteihaugPCG().solve(A, b[:, None])


# --------------------------------------------------------------------------- projection
def test_projbound(useGPU):
    r = np.random.default_rng(0)
    x = asArray(3 * r.standard_normal(50), useGPU)
    px = mg.ProjBound()(x)
    assert type(px) is type(x)
    np.testing.assert_array_equal(toHost(px), np.clip(toHost(x), -1, 1))
    low = np.concatenate([np.zeros(25), -np.inf * np.ones(25)])
    up = np.concatenate([10 * np.ones(25), np.inf * np.ones(25)])
    P = mg.ProjBound(low, up)
    np.testing.assert_array_equal(toHost(P(x)), np.minimum(np.maximum(toHost(x), low), up))
    np.testing.assert_array_equal(toHost(mg.projBound(x, 0, np.inf)),
                                  np.maximum(toHost(x), 0))
    xs = asArray(toHost(x), useGPU, "single")
    assert P(xs).dtype == np.float32
    with pytest.raises(ValueError, match=r"ProjBound: low must be a scalar or have the shape of x "
                                         r"\(3,\); got shape \(50,\)"):
        P(asArray(np.zeros(3), useGPU))
    with pytest.raises(ValueError, match="low must be a number or a 1-D array"):
        mg.ProjBound(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="must not be NaN"):
        mg.ProjBound(np.nan)


def test_meganet_style_objective_methods_and_formats(capsys):
    # objectives with hisNames() -> (names, formats) and hisVals(para), as Meganet.m's objFctn
    prob = Quadratic()

    class Obj:
        def __call__(self, x, idx=None, doDerivative=True):
            J, _, g, H, PC = prob(x)
            return J, {"J": J}, (g if doDerivative else None), H, PC

        def hisNames(self):
            return ["F", "accuracy"], ["%1.3e", "%-12.2f"]

        def hisVals(self, para):
            return np.array([para["J"], 100.0 / (1.0 + para["J"])])

    xc, His, _ = mg.Newton(maxIter=3, out=1).solve(Obj(), np.zeros(8), Obj())
    assert His.names[8:] == ["TotalWork", "train F", "train accuracy", "val Jc", "val F",
                             "val accuracy"]
    np.testing.assert_allclose(His["train F"], His["Jc"])
    np.testing.assert_allclose(His["val F"], His["Jc"])
    np.testing.assert_allclose(His["train accuracy"], 100 / (1 + His["Jc"]))
    assert His.optCriterion == "max val accuracy"
    assert His.frmt[His.names.index("train accuracy")] == "%-12.2f"
    out = capsys.readouterr().out.splitlines()
    header = out[1]
    pos = 0
    for n in His.names:                 # every column name, in order
        pos = header.index(n, pos) + len(n)
    row = out[2]
    assert f"{His['train accuracy'][0]:.2f}" in row and f"{His['train F'][0]:1.3e}" in row


@pytest.mark.parametrize("Opt", [mg.SD, mg.NLCG, mg.LBFGS, mg.Newton])
def test_line_search_optimizers_without_iteration_limit(Opt):
    """``maxIter=inf`` is accepted as by Meganet.m: the tolerances stop the run, as a large finite limit."""
    assert Opt(maxIter=math.inf).maxIter == math.inf
    xc, His, _ = Opt(maxIter=math.inf, atol=1e-6, rtol=1e-6).solve(rosenbrock, ROSEN_X0)
    xr, Hr, _ = Opt(maxIter=10**6, atol=1e-6, rtol=1e-6).solve(rosenbrock, ROSEN_X0)
    assert His.stopReason == Hr.stopReason == "tolerance"
    np.testing.assert_allclose(xc, xr, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="maxIter"):
        Opt(maxIter=-math.inf)
