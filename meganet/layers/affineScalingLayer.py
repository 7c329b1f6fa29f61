"""``AffineScalingLayer``: scale and shift along pixels, channels and examples
(Meganet.m's ``affineScalingLayer``)."""
import numpy

from ..columnMajor import fromColumnMajor, toColumnMajor
from ..element import AbstractMeganetElement
from ..validation import checkFlags, checkNData, isInt

__all__ = ["AffineScalingLayer"]


class AffineScalingLayer(AbstractMeganetElement):
    """Scale and shift the features along the pixel, channel and example dimensions.

    Features ``Y`` of shape ``(N, *nData)`` are viewed as an array ``Y3`` of shape
    ``(N, n1, n2)``: ``n1 = prod(nData[:-1])`` pixels (C order; 1 for vector features),
    ``n2 = nData[-1]`` channels, and the ``N`` examples. With weights ``s_k, b_k`` along
    the enabled dimensions (``isWeight = (pixels, channels, examples)``; a disabled
    dimension has ``s_k = 1``, ``b_k = 0``)::

        Z3[n, p, c] = s1[p] s2[c] s3[n] Y3[n, p, c] + b1[p] + b2[c] + b3[n]

    ``theta = [s1; b1; s2; b2; s3; b3]`` (enabled dimensions only, in this order;
    ``nTheta = 2 (n1 isWeight[0] + n2 isWeight[1] + nEx isWeight[2])``), initialised
    to ones (scales) and zeros (shifts), so the initial map is the identity.

    Derivatives (``S = s1 s2 s3`` broadcast; ``W``, ``V`` viewed like ``Y3``)::

        J_Y V            = S * V                               (= J_Y^T V)
        J_theta dtheta   = Y3 * (ds1 s2 s3 + s1 ds2 s3 + s1 s2 ds3) + db1 + db2 + db3
        J_theta^T W      = [ sum_{n,c} W Y3 s2 s3 ; sum_{n,c} W ;          (s1, b1: per pixel)
                             sum_{n,p} W Y3 s1 s3 ; sum_{n,p} W ;          (s2, b2: per channel)
                             sum_{p,c} W Y3 s1 s2 ; sum_{p,c} W ]          (s3, b3: per example)

    Per-example gradients (``reduceDim=False``) keep ``n``; the example weights of
    example ``n`` receive only example ``n``'s contribution (a diagonal ``(N, nEx)``
    block).

    Per-example weights (``isWeight[2]``) tie the layer to a fixed batch size: the
    constructor needs that number, ``nEx``, and every call checks ``N == nEx``.

    Meganet.m: ``affineScalingLayer([n1 n2 nEx], 'isWeight', w)`` ->
    ``AffineScalingLayer((n1, n2), isWeight=w, nEx=nEx)`` (``nData`` is the shape of ONE
    example, channels last; image features ``(H, W, C)`` have ``n1 = H W`` pixels).
    Meganet.m returns the output flattened to ``[n1 n2, nEx]``; here it keeps the input
    shape (``sizeFeatOut() == sizeFeatIn()``), and the example-weight derivatives
    are defined (Meganet.m's ``Jthetamv`` refers to an undefined variable there).

    Parameters
    ----------
    nData : tuple of int
        Shape of one example: ``(H, W, C)``, ``(nPix, C)`` or ``(n,)``.
    isWeight : 3 flags (0/1 or bool), default ``(1, 1, 0)``
        Weights along (pixels, channels, examples).
    nEx : int, optional
        Number of examples; required when ``isWeight[2]`` is set (otherwise unused).
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, isWeight=(1, 1, 0), nEx=None, useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        self.nData = checkNData("AffineScalingLayer", nData)
        self.isWeight = checkFlags("AffineScalingLayer", "isWeight", isWeight)
        if nEx is not None and not (isInt(nEx) and nEx >= 1):
            raise ValueError(f"AffineScalingLayer: nEx must be a positive int or None; got {nEx!r}")
        if self.isWeight[2] and nEx is None:
            raise ValueError("AffineScalingLayer: isWeight[2] (per-example weights) needs the "
                             "number of examples, nEx=...; got nEx=None")
        self.nEx = None if nEx is None else int(nEx)
        self._dims = (int(numpy.prod(self.nData[:-1])), self.nData[-1], self.nEx)

    # ------------------------------------------------------------------ sizes and weights
    def _counts(self):
        return [d if on else 0 for d, on in zip(self._dims, self.isWeight)]

    def nTheta(self):
        return 2 * sum(self._counts())

    def sizeFeatIn(self):
        return self.nData

    def sizeFeatOut(self):
        return self.nData

    def initTheta(self, rng=None):
        """Scales ones, shifts zeros; ``rng`` is unused."""
        parts = []
        for n in self._counts():
            parts += [numpy.ones(n), numpy.zeros(n)]
        return self.asArray(numpy.concatenate(parts))

    def split(self, theta):
        """``(s1, b1, s2, b2, s3, b3)`` as flat views (empty for disabled dimensions)."""
        out, start = [], 0
        for n in self._counts():
            out += [theta[start:start + n], theta[start + n:start + 2 * n]]
            start += 2 * n
        return tuple(out)

    # ------------------------------------------------------------------ helpers
    def _view(self, A, where):
        N = A.shape[0]
        if self.isWeight[2] and N != self.nEx:
            raise ValueError(f"AffineScalingLayer.{where}: per-example weights (isWeight[2]) need "
                             f"N == nEx = {self.nEx} examples; got N = {N}")
        return A.reshape(N, self._dims[0], self._dims[1])

    @staticmethod
    def _shaped(v, k):
        """Weights of dimension k broadcast against (N, n1, n2)."""
        return (v.reshape(1, -1, 1), v.reshape(1, 1, -1), v.reshape(-1, 1, 1))[k]

    def _parts(self, theta):
        """[(s_k, b_k) broadcastable, or None] for k = pixels, channels, examples."""
        sp = self.split(theta)
        return [(self._shaped(sp[2 * k], k), self._shaped(sp[2 * k + 1], k)) if on else None
                for k, on in enumerate(self.isWeight)]

    @staticmethod
    def _scale(parts, skip=None):
        S = None
        for k, p in enumerate(parts):
            if p is not None and k != skip:
                S = p[0] if S is None else S * p[0]
        return S

    # ------------------------------------------------------------------ protocol
    def forwardProp(self, theta, Y, doDerivative=True):
        Y3 = self._view(Y, "forwardProp")
        parts = self._parts(theta)
        S = self._scale(parts)
        Z = Y3 * S if S is not None else Y3.copy()
        for p in parts:
            if p is not None:
                Z = Z + p[1]
        return Z.reshape(Y.shape), None

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Y3 = self._view(Y, "Jmv")
        parts = self._parts(theta)
        dZ = None
        if dY is not None:
            S = self._scale(parts)
            dZ = self._view(dY, "Jmv")
            dZ = dZ * S if S is not None else dZ.copy()
        if dtheta is not None and self.nTheta() > 0:
            dparts = self._parts(dtheta)
            dS = None
            for k, dp in enumerate(dparts):
                if dp is None:
                    continue
                rest = self._scale(parts, skip=k)
                term = dp[0] if rest is None else dp[0] * rest
                dS = term if dS is None else dS + term
            dZt = Y3 * dS
            for dp in dparts:
                if dp is not None:
                    dZt = dZt + dp[1]
            dZ = dZt if dZ is None else dZ + dZt
        if dZ is None:
            return self.xp.zeros(Y.shape, dtype=self.dtype)
        return dZ.reshape(Y.shape)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        W3 = self._view(W, "JTmv")
        parts = self._parts(theta)
        dth = dY = None
        if doDerivative[0]:
            xp = self.xp
            N = W3.shape[0]
            WY = W3 * self._view(Y, "JTmv")
            pieces = []
            for k, p in enumerate(parts):
                if p is None:
                    continue
                rest = self._scale(parts, skip=k)
                G = WY if rest is None else WY * rest
                if k == 2:  # example weights: example n only touches entry n
                    gs, gb = xp.sum(G, axis=(1, 2)), xp.sum(W3, axis=(1, 2))
                    if not reduceDim:
                        eye = xp.eye(N, dtype=self.dtype)
                        gs, gb = gs[:, None] * eye, gb[:, None] * eye
                else:
                    axes = ((0, 2), (0, 1))[k] if reduceDim else ((2,), (1,))[k]
                    gs, gb = xp.sum(G, axis=axes), xp.sum(W3, axis=axes)
                pieces += [gs, gb]
            if pieces:
                dth = xp.concatenate(pieces, axis=0 if reduceDim else 1)
            else:
                dth = xp.zeros((0,) if reduceDim else (N, 0), dtype=self.dtype)
        if doDerivative[1]:
            S = self._scale(parts)
            dY = (W3 * S if S is not None else W3.copy()).reshape(W.shape)
        return dth, dY

    # ------------------------------------------------------------------ Meganet.m layout
    def _convertPixels(self, th, convert):
        """``s1``, ``b1`` index the pixels: column-major in Meganet.m for image features."""
        pix = self.nData[:-1]
        if not self.isWeight[0] or len(pix) < 2:
            return th.copy()
        n = self._dims[0]
        return self.xp.concatenate([convert(th[:n], pix), convert(th[n:2 * n], pix), th[2 * n:]])

    def _thetaFromMatlab(self, th):
        return self._convertPixels(th, fromColumnMajor)

    def _thetaToMatlab(self, th):
        return self._convertPixels(th, toColumnMajor)
