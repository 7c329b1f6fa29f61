"""Shared machinery of the normalization layers (private).

Axes of the data
----------------
Features of ``N`` examples have the shape ``(N, *nData)``. The LAST axis holds the
channels, axis 0 the examples, and all axes in between are "pixels" (none for vector
features ``nData = (n,)``, whose ``n`` entries are then channels). Meganet.m's flag
vectors keep their MATLAB order ``(pixels, channels, examples)``.

Mean/variance normalization over a set of axes ``A``
----------------------------------------------------
With ``mean_A`` the average over the axes in ``A`` (broadcast back)::

    F    = Y - mean_A(Y)
    den  = sqrt(mean_A(F**2) + eps)
    Zhat = F / den

Its Jacobian is symmetric (``J_Y = J_Y^T``), and for ``V`` shaped like ``Y``::

    J V = (V - mean_A(V) - Zhat * mean_A(Zhat * V)) / den

(derivation: ``dF = (I - mean_A) dV``; ``d den = mean_A(F dF) / den`` because
``mean_A(F) = 0``; ``dZhat = dF/den - F d den / den**2``. The operator
``V -> (I - mean_A) V`` is a symmetric projector and ``V -> Zhat mean_A(Zhat V)`` is
symmetric, because ``den`` and ``Zhat``'s averages are constant along ``A``; the two
commute with division by ``den``, hence the symmetry.)

Per-channel scale and shift
---------------------------
``Z = Zhat * s + b`` with ``s, b`` of shape ``(C,)`` broadcast along the channel axis
(``theta = [s; b]``, initialised to ones and zeros)::

    J_theta [ds; db] = Zhat * ds + db
    J_theta^T W      = [sum(W * Zhat); sum(W)]       (sums over all axes but the channels)
    J_Y V            = s * (J_nrm V)
    J_Y^T W          = J_nrm^T (s * W)

Per-example gradients (``reduceDim=False``) sum over the pixel axes only.
"""
from typing import Any, NamedTuple

import numpy

from ..element import AbstractMeganetElement
from ..validation import checkBool, checkFloat, checkNData

__all__ = []


def pixelAxes(ndimY):
    """Axes of the pixels of data with ``ndimY`` axes (examples first, channels last)."""
    return tuple(range(1, ndimY - 1))


# ---------------------------------------------------------------------- mean/variance
def meanVarNormalize(xp, Y, axes, eps, returnStats=False):
    """``(Zhat, den)``: ``Y`` centred and scaled over ``axes`` (see the module docstring).

    With ``returnStats`` also the batch mean and (biased) variance, ``(Zhat, den, mean, var)``,
    all of them with the reduced axes kept (size 1).
    """
    mean = xp.mean(Y, axis=axes, keepdims=True)
    F = Y - mean
    var = xp.mean(F * F, axis=axes, keepdims=True)
    den = xp.sqrt(var + eps)
    if returnStats:
        return F / den, den, mean, var
    return F / den, den


def meanVarJmv(xp, V, Zhat, den, axes):
    """``J V = J^T V = (V - mean(V) - Zhat mean(Zhat V)) / den`` over ``axes``."""
    mV = xp.mean(V, axis=axes, keepdims=True)
    mZV = xp.mean(Zhat * V, axis=axes, keepdims=True)
    return (V - mV - Zhat * mZV) / den


# ---------------------------------------------------------------------- scale and shift
def scaleShiftJthetaTmv(xp, W, Zhat, reduceDim=True):
    """``[sum(W Zhat); sum(W)]`` per channel; ``(2C,)`` or per example ``(N, 2C)``."""
    N, C = W.shape[0], W.shape[-1]
    W3 = W.reshape(N, -1, C)
    Z3 = Zhat.reshape(N, -1, C)
    if reduceDim:
        return xp.concatenate([xp.sum(W3 * Z3, axis=(0, 1)), xp.sum(W3, axis=(0, 1))])
    return xp.concatenate([xp.sum(W3 * Z3, axis=1), xp.sum(W3, axis=1)], axis=1)


class NormTmp(NamedTuple):
    """``tmp`` of a normalization layer's ``forwardProp``: the normalized batch ``Zhat`` and
    the denominator ``den`` it was divided by (reduced axes kept)."""

    Zhat: Any
    den: Any


def exampleShape(owner, nData, minDims=1):
    """The shape of one example from a normalization layer's ``nData``.

    ``(H, W, C)``, ``(nPix, C)`` or ``(n,)`` as given; Meganet.m's drivers pass
    ``[nImg nc nEx]``, i.e. ``(H, W, C, nEx)``, whose last entry (the number of examples)
    Meganet.m ignores: it is dropped here too. More than four entries are an error.
    """
    shape = checkNData(owner, nData, minDims=minDims)
    if len(shape) == 4:
        return shape[:3]
    if len(shape) > 4:
        raise ValueError(f"{owner}: nData must be the shape of one example, (H, W, C), (nPix, C) or (n,) "
                         f"(or Meganet.m's (H, W, C, nEx), whose nEx is ignored); got {nData!r}")
    return shape


