"""``ConvKernel``: base class of the 2-D convolution kernels (Meganet.m's ``convKernel``).

Also holds the Galerkin coarsening of 3 x 3 stencils (``restrictConvStencils`` /
``prolongateConvStencils``) shared by all convolutions.
"""
import numpy

from ..validation import isInt
from .abstractKernel import (AbstractKernel, applyParameterisation, applyParameterisationT,
                             prepareParameterisation)

__all__ = ["ConvKernel", "galerkinStencilMap"]


def _intTuple(value, owner, name, lengths, form):
    """``value`` as a tuple of positive ints of one of the ``lengths``; ValueError otherwise."""
    try:
        vals = tuple(value)
    except TypeError:
        vals = (value,)
    if len(vals) not in lengths or not all(isInt(v) and v > 0 for v in vals):
        raise ValueError(f"{owner}: {name} must be {form} of positive integers; got {value!r}")
    return tuple(int(v) for v in vals)


def galerkinStencilMap(n=6):
    """The 9 x 9 matrix ``A`` mapping a fine 3 x 3 stencil to its Galerkin coarse stencil.

    The coarse operator is ``R K P`` on a cell-centred grid, with ``R`` the 2 x 2 cell
    average and ``P = 4 R^T`` (piecewise-constant prolongation). For a convolution ``K``
    with a 3 x 3 stencil, ``R K P`` is again a convolution with a 3 x 3 stencil, and
    ``vec(coarse stencil) = A vec(fine stencil)`` (C order of the 3 x 3 stencil; the
    stencil acts by cross-correlation, ``z[p] = sum_d S[d + 1] y[p + d]``).

    ``A`` is computed, not tabulated: each unit fine stencil is applied as ``R K P`` to a
    coarse periodic delta image of size ``n x n`` and the coarse stencil is read off.
    It equals ``kron(A1, A1)`` with ``A1 = [[1, 0, 0], [1, 2, 1], [0, 0, 1]] / 2`` (1-D:
    coarse ``[k_-1 / 2, (k_-1 + 2 k_0 + k_1) / 2, k_1 / 2]``), and is invertible
    (``det A = det(A1)^6 = 4^-6``).

    Parameters
    ----------
    n : int
        Size of the coarse periodic test image (at least 3; the result does not depend
        on it).

    Returns
    -------
    A : numpy.ndarray, shape (9, 9)
    """
    if not isInt(n) or n < 3:
        raise ValueError(f"galerkinStencilMap: n must be an integer >= 3; got {n!r}")
    c = n // 2
    yc = numpy.zeros((n, n))
    yc[c, c] = 1.0
    yf = numpy.repeat(numpy.repeat(yc, 2, axis=0), 2, axis=1)          # P yc
    A = numpy.zeros((9, 9))
    for k in range(9):
        di, dj = k // 3 - 1, k % 3 - 1
        zf = numpy.roll(yf, (-di, -dj), axis=(0, 1))                    # unit stencil at d
        zc = zf.reshape(n, 2, n, 2).mean(axis=(1, 3))                   # R (K P yc)
        # z[p] = sum_d s[d] yc[p + d] with yc a delta at c  =>  s[d] = z[c - d]
        for m in range(9):
            ei, ej = m // 3 - 1, m % 3 - 1
            A[m, k] = zc[c - ei, c - ej]
    return A


