"""``DoubleLayer``: two kernels with activations, Z = sigma2(N2(K2 sigma1(N1(K1 Y) + Bin1 b1)) + Bin2 b2) + Bout b3."""
from typing import Any, NamedTuple

from ..activations import tanhActivation
from ._kernelLayer import KernelLayer
from ..backend import inheritBackend
from ..linops.bias import biasApply, biasApplyT, prepareBias
from ._layerUtils import checkNormLayer

__all__ = ["DoubleLayer"]


class DoubleLayerTmp(NamedTuple):
    """``tmp`` of :meth:`DoubleLayer.forwardProp` (with ``storeInterm``): ``U1 = K1 Y``,
    ``normTmp1``, ``A1 = sigma1(V1)``, ``dA1 = sigma1'(V1)``, ``U2 = K2 A1``, ``normTmp2``,
    ``dA2 = sigma2'(V2)`` (normalization tmps None without normalization layers)."""

    U1: Any
    normTmp1: Any
    A1: Any
    dA1: Any
    U2: Any
    normTmp2: Any
    dA2: Any


class DoubleLayer(KernelLayer):
    """Two-kernel layer (Meganet.m's ``doubleLayer``; the paper's eq. 1 with two activations).

    Forward map::

        U1 = K1(theta1) Y;   V1 = N1(theta6, U1) + Bin1 theta3;   A1 = sigma1(V1)
        U2 = K2(theta2) A1;  V2 = N2(theta7, U2) + Bin2 theta4;   Z  = sigma2(V2) + Bout theta5

    ``theta = [theta1..theta7]`` = (K1, K2, Bin1, Bin2, Bout, normLayer1, normLayer2).

    Derivatives::

        dU1 = K1(dtheta1) Y + K1 dY;   dV1 = J_N1 [dtheta6; dU1] + Bin1 dtheta3
        dU2 = K2(dtheta2) A1 + K2 (sigma1' * dV1);   dV2 = J_N2 [dtheta7; dU2] + Bin2 dtheta4
        dZ  = sigma2' * dV2 + Bout dtheta5
        J^T W:  theta5 <- Bout^T sum W;  S2 = sigma2' * W;  theta4 <- Bin2^T sum S2
                (theta7, S2) <- J_N2^T S2;  theta2 <- J_K2^T(S2; A1)
                S1 = sigma1' * K2^T S2;  theta3 <- Bin1^T sum S1;  (theta6, S1) <- J_N1^T S1
                theta1 <- J_K1^T(S1; Y);  Y <- K1^T S1

    Parameters
    ----------
    K1, K2 : kernel elements with ``K1.sizeFeatOut() == K2.sizeFeatIn()``
    activation1, activation2 : callables, default tanhActivation
    Bin1 : bias on ``K1.sizeFeatOut()``; Bin2, Bout : biases on ``K2.sizeFeatOut()``
        Bias weights start at 0.1 (as Meganet.m).
    normLayer1, normLayer2 : optional elements on ``K1.sizeFeatOut()`` / ``K2.sizeFeatOut()``
    storeInterm : bool, default False
        Default of ``forwardProp``'s ``storeInterm``: return the intermediates as ``tmp``
        (a :class:`DoubleLayerTmp`) instead of None.
    useGPU, precision : optional (default: K1's)
    """

    def __init__(self, K1, K2, activation1=tanhActivation, activation2=tanhActivation, Bin1=None,
                 Bin2=None, Bout=None, normLayer1=None, normLayer2=None, storeInterm=False,
                 useGPU=None, precision=None):
        useGPU, precision = inheritBackend(useGPU, precision, K1)
        super().__init__(useGPU=useGPU, precision=precision)
        name = type(self).__name__
        for a, nm in ((activation1, "activation1"), (activation2, "activation2")):
            if not callable(a):
                raise TypeError(f"{name}: {nm} must be callable; got {type(a).__name__}")
        if tuple(K1.sizeFeatOut()) != tuple(K2.sizeFeatIn()):
            raise ValueError(f"{name}: K1.sizeFeatOut() must equal K2.sizeFeatIn(); got "
                             f"{tuple(K1.sizeFeatOut())} and {tuple(K2.sizeFeatIn())}")
        self.K1, self.K2 = K1, K2
        self.activation1, self.activation2 = activation1, activation2
        self.Bin1 = prepareBias(Bin1, K1.sizeFeatOut(), name, "Bin1")
        self.Bin2 = prepareBias(Bin2, K2.sizeFeatOut(), name, "Bin2")
        self.Bout = prepareBias(Bout, K2.sizeFeatOut(), name, "Bout")
        checkNormLayer(normLayer1, K1.sizeFeatOut(), name, "normLayer1", "K1 output shape")
        checkNormLayer(normLayer2, K2.sizeFeatOut(), name, "normLayer2", "K2 output shape")
        self.normLayer1, self.normLayer2 = normLayer1, normLayer2
        self.storeInterm = bool(storeInterm)
        self._propagateBackend()

    _biasInit = 0.1

    def _kernels(self):
        return (self.K1, self.K2)

    def _biases(self):
        return (self.Bin1, self.Bin2, self.Bout)

    def _normLayers(self):
        return (self.normLayer1, self.normLayer2)

    def sizeFeatIn(self):
        return tuple(self.K1.sizeFeatIn())

    def sizeFeatOut(self):
        return tuple(self.K2.sizeFeatOut())

    def _forward(self, theta, Y, doDerivative):
        th1, th2, th3, th4, th5, th6, th7 = self.split(theta)
        U1 = self.K1.Amv(th1, Y)
        V1, tmpN1 = U1, None
        if self.normLayer1 is not None:
            V1, tmpN1 = self.normLayer1.forwardProp(th6, U1, doDerivative=doDerivative)
        if th3.size:
            V1 = V1 + biasApply(self.Bin1, th3, self.K1.sizeFeatOut())
        A1, dA1 = self.activation1(V1, doDerivative=doDerivative)
        U2 = self.K2.Amv(th2, A1)
        V2, tmpN2 = U2, None
        if self.normLayer2 is not None:
            V2, tmpN2 = self.normLayer2.forwardProp(th7, U2, doDerivative=doDerivative)
        if th4.size:
            V2 = V2 + biasApply(self.Bin2, th4, self.K2.sizeFeatOut())
        Z, dA2 = self.activation2(V2, doDerivative=doDerivative)
        if th5.size:
            Z = Z + biasApply(self.Bout, th5, self.K2.sizeFeatOut())
        return Z, DoubleLayerTmp(U1, tmpN1, A1, dA1, U2, tmpN2, dA2)

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        U1, tmpN1, A1, dA1, U2, tmpN2, dA2 = self._temps(theta, Y, tmp)
        th1, th2, th3, th4, th5, th6, th7 = self.split(theta)
        hasTh = dtheta is not None
        if hasTh:
            d1, d2, d3, d4, d5, d6, d7 = self.split(dtheta)
        dU1 = self.K1.Jthetamv(d1, th1, Y) if hasTh else None
        if dY is not None:
            t = self.K1.Amv(th1, dY)
            dU1 = t if dU1 is None else dU1 + t
        dU2 = self.K2.Jthetamv(d2, th2, A1) if hasTh else None
        if dU1 is not None:
            if self.normLayer1 is not None:
                dU1 = self.normLayer1.Jmv(d6 if hasTh else None, dU1, th6, U1, tmpN1)
            if hasTh and d3.size:
                dU1 = dU1 + biasApply(self.Bin1, d3, self.K1.sizeFeatOut())
            t = self.K2.Amv(th2, dA1 * dU1)
            dU2 = t if dU2 is None else dU2 + t
        if dU2 is None:
            return self.xp.zeros_like(U2)
        if self.normLayer2 is not None:
            dU2 = self.normLayer2.Jmv(d7 if hasTh else None, dU2, th7, U2, tmpN2)
        if hasTh and d4.size:
            dU2 = dU2 + biasApply(self.Bin2, d4, self.K2.sizeFeatOut())
        dZ = dA2 * dU2
        if hasTh and d5.size:
            dZ = dZ + biasApply(self.Bout, d5, self.K2.sizeFeatOut())
        return dZ

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        U1, tmpN1, A1, dA1, U2, tmpN2, dA2 = self._temps(theta, Y, tmp)
        th1, th2, th3, th4, th5, th6, th7 = self.split(theta)
        wantTh = doDerivative[0]

        def bT(B, X):
            return biasApplyT(B, X, reduceDim) if (wantTh and B is not None) else None

        d5 = bT(self.Bout, W)
        S2 = dA2 * W
        d4 = bT(self.Bin2, S2)
        d7 = None
        if self.normLayer2 is not None:
            d7, S2 = self.normLayer2.JTmv(S2, th7, U2, tmpN2, doDerivative=(wantTh, True),
                                          reduceDim=reduceDim)
        S1 = dA1 * self.K2.JYTmv(S2, th2, A1)
        d3 = bT(self.Bin1, S1)
        d6 = None
        if self.normLayer1 is not None:
            d6, S1 = self.normLayer1.JTmv(S1, th6, U1, tmpN1, doDerivative=(wantTh, True),
                                          reduceDim=reduceDim)
        dY = self.K1.JYTmv(S1, th1, Y) if doDerivative[1] else None
        dth = None
        if wantTh:
            d1 = self.K1.JthetaTmv(S1, th1, Y, reduceDim=reduceDim)
            d2 = self.K2.JthetaTmv(S2, th2, A1, reduceDim=reduceDim)
            parts = [p for p in (d1, d2, d3, d4, d5, d6, d7) if p is not None]
            dth = self.xp.concatenate(parts, axis=0 if reduceDim else 1)
        return dth, dY
