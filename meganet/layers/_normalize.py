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
from ..hostThreads import inChunks
from ..validation import checkBool, checkFloat, checkNData

__all__ = []


def pixelAxes(ndimY):
    """Axes of the pixels of data with ``ndimY`` axes (examples first, channels last)."""
    return tuple(range(1, ndimY - 1))


# ---------------------------------------------------------------------- accurate sums
def _split(R):
    """``(R1, R2)`` with ``R1 R2 = R`` and ``R2`` the divisor of ``R`` nearest to ``sqrt(R)``
    from below (``(1, R)`` for small ``R``)."""
    if R <= 128:
        return 1, R
    r = int(R ** 0.5)
    while R % r:
        r -= 1
    return R // r, r


def axisSum(xp, X, axes, Y=None):
    """``sum_axes(X)`` (or ``sum_axes(X * Y)``) with the reduced axes kept, in ``X``'s dtype.

    On the host, for a contiguous run of reduced axes of C-contiguous data, the sum is
    formed in two levels without a temporary of the size of ``X``: ``numpy.einsum`` sums
    blocks of about ``sqrt(R)`` consecutive terms (``R`` the number of summed terms; the
    product ``X * Y`` is formed inside ``einsum``), and the block sums are added in
    float64. The rounding error then grows with ``sqrt(R)`` instead of ``R`` (NumPy's
    float32 sum over non-contiguous axes adds the terms one after another: for instance
    normalization of 96 x 96 images about 35 times less accurate than this). Otherwise
    (the device, other axes) the array module's sum.
    """
    axes = tuple(sorted(a % X.ndim for a in axes))
    contiguousRun = axes == tuple(range(axes[0], axes[-1] + 1)) if axes else False
    if (xp is not numpy or not contiguousRun or not X.flags.c_contiguous or X.size == 0
            or (Y is not None and (Y.shape != X.shape or not Y.flags.c_contiguous))):
        return xp.sum(X if Y is None else X * Y, axis=axes, keepdims=True)
    shape = X.shape
    pre = int(numpy.prod(shape[:axes[0]]))
    post = int(numpy.prod(shape[axes[-1] + 1:]))
    R1, R2 = _split(int(numpy.prod([shape[a] for a in axes])))
    X4 = X.reshape(pre, R1, R2, post)
    if Y is None:
        part = numpy.einsum("aijb->aib", X4)
    else:
        part = numpy.einsum("aijb,aijb->aib", X4, Y.reshape(pre, R1, R2, post))
    total = part.sum(axis=1, dtype=numpy.float64).astype(X.dtype, copy=False)
    return total.reshape(tuple(1 if a in axes else n for a, n in enumerate(shape)))


def axisMean(xp, X, axes, Y=None):
    """``mean_axes(X)`` (or of ``X * Y``) with the reduced axes kept; see :func:`axisSum`."""
    R = int(numpy.prod([X.shape[a] for a in axes]))
    S = axisSum(xp, X, axes, Y)
    if R == 0:
        return xp.full(S.shape, numpy.nan, dtype=X.dtype)
    return S / X.dtype.type(R)


# ---------------------------------------------------------------------- parts in threads
#: bytes of one part of the data processed at a time (all passes over it while it is in cache)
PART_BYTES = 1 << 19


