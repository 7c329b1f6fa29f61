"""Helpers for the element tests."""
import numpy as np

from meganet.backend import asArray
from meganet.utils import checkJacobian


def randn(shape, useGPU=False, precision="double", rng=None, scale=1.0):
    """Standard normal data on the requested backend."""
    rng = np.random.default_rng(rng)
    return asArray(scale * rng.standard_normal(shape), useGPU=useGPU, precision=precision)


def assertElementDerivatives(el, theta=None, Y=None, nEx=3, rng=0, **kw):
    """Run every derivative check of ``el`` and fail with the report if one fails."""
    res = checkJacobian(el, theta, Y, nEx=nEx, rng=rng, **kw)
    assert res.isOK, res.report()
    return res
