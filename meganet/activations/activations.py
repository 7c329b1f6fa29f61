"""Pointwise activation functions (Meganet.m's ``activations`` folder).

Each function is called as ``A, dA = f(Y, doDerivative=True)`` and returns the
activation ``A = sigma(Y)`` and, if ``doDerivative``, its derivative ``dA = sigma'(Y)``
(else ``None``). ``tanhActivation`` and ``reluActivation`` also return the second
derivative when ``doSecondDerivative=True``: ``A, dA, d2A``. All work on NumPy and
device arrays alike.
"""
from ..backend import getArrayModuleOf
from ..hostThreads import elementwise

__all__ = ["tanhActivation", "reluActivation", "identityActivation", "smoothReluActivation"]


def tanhActivation(Y, doDerivative=True, doSecondDerivative=False):
    """``sigma(y) = tanh(y)``, ``sigma' = 1 - sigma^2``, ``sigma'' = -2 sigma sigma'``."""
    xp = getArrayModuleOf(Y)
    A = xp.tanh(Y)
    if not (doDerivative or doSecondDerivative):
        return A, None
    dA = xp.multiply(A, A)
    xp.subtract(1, dA, out=dA)
    if doSecondDerivative:
        return A, dA, -2 * A * dA
    return A, dA


def reluActivation(Y, doDerivative=True, doSecondDerivative=False):
    """``sigma(y) = max(y, 0)``, ``sigma'(y) = [y >= 0]`` (as Meganet.m), ``sigma'' = 0``."""
    xp = getArrayModuleOf(Y)
    A = xp.empty(Y.shape, dtype=Y.dtype)
    if not (doDerivative or doSecondDerivative):
        elementwise(lambda y, a: xp.maximum(y, 0, out=a), Y, A)
        return A, None
    dA = xp.empty(Y.shape, dtype=Y.dtype)

    def work(y, a, d):          # sigma and sigma' in one pass (no boolean temporary)
        xp.maximum(y, 0, out=a)
        xp.greater_equal(y, 0, out=d)
    elementwise(work, Y, A, dA)
    if doSecondDerivative:
        return A, dA, xp.zeros_like(Y)
    return A, dA


def identityActivation(Y, doDerivative=True, doSecondDerivative=False):
    """``sigma(y) = y``, ``sigma' = 1``, ``sigma'' = 0``."""
    xp = getArrayModuleOf(Y)
    if not (doDerivative or doSecondDerivative):
        return Y, None
    dA = xp.ones_like(Y)
    if doSecondDerivative:
        return Y, dA, xp.zeros_like(Y)
    return Y, dA


def smoothReluActivation(Y, doDerivative=True, doSecondDerivative=False, eta=0.1):
    """ReLU with a quadratic blend on ``|y| <= eta``.

    ``sigma(y) = 0`` for ``y < -eta``, ``y^2/(4 eta) + y/2 + eta/4`` for ``|y| <= eta``
    and ``y`` for ``y > eta``; it is continuously differentiable with
    ``sigma'(y) = y/(2 eta) + 1/2`` on the blend. ``sigma''`` is ``1/(2 eta)`` on the
    blend and 0 elsewhere.
    """
    if eta <= 0:
        raise ValueError(f"smoothReluActivation: eta must be positive; got {eta}")
    xp = getArrayModuleOf(Y)
    inside = xp.abs(Y) <= eta
    quad = Y * Y / (4 * eta) + Y / 2 + eta / 4
    A = xp.where(inside, quad, xp.maximum(Y, 0))
    if not (doDerivative or doSecondDerivative):
        return A, None
    dA = xp.where(inside, Y / (2 * eta) + 0.5, xp.greater(Y, eta, out=xp.empty(Y.shape, dtype=Y.dtype)))
    if doSecondDerivative:
        return A, dA, xp.where(inside, xp.ones_like(Y) / (2 * eta), xp.zeros_like(Y))
    return A, dA
