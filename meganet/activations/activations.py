"""Pointwise activation functions (Meganet.m's ``activations`` folder).

Each function is called as ``A, dA = f(Y, doDerivative=True)`` and returns the
activation ``A = sigma(Y)`` and, if ``doDerivative``, its derivative ``dA = sigma'(Y)``
(else ``None``). ``tanhActivation`` and ``reluActivation`` also return the second
derivative when ``doSecondDerivative=True``: ``A, dA, d2A``. All work on NumPy and
device arrays alike.
"""
import numpy

from ..backend import getArrayModuleOf
from ..hostThreads import inChunks

__all__ = ["tanhActivation", "reluActivation", "identityActivation", "smoothReluActivation"]

CHUNK = 1 << 16     # entries per chunk of the host's elementwise work


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
    dA = xp.empty(Y.shape, dtype=Y.dtype) if (doDerivative or doSecondDerivative) else None

    def work(s, e):             # sigma and sigma' in one pass (no boolean temporary)
        xp.maximum(Yf[s:e], 0, out=Af[s:e])
        if dA is not None:
            xp.greater_equal(Yf[s:e], 0, out=dAf[s:e])
    if xp is numpy and Y.flags.c_contiguous:        # in cache-sized chunks, in threads
        Yf, Af = Y.reshape(-1), A.reshape(-1)
        dAf = dA.reshape(-1) if dA is not None else None
        inChunks(work, Yf.size, CHUNK)
    else:
        Yf, Af, dAf = Y, A, dA
        work(None, None)
    if dA is None:
        return A, None
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
