"""``PDEStencilKernel``: 3 x 3 convolutions parameterised by differential-operator coefficients."""
import numpy

from .conv2D import Conv2D
from .convFFT import ConvFFT
from .convKernel import ConvKernel

__all__ = ["PDEStencilKernel", "pdeStencilBasis", "PDE_TERMS"]

#: names of the nine terms, in the order of the weights
PDE_TERMS = ("reaction", "dx", "dy", "dxx", "dyy", "dxy", "dxxy", "dxyy", "dxxyy")


def pdeStencilBasis(h=1.0):
    """The 9 x 9 matrix ``B`` whose column ``b`` is the 3 x 3 stencil of term ``b``, C order.

    With central differences of mesh size ``h`` in 1-D::

        I = [0, 1, 0],   D = [-1, 0, 1] / (2 h),   DD = [1, -2, 1] / h^2

    (weights at the offsets -1, 0, +1; a stencil acts by cross-correlation, so ``D``
    gives ``(y[p + 1] - y[p - 1]) / (2 h)``), the 2-D stencils are the tensor products
    ``S[i, j] = a[i] b[j]`` with ``x`` along the first stencil (image) axis and ``y``
    along the second, in the order of :data:`PDE_TERMS`::

        reaction = I x I,   dx = D x I,    dy = I x D,     dxx = DD x I,   dyy = I x DD,
        dxy = D x D,        dxxy = DD x D, dxyy = D x DD,  dxxyy = DD x DD

    The three 1-D stencils are linearly independent for every ``h > 0``, hence so are
    their nine tensor products: ``B`` is invertible and every 3 x 3 stencil is one
    combination of the nine terms (the paper's relation between the 3 x 3 stencil and
    ``beta_1 + beta_2 d_x + ... + beta_9 d_x^2 d_y^2``).
    """
    h = float(h)
    if not h > 0:
        raise ValueError(f"pdeStencilBasis: h must be positive; got {h!r}")
    I1 = numpy.array([0.0, 1.0, 0.0])
    D1 = numpy.array([-1.0, 0.0, 1.0]) / (2 * h)
    DD1 = numpy.array([1.0, -2.0, 1.0]) / h ** 2
    pairs = [(I1, I1), (D1, I1), (I1, D1), (DD1, I1), (I1, DD1), (D1, D1), (DD1, D1),
             (D1, DD1), (DD1, DD1)]
    return numpy.stack([numpy.outer(a, b).reshape(-1) for a, b in pairs], axis=1)


