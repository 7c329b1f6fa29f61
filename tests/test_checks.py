"""The derivative checks must accept right derivatives and reject wrong ones."""
import numpy as np
import pytest

import meganet as mg
from meganet.linops import LinearOperator


def _f(x):
    return np.sin(x) * x[::-1], lambda v: np.cos(x) * v * x[::-1] + np.sin(x) * v[::-1]


def test_checkDerivative_accepts_correct_jacobian(capsys):
    x0 = np.linspace(-1, 1, 7)
    res = mg.checkDerivative(_f, x0, out=True, rng=1)
    isOK, Err, Order = res
    assert isOK and Err.shape == (30, 2) and Order.shape == (30, 2)
    assert abs(res.order - 2) < 0.2
    assert "observed order of E1" in capsys.readouterr().out


@pytest.mark.parametrize("perturb", [1e-1, 1e-3, 1e-4])
def test_checkDerivative_rejects_slightly_wrong_jacobian(perturb):
    x0 = np.linspace(-1, 1, 7)

    def wrong(x):
        F, dF = _f(x)
        return F, lambda v: dF(v) * (1 + perturb)

    res = mg.checkDerivative(wrong, x0, rng=1)
    assert not res.isOK
    assert res.order < 1.5


def test_checkDerivative_gradient_and_objective_forms():
    A = np.diag(np.arange(1.0, 5.0))
    x0 = np.ones(4)
    assert mg.checkDerivative(lambda x: (0.5 * x @ A @ x, A @ x), x0, rng=0).isOK
    assert mg.checkDerivative(lambda x: (0.5 * x @ A @ x, {}, A @ x), x0, rng=0).isOK
    assert not mg.checkDerivative(lambda x: (0.5 * x @ A @ x, 1.1 * A @ x), x0, rng=0).isOK
    with pytest.raises(ValueError, match="cannot apply the derivative"):
        mg.checkDerivative(lambda x: (x, np.ones(3)), x0)


def test_checkJacobian_matrix_form():
    M = np.random.default_rng(0).standard_normal((3, 4))
    x0 = np.ones(4)
    assert mg.checkJacobian(lambda x: (np.tanh(M @ x), (1 - np.tanh(M @ x) ** 2)[:, None] * M), x0, rng=0).isOK
    assert not mg.checkJacobian(lambda x: (np.tanh(M @ x), M), x0, rng=0).isOK


def test_checkAdjoint_detects_wrong_adjoint(capsys):
    M = np.random.default_rng(0).standard_normal((5, 3))
    ok, err = mg.checkAdjoint(M, rng=0)
    assert ok and err < 1e-13
    A = LinearOperator(5, 3, lambda x: M @ x, lambda y: M.T @ y)
    assert mg.checkAdjoint(A, rng=0, out=True)[0]
    assert "relative error" in capsys.readouterr().out
    B = LinearOperator(5, 3, lambda x: M @ x, lambda y: 1.0001 * (M.T @ y))
    ok, err = mg.checkAdjoint(B, rng=0)
    assert not ok and err > 1e-6
    with pytest.raises(TypeError, match="LinearOperator or a matrix"):
        mg.checkAdjoint("nope")


class _BrokenDense(mg.Dense):
    """A Dense kernel with a wrong JYTmv (for testing the element checks)."""

    def JYTmv(self, W, theta, Y, tmp=None):
        return 1.01 * super().JYTmv(W, theta, Y, tmp)


def test_checkJacobian_element_report_and_failures(capsys):
    ok = mg.checkJacobian(mg.Dense((3, 4)), rng=0, out=True)
    assert ok.isOK, ok.report()
    assert "PASSED" in capsys.readouterr().out
    bad = mg.checkJacobian(_BrokenDense((3, 4)), rng=0)
    assert not bad.isOK
    assert "JYTmv (adjoint)" in bad.failures()
    isOK, results = bad
    assert not isOK and "JYmv (Taylor)" in results


def test_checkDerivative_constant_map():
    x0 = np.ones(3)
    assert mg.checkDerivative(lambda x: (np.ones(2), lambda v: np.zeros(2)), x0, rng=0).isOK
    assert not mg.checkDerivative(lambda x: (np.ones(2), lambda v: v[:2]), x0, rng=0).isOK
