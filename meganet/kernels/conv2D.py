"""``Conv2D``: 2-D convolution with zero padding, computed with matrix products (GEMM)."""
import numpy

from ._cudnnConv import cudnnProduct, usesCudnn
from ._flatConv import flatCorrelate, flatStencilGradient, matmul
from .convKernel import ConvKernel

__all__ = ["Conv2D"]

_ALGORITHMS = ("auto", "shifted", "im2col")


class Conv2D(ConvKernel):
    """Coupled 2-D convolution, "same" zero padding, cross-correlation (as cuDNN / vl_nnconv).

    Forward map, for images ``Y`` of shape ``(N, H, W, cin)`` and stencils
    ``K = reshape(Q theta, (k1, k2, cin, cout))`` (C order; ``Q = None``: ``K =
    theta.reshape(sK)``)::

        Z[n, h, w, o] = sum_{i, j, c} K[i, j, c, o] * Ypad[n, s h + i, s w + j, c]

    with ``Ypad`` the input padded by ``p1 = (k1 - 1) / 2`` rows and ``p2 = (k2 - 1) / 2``
    columns of zeros on each side, and stride ``s``. ``Z`` has shape
    ``(N, ceil(H / s), ceil(W / s), cout)`` (``(N, H, W, cout)`` for ``s = 1``).

    Adjoint (transposed convolution), ``W`` of the shape of ``Z``::

        ATmv:   dYpad[n, s h + i, s w + j, c] += sum_o K[i, j, c, o] W[n, h, w, o]
                dY = dYpad without its padding

    (for ``s = 1`` this is the correlation of ``W`` with the flipped, channel-swapped
    stencils ``Kt[i, j, o, c] = K[k1 - 1 - i, k2 - 1 - j, c, o]``, i.e. a ``Conv2D`` of
    shape ``(k1, k2, cout, cin)``.) Derivatives with respect to the weights::

        Jthetamv(dtheta) = Amv(dtheta, Y)
        JthetaTmv(W)     = Q^T vec(G),
                           G[i, j, c, o] = sum_{n, h, w} Ypad[n, s h + i, s w + j, c] W[n, h, w, o]
        per example n    = Q^T vec(G_n) (the same sum without n)     (reduceDim=False)

    Parameters
    ----------
    nImg : (H, W)
        Image size (a third entry must equal ``sK[2]`` and is otherwise ignored).
    sK : (k1, k2, cin, cout)
        Stencil size (odd ``k1``, ``k2``, including 1 x 1) and channels.
    stride : int
        Stride ``s >= 1``; the output keeps every ``s``-th pixel of the stride-1 output,
        starting with the first, i.e. ``ceil(H / s) x ceil(W / s)`` pixels.
    Q : None, 2-D array ``(prod(sK), nTheta)`` or LinearOperator
        Parameterisation ``vec(K) = Q theta``.
    algorithm : {'auto', 'shifted', 'im2col'}
        How the products are formed on top of matrix multiplication:
        ``'shifted'`` accumulates ``k1 k2`` matrix products ``Yshift_ij K[i, j]`` (one per
        stencil entry, each ``(N Ho Wo, cin) x (cin, cout)``). On the host with stride 1
        (1 x 1 stencils included) all three products run on the flattened images
        without padding or copying the shifted inputs (the rows that wrap at the image
        borders are corrected) and accumulate in place, in cache-sized row
        chunks split over the BLAS threads (``meganet/kernels/_flatConv.py``,
        ``docs/performance.md``); otherwise (strides > 1, the device) on shifted windows,
        the device's forward product on the flattened grid when the padding adds at most
        30 % pixels. ``'im2col'`` gathers all shifted copies into one
        ``(N Ho Wo, k1 k2 cin)`` matrix and does one product (``k1 k2`` times the memory of
        ``Y``). ``'auto'`` uses ``'shifted'``, which was as fast or faster in the measured
        cases (``benchmarks/kernels_vs_torch.py``, ``benchmarks/conv2d.py``), except for
        the forward product with one input channel, where it uses ``'im2col'``.
    useGPU, precision :
        Backend. On the device with ``algorithm='auto'`` the products run through cuDNN
        where the installed CuPy offers it, otherwise the same code runs on the device
        module's matrix products (:attr:`engine`, ``meganet/kernels/_cudnnConv.py``).
    """

    _strides = None

    def __init__(self, nImg, sK, stride=1, Q=None, algorithm="auto", useGPU=False,
                 precision="double"):
        super().__init__(nImg, sK, stride=stride, Q=Q, useGPU=useGPU, precision=precision)
        if algorithm not in _ALGORITHMS:
            raise ValueError(f"Conv2D: algorithm must be one of {_ALGORITHMS}; got {algorithm!r}")
        self.algorithm = algorithm

    def nImgOut(self):
        s = self.stride
        return (-(-self.nImg[0] // s), -(-self.nImg[1] // s), self.sK[3])

    @property
    def pad(self):
        """Zero padding ``((k1 - 1) / 2, (k2 - 1) / 2)`` on each side."""
        return ((self.sK[0] - 1) // 2, (self.sK[1] - 1) // 2)

    def _ctorKwargs(self):
        kw = super()._ctorKwargs()
        kw["algorithm"] = self.algorithm
        return kw

    def _useIm2col(self, product):
        """Whether ``product`` ('Amv', 'ATmv' or 'JthetaTmv') uses im2col."""
        if self._pointwise():
            return False
        if self.algorithm == "auto":
            # measured: with one input channel the k1 k2 products have inner size 1 and
            # are slow, while im2col's single product has inner size k1 k2
            return product == "Amv" and self.sK[2] == 1
        return self.algorithm == "im2col"

    # ------------------------------------------------------------------ helpers
    def _pointwise(self):
        return self.sK[0] == 1 and self.sK[1] == 1 and self.stride == 1

    def _padded(self, Y):
        p1, p2 = self.pad
        if p1 == 0 and p2 == 0:
            return Y
        N, H, W, C = Y.shape
        Yp = self.xp.zeros((N, H + 2 * p1, W + 2 * p2, C), dtype=Y.dtype)
        Yp[:, p1:p1 + H, p2:p2 + W, :] = Y
        return Yp

    def _window(self, Yp, i, j):
        """``Ypad[:, s h + i, s w + j, :]`` for all output pixels ``(h, w)``."""
        s = self.stride
        Ho, Wo = self.nImgOut()[:2]
        return Yp[:, i:i + s * (Ho - 1) + 1:s, j:j + s * (Wo - 1) + 1:s, :]

    def _offsets(self):
        return [(i, j) for i in range(self.sK[0]) for j in range(self.sK[1])]

    def _im2col(self, Y):
        """``(N Ho Wo, k1 k2 cin)``; column index ``(i, j, c)`` in C order."""
        k1, k2, cin, _ = self.sK
        N = Y.shape[0]
        Ho, Wo = self.nImgOut()[:2]
        Yp = self._padded(Y)
        cols = self.xp.empty((N, Ho, Wo, k1, k2, cin), dtype=Y.dtype)
        for i, j in self._offsets():
            cols[:, :, :, i, j, :] = self._window(Yp, i, j)
        return cols.reshape(N * Ho * Wo, k1 * k2 * cin)

    # ------------------------------------------------------------------ primitives
    def _route(self, product):
        """How ``product`` ('Amv', 'ATmv' or 'JthetaTmv') is formed for the current backend.

        One of ``'flat'`` (stride 1 on the host, including 1 x 1 stencils: ``k1 k2``
        products on the flattened grid, accumulated in place by BLAS in row chunks
        split over the BLAS threads; see :func:`flatCorrelate`), ``'pointwise'`` (1 x 1
        stencils, stride 1, on the device: one matrix product), ``'im2col'`` and
        ``'shifted'`` (one product per stencil entry on shifted windows: strides > 1, and
        the device, where the forward product also runs on the flattened grid when that
        adds few pixels).
        """
        host = self.stride == 1 and self.xp is numpy
        if self._pointwise() and not host:
            return "pointwise"
        if self._useIm2col(product):
            return "im2col"
        return "flat" if host else "shifted"

    @property
    def engine(self):
        """``'cudnn'`` or ``'gemm'``: what computes the products (:func:`convEngineInfo` says why)."""
        return "cudnn" if usesCudnn(self) else "gemm"

    def applyStencils(self, K, Y):
        Z = cudnnProduct(self, "Amv", K, Y)
        if Z is not None:
            return Z
        k1, k2, cin, cout = self.sK
        N = Y.shape[0]
        Ho, Wo = self.nImgOut()[:2]
        route = self._route("Amv")
        if route == "pointwise":
            return matmul(Y.reshape(-1, cin), K[0, 0]).reshape(N, Ho, Wo, cout)
        if route == "im2col":
            Z = matmul(self._im2col(Y), K.reshape(k1 * k2 * cin, cout))
        elif route == "flat":
            return flatCorrelate(numpy.ascontiguousarray(Y), K)
        elif self._flatGrid():
            return self._applyStencilsFlat(K, Y)
        else:
            Yp = self._padded(Y)
            Z = None
            for i, j in self._offsets():
                t = self._window(Yp, i, j).reshape(-1, cin) @ K[i, j]
                if Z is None:
                    Z = t
                else:
                    Z += t
        return Z.reshape(N, Ho, Wo, cout)

    def _flatGrid(self):
        """Whether the device's forward 'shifted' product runs on the flattened padded grid.

        With stride 1, the shifted input ``Ypad[:, i:i + H, j:j + W]`` of every stencil
        entry is, on the flattened padded grid (rows ``(n, h, w)`` of ``Ypad``), the
        contiguous block of rows starting at ``i Wp + j`` (``Wp = W + 2 p2``). Computing
        the output on the whole padded grid (and discarding the ``Hp Wp - H W`` extra
        pixels per example) then needs no copies of the shifted inputs. Without in-place
        accumulation (the device path adds one temporary per stencil entry) this was
        faster where the extra pixels are few (measured on the host: about 2x for 32 x 32
        images, slower for 8 x 8 ones), hence the bound on their share. On the host all
        stride-1 products use :func:`flatCorrelate` instead.
        """
        if self.stride != 1:
            return False
        H, W = self.nImg
        p1, p2 = self.pad
        return (H + 2 * p1) * (W + 2 * p2) <= 1.3 * H * W

    def _applyStencilsFlat(self, K, Y):
        k1, k2, cin, cout = self.sK
        N, H, W = Y.shape[:3]
        Yp = self._padded(Y)
        Hp, Wp = Yp.shape[1:3]
        T = N * Hp * Wp
        L = T - ((k1 - 1) * Wp + (k2 - 1))     # rows of the padded grid with a full stencil
        Yf = Yp.reshape(T, cin)
        Z = self.xp.zeros((T, cout), dtype=Y.dtype)
        for i, j in self._offsets():
            o = i * Wp + j
            Z[:L] += Yf[o:o + L] @ K[i, j]
        return self.xp.ascontiguousarray(Z.reshape(N, Hp, Wp, cout)[:, :H, :W])

    def applyStencilsT(self, K, Z):
        dY = cudnnProduct(self, "ATmv", K, Z)
        if dY is not None:
            return dY
        k1, k2, cin, cout = self.sK
        N = Z.shape[0]
        H, W = self.nImg
        Zf = Z.reshape(-1, cout)
        route = self._route("ATmv")
        if route == "pointwise":
            return matmul(Zf, K[0, 0].T).reshape(N, H, W, cin)
        if route == "flat":
            # stride 1: the adjoint is the correlation with the flipped, channel-swapped
            # stencils (see the class docstring), i.e. the forward product again
            Kt = numpy.ascontiguousarray(K[::-1, ::-1].transpose(0, 1, 3, 2))
            return flatCorrelate(numpy.ascontiguousarray(Z), Kt)
        p1, p2 = self.pad
        Ho, Wo = self.nImgOut()[:2]
        dYp = self.xp.zeros((N, H + 2 * p1, W + 2 * p2, cin), dtype=Z.dtype)
        if route == "im2col":
            G = matmul(Zf, K.reshape(k1 * k2 * cin, cout).T).reshape(N, Ho, Wo, k1, k2, cin)
            for i, j in self._offsets():
                self._window(dYp, i, j)[...] += G[:, :, :, i, j, :]
        else:
            for i, j in self._offsets():
                self._window(dYp, i, j)[...] += (Zf @ K[i, j].T).reshape(N, Ho, Wo, cin)
        return dYp[:, p1:p1 + H, p2:p2 + W, :]

    def stencilGradient(self, W, Y, reduceDim=True):
        G = cudnnProduct(self, "JthetaTmv", W, Y) if reduceDim else None
        if G is not None:
            return G
        k1, k2, cin, cout = self.sK
        N = Y.shape[0]
        Ho, Wo = self.nImgOut()[:2]
        M = Ho * Wo
        route = self._route("JthetaTmv")
        if route in ("pointwise", "im2col"):
            cols = Y.reshape(-1, cin) if route == "pointwise" else self._im2col(Y)
            if reduceDim:
                return matmul(cols.T, W.reshape(-1, cout)).reshape(-1)
            G = cols.reshape(N, M, -1).transpose(0, 2, 1) @ W.reshape(N, M, cout)
            return G.reshape(N, -1)
        if reduceDim and route == "flat":
            return flatStencilGradient(numpy.ascontiguousarray(Y), W, (k1, k2)).reshape(-1)
        Yp = self._padded(Y)
        if reduceDim:
            Wf = W.reshape(-1, cout)
            G = self.xp.stack([self._window(Yp, i, j).reshape(-1, cin).T @ Wf
                               for i, j in self._offsets()])
            return G.reshape(-1)
        W3 = W.reshape(N, M, cout)
        G = self.xp.stack([self._window(Yp, i, j).reshape(N, M, cin).transpose(0, 2, 1) @ W3
                           for i, j in self._offsets()], axis=1)
        return G.reshape(N, -1)

    def convMatrix(self, theta):
        """The dense matrix of ``Amv(theta, .)`` on one flattened example (small sizes only).

        Shape ``(prod(nImgOut()), prod(nImgIn()))``; rows and columns in C order of
        ``(H, W, C)``. Built by applying the kernel to unit images.
        """
        n = int(numpy.prod(self.nImgIn()))
        E = self.xp.eye(n, dtype=self.dtype).reshape((n,) + self.nImgIn())
        return self.Amv(theta, E).reshape(n, -1).T