class ConvKernel(AbstractKernel):
    """Base class of 2-D convolution kernels ``Z = K(Q theta) Y`` (Meganet.m's ``convKernel``).

    A convolution maps images ``Y`` of shape ``(N, H, W, cin)`` to ``Z`` of shape
    ``(N, *nImgOut())``. Its stencils ``K`` (shape ``(k1, k2, cin, cout)``) are
    ``K = reshape(Q theta, sK)`` in C order; ``Q = None`` is the identity (``theta``
    is then the C-order flattening of ``K``, ``nTheta = k1 k2 cin cout``).

    Subclasses implement the convolution on stencil arrays (``applyStencils``,
    ``applyStencilsT``, ``stencilGradient``) and ``nImgOut``; this class adds the
    parameterisation::

        Amv(theta, Y)      = conv(K(theta), Y)
        ATmv(theta, Z)     = conv(K(theta), .)^T Z
        Jthetamv(dtheta)   = conv(K(dtheta), Y)                 (K is linear in theta)
        JthetaTmv(W)       = Q^T vec(G),  G[i, j, c, o] = d<W, conv(K, Y)>/dK[i, j, c, o]
        per example n      = Q^T vec(G_n)                       (reduceDim=False)

    Parameters
    ----------
    nImg : (H, W) or (H, W, cin)
        Image size. A third entry is accepted as in Meganet.m (which ignores it) but
        must equal ``sK[2]``.
    sK : (k1, k2, cin, cout)
        Stencil size and channels; ``k1``, ``k2`` odd ("same" convolutions).
    stride : int
        Stride (Meganet.m's option); which strides a subclass supports is checked there.
    Q : None, 2-D array of shape ``(prod(sK), nTheta)`` or LinearOperator
        Parameterisation ``vec(K) = Q theta`` (``vec``: C order of ``(k1, k2, cin, cout)``).
    useGPU, precision :
        Backend.
    """

    #: strides a subclass supports (None: any positive integer)
    _strides = (1,)

    def __init__(self, nImg, sK, stride=1, Q=None, useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        name = type(self).__name__
        try:
            sKt = tuple(sK)
        except TypeError:
            sKt = (sK,)
        if (len(sKt) != 4 or not all(isInt(v) and v > 0 for v in sKt)
                or sKt[0] % 2 == 0 or sKt[1] % 2 == 0):
            raise ValueError(f"{name}: sK must be (k1, k2, cin, cout) with odd k1, k2 "
                             f"(positive integers); got {sK!r}")
        self.sK = tuple(int(v) for v in sKt)
        nImgT = _intTuple(nImg, name, "nImg", (2, 3), "(H, W)")
        if len(nImgT) == 3 and nImgT[2] != self.sK[2]:
            raise ValueError(f"{name}: the third entry of nImg (channels) must equal "
                             f"sK[2]={self.sK[2]}; got nImg={nImg!r}")
        self.nImg = nImgT[:2]
        if not isInt(stride) or stride < 1:
            raise ValueError(f"{name}: stride must be a positive integer; got {stride!r}")
        if self._strides is not None and stride not in self._strides:
            raise ValueError(f"{name}: stride must be one of {self._strides}; got {stride!r}")
        self.stride = int(stride)
        nk = int(numpy.prod(self.sK))
        Q = prepareParameterisation(Q, nk, name, "Q", "prod(sK)", self)
        self.Q = Q

    # ------------------------------------------------------------------ sizes
    def nImgIn(self):
        """``(H, W, cin)``."""
        return (self.nImg[0], self.nImg[1], self.sK[2])

    def nImgOut(self):
        """``(Ho, Wo, cout)``."""
        raise NotImplementedError(f"{type(self).__name__} must provide nImgOut()")

    def sizeFeatIn(self):
        return self.nImgIn()

    def sizeFeatOut(self):
        return self.nImgOut()

    def nTheta(self):
        return int(numpy.prod(self.sK)) if self.Q is None else int(self.Q.shape[1])

    def initTheta(self, rng=None):
        """Weights ``N(0, sd^2)``, ``sd = sqrt(2 / (k2 cin))``, confined to ``[-2 sd, 2 sd]``.

        As Meganet.m: entries beyond ``+-2 sd`` are drawn once more, and what is still
        beyond is clipped to ``+-2 sd``. (Meganet.m redraws them from ``N(0, 1)``; here
        they are redrawn from ``N(0, sd^2)``, which keeps the intended scale.)
        """
        rng = numpy.random.default_rng(rng)
        return self.asArray(self._glorotLike(rng, self.nTheta()))

    def _glorotLike(self, rng, n):
        sd = numpy.sqrt(2.0 / (self.sK[1] * self.sK[2]))
        th = sd * rng.standard_normal(n)
        out = numpy.abs(th) > 2 * sd
        th[out] = sd * rng.standard_normal(int(out.sum()))
        return numpy.clip(th, -2 * sd, 2 * sd)

    # ------------------------------------------------------------------ parameterisation
    def getStencils(self, theta):
        """The stencils ``K = reshape(Q theta, sK)``, shape ``(k1, k2, cin, cout)``."""
        self._checkTheta(theta, "getStencils")
        return applyParameterisation(self.Q, theta).reshape(self.sK)

    def _checkTheta(self, theta, where):
        if tuple(theta.shape) != (self.nTheta(),):
            raise ValueError(f"{type(self).__name__}.{where}: theta must be a flat 1-D array of "
                             f"length nTheta={self.nTheta()}; got shape {tuple(theta.shape)}")

    def thetaFromStencils(self, K):
        """Weights whose stencils are ``K`` (the inverse of :meth:`getStencils`).

        Defined for ``Q = None`` (and for subclasses with an invertible parameterisation);
        a general ``Q`` raises ``NotImplementedError``.
        """
        if tuple(K.shape) != self.sK:
            raise ValueError(f"{type(self).__name__}.thetaFromStencils: K must have shape "
                             f"sK={self.sK}; got {tuple(K.shape)}")
        if self.Q is not None:
            raise NotImplementedError(
                f"{type(self).__name__}.thetaFromStencils: not defined for a general "
                "parameterisation Q (Q is not invertible in general)")
        return K.reshape(-1)

    def _stencilGradToTheta(self, G, reduceDim=True):
        """Adjoint of :meth:`getStencils`: ``Q^T vec(G)``; ``G`` is ``(P,)`` or ``(N, P)``."""
        return applyParameterisationT(self.Q, G, reduceDim)

    def applyStencils(self, K, Y):
        """``conv(K, Y)`` for stencils ``K`` of shape ``sK``."""
        raise NotImplementedError(f"{type(self).__name__} must provide applyStencils()")

    def applyStencilsT(self, K, Z):
        """The adjoint ``conv(K, .)^T Z``."""
        raise NotImplementedError(f"{type(self).__name__} must provide applyStencilsT()")

    def stencilGradient(self, W, Y, reduceDim=True):
        """``G = d<W, conv(K, Y)>/dK`` flattened: ``(prod(sK),)`` or ``(N, prod(sK))``."""
        raise NotImplementedError(f"{type(self).__name__} must provide stencilGradient()")

    # ------------------------------------------------------------------ kernel protocol
    def Amv(self, theta, Y):
        return self.applyStencils(self.getStencils(theta), Y)

    def ATmv(self, theta, Z):
        return self.applyStencilsT(self.getStencils(theta), Z)

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        return self._stencilGradToTheta(self.stencilGradient(W, Y, reduceDim), reduceDim)

    # ------------------------------------------------------------------ multilevel
    def _ctorKwargs(self):
        """Constructor arguments (except nImg) that reproduce this kernel."""
        return dict(sK=self.sK, stride=self.stride, Q=self.Q, useGPU=self.useGPU,
                    precision=self.precision)

    def _checkMultilevel(self, what):
        name = type(self).__name__
        if self.stride != 1:
            raise NotImplementedError(f"{name}.{what}: only stride 1 is supported; got stride={self.stride}")
        if self.sK[:2] not in ((1, 1), (3, 3)):
            raise NotImplementedError(f"{name}.{what}: only 1 x 1 and 3 x 3 stencils are supported; "
                                      f"got sK={self.sK}")

    def _requireInvertible(self, what):
        if not self._invertibleParameterisation():
            raise NotImplementedError(
                f"{type(self).__name__}.{what}: needs Q=None for 3 x 3 stencils (a general "
                "parameterisation Q cannot represent the mapped stencils)")

    def _invertibleParameterisation(self):
        """True if every stencil array is ``getStencils`` of exactly one ``theta``."""
        return self.Q is None

    def coarsen(self):
        """The same kernel on images of half the size, ``(H / 2, W / 2)`` (H, W even).

        Use it with :meth:`restrictConvStencils`: with ``Kc = K.coarsen()`` and
        ``thc = K.restrictConvStencils(theta)``, ``Kc.Amv(thc, Yc)`` equals
        ``R K.Amv(theta, P Yc)`` for coarse images ``Yc`` (the Galerkin operator; exact
        for zero and for periodic boundaries).
        """
        H, W = self.nImg
        if H % 2 or W % 2:
            raise ValueError(f"{type(self).__name__}.coarsen: nImg must be even to halve it; "
                             f"got nImg={self.nImg}")
        return type(self)((H // 2, W // 2), **self._coarseKwargs(2.0))

    def refine(self):
        """The same kernel on images of twice the size (pairs with :meth:`prolongateConvStencils`)."""
        H, W = self.nImg
        return type(self)((2 * H, 2 * W), **self._coarseKwargs(0.5))

    def _coarseKwargs(self, factor):
        """Constructor arguments for the kernel on a grid with mesh size times ``factor``."""
        return self._ctorKwargs()

    def restrictConvStencils(self, theta):
        """Weights of the Galerkin coarse-grid kernel ``R K(theta) P`` (image size halved).

        ``R`` averages 2 x 2 cells and ``P = 4 R^T`` is piecewise-constant prolongation
        on a cell-centred grid. Each 3 x 3 stencil (each channel pair) is mapped by the
        fixed 9 x 9 matrix of :func:`galerkinStencilMap`; 1 x 1 stencils are unchanged
        (``R K P = K``). The result is meant for :meth:`coarsen`'s kernel. Only for
        ``Q = None`` (or an invertible parameterisation such as ``PDEStencilKernel``'s)
        and stride 1; other stencil sizes raise ``NotImplementedError``.

        Note that the Galerkin operator of a second-derivative stencil is half the
        corresponding stencil on the coarse grid (e.g. ``[1, -2, 1] / h^2`` becomes
        ``[1, -2, 1] / (2 h^2)``, while the coarse-grid stencil is ``/(4 h^2)``), a known
        property of piecewise-constant prolongation.
        """
        self._checkMultilevel("restrictConvStencils")
        if self.sK[:2] == (1, 1):
            return theta
        self._requireInvertible("restrictConvStencils")
        A = self.asArray(galerkinStencilMap())
        K = self.getStencils(theta).reshape(9, -1)
        Kc = (A @ K).reshape(self.sK)
        return self._coarseTarget(2.0).thetaFromStencils(Kc)

    def prolongateConvStencils(self, theta):
        """Weights on the fine grid (image size doubled) whose Galerkin restriction is ``theta``.

        Applies the inverse of :func:`galerkinStencilMap` per channel pair (the map is
        invertible, so ``restrictConvStencils(prolongateConvStencils(theta)) == theta``).
        The result is meant for :meth:`refine`'s kernel. 1 x 1 stencils are unchanged.
        """
        self._checkMultilevel("prolongateConvStencils")
        if self.sK[:2] == (1, 1):
            return theta
        self._requireInvertible("prolongateConvStencils")
        Ainv = self.asArray(numpy.linalg.inv(galerkinStencilMap()))
        K = self.getStencils(theta).reshape(9, -1)
        Kf = (Ainv @ K).reshape(self.sK)
        return self._coarseTarget(0.5).thetaFromStencils(Kf)

    def _coarseTarget(self, factor):
        """A kernel with the parameterisation used on the grid with mesh size times ``factor``."""
        return self

    # ------------------------------------------------------------------ Meganet.m layout
    def _matlabShape(self):
        """``theta`` is ``K(:)`` of the ``k1 x k2 x cin x cout`` stencils in Meganet.m
        (column-major) and their C-order flattening here (``Q = None``)."""
        return self.sK if self.Q is None else None