class PDEStencilKernel(ConvKernel):
    """3 x 3 convolution whose stencils are linear combinations of finite-difference operators.

    For every channel pair ``(c, o)`` the stencil is::

        K[:, :, c, o] = beta_1 I + beta_2 d/dx + beta_3 d/dy + beta_4 d2/dx2 + beta_5 d2/dy2
                        + beta_6 d2/dxdy + beta_7 d3/dx2dy + beta_8 d3/dxdy2 + beta_9 d4/dx2dy2

    discretised by central differences of mesh size ``h`` (:func:`pdeStencilBasis`,
    ``x`` along the image height ``H``, ``y`` along the width ``W``). ``theta`` holds
    the coefficients: ``beta = theta.reshape(9, cin, cout)`` (C order; the first axis
    in the order of :data:`PDE_TERMS`). The stencils are ``vec_9(K) = B beta`` per
    channel pair, i.e. the kernel is the convolution of :class:`Conv2D` (zero boundary)
    or :class:`ConvFFT` (periodic) with the fixed parameterisation ``Q = B (x) I``::

        Amv(theta, Y)  = conv(K(theta), Y),        K = reshape(B theta.reshape(9, -1), (3, 3, cin, cout))
        ATmv(theta, Z) = conv(K(theta), .)^T Z
        Jthetamv(dtheta) = Amv(dtheta, Y)
        JthetaTmv(W)   = B^T G,   G = the stencil gradient of the convolution, shape (9, cin cout)
                         (per example with reduceDim=False)

    Parameters
    ----------
    nImg : (H, W)
    sK : (3, 3, cin, cout)
    h : float
        Mesh size of the finite differences.
    boundary : {'zero', 'periodic'}
        ``'zero'``: :class:`Conv2D`; ``'periodic'``: :class:`ConvFFT`.
    stride : int
        Passed to :class:`Conv2D` (``'zero'`` only; ``'periodic'`` needs 1).
    useGPU, precision :
        Backend.
    """

    def __init__(self, nImg, sK, h=1.0, boundary="zero", stride=1, useGPU=False,
                 precision="double"):
        if boundary not in ("zero", "periodic"):
            raise ValueError(f"PDEStencilKernel: boundary must be 'zero' or 'periodic'; got {boundary!r}")
        self._strides = None if boundary == "zero" else (1,)
        super().__init__(nImg, sK, stride=stride, Q=None, useGPU=useGPU, precision=precision)
        if self.sK[:2] != (3, 3):
            raise ValueError(f"PDEStencilKernel: sK must be (3, 3, cin, cout); got {sK!r}")
        if isinstance(h, (bool, numpy.bool_)) or not isinstance(h, (int, float, numpy.number)) \
                or not numpy.isfinite(h) or h <= 0:
            raise ValueError(f"PDEStencilKernel: h must be a positive number; got {h!r}")
        self.h = float(h)
        self.boundary = boundary
        if boundary == "zero":
            self.conv = Conv2D(self.nImg, self.sK, stride=self.stride, useGPU=useGPU,
                               precision=precision)
        else:
            self.conv = ConvFFT(self.nImg, self.sK, useGPU=useGPU, precision=precision)
        self._setBasis()

    def _setBasis(self):
        B = pdeStencilBasis(self.h)
        self._B = self.asArray(B)
        self._Binv = self.asArray(numpy.linalg.inv(B))

    def _propagateBackend(self):
        super()._propagateBackend()
        self._setBasis()     # exact again after a switch from single to double precision

    def nImgOut(self):
        return self.conv.nImgOut()

    def nTheta(self):
        return 9 * self.sK[2] * self.sK[3]

    def initTheta(self, rng=None):
        """Coefficients of stencils drawn as :class:`ConvKernel` draws them.

        The stencil entries are ``N(0, sd^2)``, ``sd = sqrt(2 / (3 cin))``, confined to
        ``+-2 sd`` (the initialisation of :class:`Conv2D`), and ``theta`` holds their
        coefficients ``beta = B^{-1} vec_9(K)``; so ``getStencils(initTheta())`` has the
        distribution of ``Conv2D``'s initial stencils.
        """
        rng = numpy.random.default_rng(rng)
        K = self._glorotLike(rng, int(numpy.prod(self.sK))).reshape(9, -1)
        return self.asArray((numpy.linalg.inv(pdeStencilBasis(self.h)) @ K).reshape(-1))

    # ------------------------------------------------------------------ parameterisation
    def getStencils(self, theta):
        """The 3 x 3 stencils ``(3, 3, cin, cout)`` of the coefficients ``theta``."""
        self._checkTheta(theta, "getStencils")
        return (self._B @ theta.reshape(9, -1)).reshape(self.sK)

    def thetaFromStencils(self, K):
        """The coefficients (``theta``) of stencils ``K`` of shape ``(3, 3, cin, cout)``."""
        if tuple(K.shape) != self.sK:
            raise ValueError(f"PDEStencilKernel.thetaFromStencils: K must have shape "
                             f"sK={self.sK}; got {tuple(K.shape)}")
        return (self._Binv @ K.reshape(9, -1)).reshape(-1)

    def getPDECoefficients(self, theta):
        """The coefficients as a dict ``name -> (cin, cout) array`` (names: :data:`PDE_TERMS`)."""
        self._checkTheta(theta, "getPDECoefficients")
        beta = theta.reshape(9, self.sK[2], self.sK[3])
        return {name: beta[k] for k, name in enumerate(PDE_TERMS)}

    def _stencilGradToTheta(self, G, reduceDim=True):
        if reduceDim:
            return (self._B.T @ G.reshape(9, -1)).reshape(-1)
        N = G.shape[0]
        return (self._B.T @ G.reshape(N, 9, -1)).reshape(N, -1)

    def _invertibleParameterisation(self):
        return True

    # ------------------------------------------------------------------ convolution
    def applyStencils(self, K, Y):
        return self.conv.applyStencils(K, Y)

    def applyStencilsT(self, K, Z):
        return self.conv.applyStencilsT(K, Z)

    def stencilGradient(self, W, Y, reduceDim=True):
        return self.conv.stencilGradient(W, Y, reduceDim)

    # ------------------------------------------------------------------ multilevel
    def _ctorKwargs(self):
        return dict(sK=self.sK, h=self.h, boundary=self.boundary, stride=self.stride,
                    useGPU=self.useGPU, precision=self.precision)

    def _coarseKwargs(self, factor):
        kw = self._ctorKwargs()
        kw["h"] = self.h * factor
        return kw

    def _coarseTarget(self, factor):
        return PDEStencilKernel(self.nImg, **self._coarseKwargs(factor))

    def coarsen(self):
        """The kernel on images of half the size with mesh size ``2 h`` (see ConvKernel.coarsen).

        With :meth:`restrictConvStencils`, the coefficients of the Galerkin operator are
        expressed in the finite differences of the coarse mesh.
        """
        return super().coarsen()

    # ------------------------------------------------------------------ Meganet.m layout
    def _matlabShape(self):
        """The coefficients ``beta`` of shape ``(9, cin, cout)`` (column-major in MATLAB)."""
        return (9,) + self.sK[2:]