# ---------------------------------------------------------------------- base element
class ChannelNormalization(AbstractMeganetElement):
    """A normalization ``Zhat = Nrm(Y)`` followed by an optional per-channel scale and shift.

    Subclasses provide ``_normalize(Y) -> (Zhat, den)`` (the statistics of the batch
    ``Y``; no side effects) and ``_normJmv(V, Zhat, den)``, the product of the symmetric
    Jacobian of ``Nrm`` with ``V``. ``_forwardNormalize(Y, doDerivative)`` may be
    overridden when the forward map differs from the derivative's linearisation point
    (running statistics).

    ``tmp`` of ``forwardProp`` is :class:`NormTmp` ``(Zhat, den)`` of the batch, or ``None`` when
    ``doDerivative`` is False.
    """

    def __init__(self, nData, isWeight=False, eps=1e-4, useGPU=False, precision="double",
                 minDims=1):
        super().__init__(useGPU=useGPU, precision=precision)
        name = type(self).__name__
        self.nData = exampleShape(name, nData, minDims=minDims)
        self.isWeight = checkBool(name, "isWeight", isWeight)
        self.eps = checkFloat(name, "eps", eps, low=0, lowOpen=True, expected="a finite positive number")

    # ------------------------------------------------------------------ sizes and weights
    def nChannels(self):
        """Number of channels (the last entry of ``nData``)."""
        return self.nData[-1]

    def nTheta(self):
        return 2 * self.nData[-1] if self.isWeight else 0

    def sizeFeatIn(self):
        return self.nData

    def sizeFeatOut(self):
        return self.nData

    def initTheta(self, rng=None):
        """Scales ones, shifts zeros (empty without weights); ``rng`` is unused."""
        C = self.nData[-1] if self.isWeight else 0
        return self.asArray(numpy.concatenate([numpy.ones(C), numpy.zeros(C)]))

    def split(self, theta):
        """``(s, b)``: per-channel scale and shift, views of shape ``(C,)`` (empty without weights)."""
        C = self.nData[-1] if self.isWeight else 0
        return theta[:C], theta[C:2 * C]

    # ------------------------------------------------------------------ hooks
    def _normalize(self, Y):
        raise NotImplementedError

    def _normJmv(self, V, Zhat, den):
        raise NotImplementedError

    def _forwardNormalize(self, Y, doDerivative):
        """Normalized features for the forward map and the tmp to return."""
        Zhat, den = self._normalize(Y)
        return Zhat, (NormTmp(Zhat, den) if doDerivative else None)

    def _batchState(self, Y, tmp):
        return self._normalize(Y) if tmp is None else tmp

    # ------------------------------------------------------------------ protocol
    def forwardProp(self, theta, Y, doDerivative=True):
        Zhat, tmp = self._forwardNormalize(Y, doDerivative)
        if not self.isWeight:
            return Zhat, tmp
        s, b = self.split(theta)
        return Zhat * s + b, tmp

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Zhat, den = self._batchState(Y, tmp)
        dZ = None
        if dY is not None:
            dZ = self._normJmv(dY, Zhat, den)
            if self.isWeight:
                dZ = dZ * self.split(theta)[0]
        if dtheta is not None and self.isWeight:
            ds, db = self.split(dtheta)
            dZt = Zhat * ds + db
            dZ = dZt if dZ is None else dZ + dZt
        if dZ is None:
            dZ = self.xp.zeros(Y.shape, dtype=self.dtype)
        return dZ

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        Zhat, den = self._batchState(Y, tmp)
        dth = dY = None
        if doDerivative[0]:
            if self.isWeight:
                dth = scaleShiftJthetaTmv(self.xp, W, Zhat, reduceDim)
            else:
                shape = (0,) if reduceDim else (Y.shape[0], 0)
                dth = self.xp.zeros(shape, dtype=self.dtype)
        if doDerivative[1]:
            if self.isWeight:
                W = W * self.split(theta)[0]
            dY = self._normJmv(W, Zhat, den)
        return dth, dY


class MeanVarNormalization(ChannelNormalization):
    """Mean/variance normalization over the axes ``self._axes(ndimY)``."""

    def _axes(self, ndimY):
        raise NotImplementedError

    def _normalize(self, Y):
        return meanVarNormalize(self.xp, Y, self._axes(Y.ndim), self.eps)

    def _normJmv(self, V, Zhat, den):
        return meanVarJmv(self.xp, V, Zhat, den, self._axes(V.ndim))
