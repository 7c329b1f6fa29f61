import numpy as np
import pytest

import meganet as mg
from meganet.backend import asArray

ACTS = [mg.tanhActivation, mg.reluActivation, mg.identityActivation, mg.smoothReluActivation]


@pytest.mark.parametrize("act", ACTS, ids=lambda f: f.__name__)
def test_activation_derivative(act, useGPU):
    rng = np.random.default_rng(3)
    # keep clear of the kinks of relu at 0 and of smoothRelu at +-eta
    y = rng.uniform(0.2, 2.0, 40) * rng.choice([-1, 1], 40)
    y = asArray(y, useGPU=useGPU)
    A, dA = act(y)
    assert A.shape == y.shape and dA.shape == y.shape
    res = mg.checkDerivative(lambda x: (act(x)[0], lambda v: act(x)[1] * v), y, rng=0)
    assert res.isOK, res.table()


@pytest.mark.parametrize("act", [mg.tanhActivation, mg.smoothReluActivation], ids=lambda f: f.__name__)
def test_second_derivative(act):
    y = np.linspace(-2, 2, 41) + 0.013
    A, dA, d2A = act(y, doSecondDerivative=True)
    res = mg.checkDerivative(lambda x: (act(x)[1], lambda v: act(x, doSecondDerivative=True)[2] * v),
                             y, rng=0)
    assert res.isOK, res.table()


def test_activation_values():
    y = np.array([-1.0, -0.05, 0.0, 0.05, 1.0])
    np.testing.assert_allclose(mg.reluActivation(y)[0], [0, 0, 0, 0.05, 1])
    np.testing.assert_allclose(mg.reluActivation(y)[1], [0, 0, 1, 1, 1])
    A, dA = mg.smoothReluActivation(y, eta=0.1)
    np.testing.assert_allclose(A, [0, 0.05**2 / 0.4 - 0.025 + 0.025, 0.025, 0.05**2 / 0.4 + 0.025 + 0.025, 1])
    np.testing.assert_allclose(dA, [0, 0.25, 0.5, 0.75, 1])
    assert mg.tanhActivation(y, doDerivative=False)[1] is None
    assert mg.reluActivation(y.astype(np.float32))[1].dtype == np.float32
    with pytest.raises(ValueError, match="eta must be positive"):
        mg.smoothReluActivation(y, eta=0)


@pytest.mark.parametrize("act", [mg.reluActivation, mg.identityActivation], ids=lambda f: f.__name__)
def test_piecewise_linear_second_derivative_is_zero(act):
    y = np.linspace(-2, 2, 41) + 0.013
    assert not act(y, doSecondDerivative=True)[2].any()