def byParts(xp, shape, itemsize, axes, work):
    """Call ``work(idx)`` for index tuples ``idx`` that cut the data into parts.

    On the host the data of shape ``shape`` are cut along the first axis not in ``axes``
    (the statistics over ``axes`` of one part do not depend on the others) into parts of
    about :data:`PART_BYTES`, processed by the host threads
    (:func:`meganet.hostThreads.splitRun`); ``work`` reads and writes only its part, so all
    its passes run while the part is in the cache. On the device (or if every axis is
    reduced) ``work`` is called once with the whole data.
    """
    ax = next((k for k in range(len(shape)) if k not in axes), None)
    # parts along the last axis would not be contiguous (the sums of :func:`axisSum`
    # need contiguous data): batch normalization of (N, H, W, C) data runs in one part
    if xp is not numpy or ax is None or shape[ax] <= 1 or ax == len(shape) - 1:
        work((slice(None),))
        return
    L = shape[ax]
    per = max(1, int(numpy.prod(shape)) // L * itemsize)
    rows = max(1, PART_BYTES // per)
    head = (slice(None),) * ax
    inChunks(lambda s, e: work(head + (slice(s, e),)), L, rows)


# ---------------------------------------------------------------------- mean/variance
def meanVarNormalize(xp, Y, axes, eps, returnStats=False):
    """``(Zhat, den)``: ``Y`` centred and scaled over ``axes`` (see the module docstring).

    With ``returnStats`` also the batch mean and (biased) variance, ``(Zhat, den, mean, var)``,
    all of them with the reduced axes kept (size 1). One new array of the size of ``Y``
    (``Zhat``), computed part by part (:func:`byParts`); the statistics are accumulated as
    in :func:`axisSum`.
    """
    statShape = tuple(1 if k in axes else n for k, n in enumerate(Y.shape))
    Zhat = xp.empty(Y.shape, dtype=Y.dtype)
    mean, var = xp.empty(statShape, dtype=Y.dtype), xp.empty(statShape, dtype=Y.dtype)

    def work(idx):
        Yc, Zc = Y[idx], Zhat[idx]
        m = axisMean(xp, Yc, axes)
        xp.subtract(Yc, m, out=Zc)
        mean[idx], var[idx] = m, axisMean(xp, Zc, axes, Zc)
        xp.divide(Zc, xp.sqrt(var[idx] + eps), out=Zc)
    byParts(xp, Y.shape, Y.dtype.itemsize, axes, work)
    den = xp.sqrt(var + eps)
    if returnStats:
        return Zhat, den, mean, var
    return Zhat, den


def meanVarJmv(xp, V, Zhat, den, axes, scale=None, returnStats=False):
    """``J V = J^T V = (V - mean(V) - Zhat mean(Zhat V)) / den`` over ``axes``.

    ``scale`` (per channel, shape ``(C,)``; only if the channel axis is not in ``axes``)
    gives ``scale * (J V)``, which equals ``J (scale * V)``: the factor joins ``1 / den``.
    One new array of the size of ``V``, computed part by part (:func:`byParts`). With
    ``returnStats`` also ``(mean(V), mean(Zhat V))`` (reduced axes kept).
    """
    out = xp.empty(V.shape, dtype=V.dtype)
    f = 1 / den if scale is None else scale / den
    statShape = tuple(1 if k in axes else n for k, n in enumerate(V.shape))
    mV, mZV = xp.empty(statShape, dtype=V.dtype), xp.empty(statShape, dtype=V.dtype)

    def work(idx):
        Vc, Zc, oc = V[idx], Zhat[idx], out[idx]
        mV[idx], mZV[idx] = axisMean(xp, Vc, axes), axisMean(xp, Zc, axes, Vc)
        xp.multiply(Zc, mZV[idx], out=oc)
        xp.subtract(Vc, oc, out=oc)
        oc -= mV[idx]
        oc *= f[idx]
    byParts(xp, V.shape, V.dtype.itemsize, axes, work)
    return (out, mV, mZV) if returnStats else out


def scaleShift(xp, Zhat, s, b):
    """``Zhat * s + b`` (per-channel ``s``, ``b``; a new array), part by part."""
    Z = xp.empty(Zhat.shape, dtype=Zhat.dtype)

    def work(idx):
        Zc = Z[idx]
        xp.multiply(Zhat[idx], s, out=Zc)
        Zc += b
    byParts(xp, Zhat.shape, Zhat.dtype.itemsize, (), work)
    return Z


# ---------------------------------------------------------------------- scale and shift
def scaleShiftJthetaTmv(xp, W, Zhat, reduceDim=True):
    """``[sum(W Zhat); sum(W)]`` per channel; ``(2C,)`` or per example ``(N, 2C)``."""
    N, C = W.shape[0], W.shape[-1]
    W3 = W.reshape(N, -1, C)
    Z3 = Zhat.reshape(N, -1, C)
    axes = (0, 1) if reduceDim else (1,)
    sWZ, sW = axisSum(xp, W3, axes, Z3), axisSum(xp, W3, axes)
    if reduceDim:
        return xp.concatenate([sWZ.reshape(C), sW.reshape(C)])
    return xp.concatenate([sWZ.reshape(N, C), sW.reshape(N, C)], axis=1)


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

    def _scaledJmv(self, V, Zhat, den, scale, first):
        """``J_nrm (scale * V)`` (``first``, the adjoint's order) or ``scale * (J_nrm V)``;
        ``scale`` per channel ``(C,)`` or None. ``_normJmv`` returns a new array."""
        if scale is None:
            return self._normJmv(V, Zhat, den)
        if first:
            return self._normJmv(V * scale, Zhat, den)
        out = self._normJmv(V, Zhat, den)
        out *= scale
        return out

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
        return scaleShift(self.xp, Zhat, s, b), tmp

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Zhat, den = self._batchState(Y, tmp)
        dZ = None
        if dY is not None:
            dZ = self._scaledJmv(dY, Zhat, den, self.split(theta)[0] if self.isWeight else None,
                                 first=False)
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
            dY = self._scaledJmv(W, Zhat, den, self.split(theta)[0] if self.isWeight else None,
                                 first=True)
        return dth, dY


class MeanVarNormalization(ChannelNormalization):
    """Mean/variance normalization over the axes ``self._axes(ndimY)``."""

    def _axes(self, ndimY):
        raise NotImplementedError

    def _normalize(self, Y):
        return meanVarNormalize(self.xp, Y, self._axes(Y.ndim), self.eps)

    def _normJmv(self, V, Zhat, den):
        return meanVarJmv(self.xp, V, Zhat, den, self._axes(V.ndim))

    def _scaledJmv(self, V, Zhat, den, scale, first):
        axes = self._axes(V.ndim)
        if scale is None or V.ndim - 1 in axes:
            return super()._scaledJmv(V, Zhat, den, scale, first)
        # the channel axis is not averaged over: the per-channel scale commutes with J_nrm
        return meanVarJmv(self.xp, V, Zhat, den, axes, scale)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        """As :meth:`ChannelNormalization.JTmv`; with weights, both gradients wanted and the
        channel axis not normalized over, the weight gradient comes from the averages the
        input gradient needs: ``sum(W Zhat) = R sum(mean_A(Zhat W))`` and
        ``sum(W) = R sum(mean_A(W))`` (``R`` terms per average; the outer sums over the
        other non-channel axes), without two more passes over the data."""
        axes, C = self._axes(W.ndim), W.shape[-1]
        if (not (self.isWeight and doDerivative[0] and doDerivative[1]) or W.ndim - 1 in axes
                or (not reduceDim and 0 in axes)):
            return super().JTmv(W, theta, Y, tmp, doDerivative, reduceDim)
        xp = self.xp
        Zhat, den = self._batchState(Y, tmp)
        dY, mV, mZV = meanVarJmv(xp, W, Zhat, den, axes, self.split(theta)[0], returnStats=True)
        R = W.dtype.type(numpy.prod([W.shape[a] for a in axes]))
        other = tuple(a for a in range(1 if not reduceDim else 0, W.ndim - 1) if a not in axes)
        sums = [axisSum(xp, m, other) * R if other else m * R for m in (mZV, mV)]
        if reduceDim:
            return xp.concatenate([m.reshape(C) for m in sums]), dY
        return xp.concatenate([m.reshape(W.shape[0], C) for m in sums], axis=1), dY
