"""``ScalingKernel``: scaling of features along their dimensions (Meganet.m's ``scalingKernel``)."""
from ..linops.linearOperator import LinearOperator
from ..validation import isInt
from .abstractKernel import AbstractKernel

__all__ = ["ScalingKernel"]


class ScalingKernel(AbstractKernel):
    """Diagonal kernel scaling features along three dimensions.

    Meganet.m views its data as an ``[n1, n2, n3]`` array (features, channels, examples)
    and scales it by ``kron(s3, kron(s2, s1))``. Here examples come first: features
    have shape ``(N, n1, n2)`` with ``N`` examples (Meganet.m's third dimension), e.g.
    images ``(N, H, W, C)`` reshaped to ``(N, H W, C)``. The forward map is::

        Z[n, a, b] = s1[a] * s2[b] * s3[n] * Y[n, a, b]

    where ``s1`` (``n1``), ``s2`` (``n2``) and ``s3`` (``n3``) are weights if the
    corresponding entry of ``isWeight`` is set and ones otherwise; ``theta = [s1; s2; s3]``
    holds the weighted ones in this order (``nTheta = sum(nData * isWeight)``). Scaling
    per example (``isWeight[2]``) requires ``N == nData[2]`` examples.

    The kernel is linear and symmetric in ``Y`` (``ATmv = Amv``) and multilinear in
    ``theta``::

        Jthetamv(ds) = (ds1 s2 s3 + s1 ds2 s3 + s1 s2 ds3) * Y          (products as above)
        JthetaTmv(W):   ds1[a] = sum_{n, b} s2[b] s3[n] W Y,   ds2[b] = sum_{n, a} s1[a] s3[n] W Y,
                        ds3[n] = sum_{a, b} s1[a] s2[b] W Y    (W Y: elementwise product)
        per example n (reduceDim=False): the same sums without the sum over n (ds3 has
                        only its n-th entry)
        JYTmv(W) = s1 s2 s3 * W

    Parameters
    ----------
    nData : (n1, n2, n3) or (n1, n2)
        ``n3`` (the number of examples) is needed only if ``isWeight[2]``.
    isWeight : three flags, default (1, 1, 0)
        Which of ``s1, s2, s3`` are weights.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nData, isWeight=(1, 1, 0), useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        try:
            nD = tuple(nData)
        except TypeError:
            nD = (nData,)
        if len(nD) not in (2, 3) or not all(isInt(v) and v > 0 for v in nD):
            raise ValueError(f"ScalingKernel: nData must be (n1, n2, n3) or (n1, n2) of positive "
                             f"integers; got {nData!r}")
        try:
            isW = tuple(isWeight)
        except TypeError:
            isW = (isWeight,)
        if len(isW) != 3 or not all(v in (0, 1) for v in isW):
            raise ValueError(f"ScalingKernel: isWeight must be three flags (0/1 or False/True); "
                             f"got {isWeight!r}")
        isW = tuple(bool(v) for v in isW)
        if isW[2] and len(nD) == 2:
            raise ValueError(f"ScalingKernel: isWeight[2] (scaling per example) needs nData = "
                             f"(n1, n2, n3) with n3 the number of examples; got nData={nData!r}")
        self.nData = tuple(int(v) for v in nD)
        self.isWeight = isW

    def nTheta(self):
        return sum(n for n, w in zip(self.nData, self.isWeight) if w)

    def sizeFeatIn(self):
        return self.nData[:2]

    def sizeFeatOut(self):
        return self.nData[:2]

    def initTheta(self, rng=None):
        """Ones (no scaling), as Meganet.m."""
        return self.xp.ones(self.nTheta(), dtype=self.dtype)

    def split(self, theta):
        """``(s1, s2, s3)``; ``None`` for a factor that is not a weight."""
        out, k = [], 0
        for d, w in enumerate(self.isWeight):
            if w:
                n = self.nData[d]
                out.append(theta[k:k + n])
                k += n
            else:
                out.append(None)
        return tuple(out)

    # ------------------------------------------------------------------ helpers
    def _checkN(self, Y, where):
        if self.isWeight[2] and Y.shape[0] != self.nData[2]:
            raise ValueError(f"ScalingKernel.{where}: scaling per example (isWeight[2]) needs "
                             f"N = nData[2] = {self.nData[2]} examples; got N = {Y.shape[0]}")

    def _factors(self, theta):
        """The weighted factors, broadcastable against ``(N, n1, n2)``."""
        s1, s2, s3 = self.split(theta)
        return (None if s1 is None else s1[None, :, None],
                None if s2 is None else s2[None, None, :],
                None if s3 is None else s3[:, None, None])

    @staticmethod
    def _scale(Y, factors):
        for f in factors:
            if f is not None:
                Y = Y * f
        return Y

    def getOp(self, theta):
        """``K(theta)`` as a LinearOperator.

        On one example ``(n1, n2)`` (or a batch), except with scaling per example
        (``isWeight[2]``), where it acts on the whole data ``(n3, n1, n2)``.
        """
        if not self.isWeight[2]:
            return super().getOp(theta)
        shape = (self.nData[2],) + self.nData[:2]
        return LinearOperator(shape, shape, lambda Y: self.Amv(theta, Y),
                              lambda Z: self.ATmv(theta, Z), useGPU=self.useGPU,
                              precision=self.precision)

    # ------------------------------------------------------------------ kernel protocol
    def Amv(self, theta, Y):
        self._checkN(Y, "Amv")
        return self._scale(Y, self._factors(theta))

    def ATmv(self, theta, Z):
        self._checkN(Z, "ATmv")
        return self._scale(Z, self._factors(theta))

    def Jthetamv(self, dtheta, theta, Y, tmp=None):
        self._checkN(Y, "Jthetamv")
        f = self._factors(theta)
        df = self._factors(dtheta)
        dZ = self.xp.zeros(Y.shape, dtype=Y.dtype)
        for k in range(3):
            if df[k] is not None:
                dZ = dZ + self._scale(Y, f[:k] + (df[k],) + f[k + 1:])
        return dZ

    def JthetaATmv(self, dtheta, theta, Z):
        # K(theta)^T = K(theta) is diagonal but not linear in theta
        return self.Jthetamv(dtheta, theta, Z)

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        self._checkN(Y, "JthetaTmv")
        f = self._factors(theta)
        WY = W * Y
        parts = []
        N = Y.shape[0]
        for k, axes in ((0, (0, 2)), (1, (0, 1)), (2, (1, 2))):
            if not self.isWeight[k]:
                continue
            P = self._scale(WY, f[:k] + (None,) + f[k + 1:])
            if reduceDim:
                parts.append(P.sum(axis=axes))
            elif k == 2:
                parts.append(self.xp.diag(P.sum(axis=(1, 2))))
            else:
                parts.append(P.sum(axis=axes[1]).reshape(N, -1))
        if not parts:
            shape = (0,) if reduceDim else (N, 0)
            return self.xp.zeros(shape, dtype=self.dtype)
        return self.xp.concatenate(parts, axis=-1)
