"""``DoubleSymLayer``: the symmetric layer of the PDE-motivated networks (paper, eq. 6)."""
from typing import Any, NamedTuple

from ..activations import tanhActivation
from ._kernelLayer import KernelLayer
from ..backend import inheritBackend
from ..hostThreads import elementwise
from ..linops.bias import biasApply, biasApplyT, prepareBias
from ._layerUtils import checkNormLayer

__all__ = ["DoubleSymLayer"]


class DoubleSymLayerTmp(NamedTuple):
    """``tmp`` of :meth:`DoubleSymLayer.forwardProp` (with ``storeInterm``): ``U = K Y``,
    ``normTmp1`` (normLayer1's tmp or None), ``A = sigma(V)``, ``dA = sigma'(V)``,
    ``P = -K^T A`` and ``normTmp2`` (normLayer2's tmp or None)."""

    U: Any
    normTmp1: Any
    A: Any
    dA: Any
    P: Any
    normTmp2: Any


class DoubleSymLayer(KernelLayer):
    """Symmetric layer ``F(theta, Y) = -K^T sigma(N1(K Y) + Bin theta2)`` (Meganet.m's ``doubleSymLayer``).

    Forward map (``K = K(theta1)``; features keep their shape ``K.sizeFeatIn()``)::

        U  = K Y;   V = N1(theta4, U) + Bin theta2;   A = sigma(V)
        P  = -K^T A
        Z  = N2(theta5, P) + Bout theta3

    ``theta = [theta1; theta2; theta3; theta4; theta5]`` (K, Bin, Bout, normLayer1, normLayer2).
    Without normalization and biases, ``J_Y = -K^T diag(sigma'(V)) K`` is symmetric negative
    semi-definite for monotone ``sigma`` -- the basis of the parabolic network's stability.

    Derivatives (``sigma' = sigma'(V)``)::

        J dtheta,dY:  dU = K(dtheta1) Y + K dY;  dV = J_N1 [dtheta4; dU] + Bin dtheta2
                      dP = -(K^T (sigma' * dV) + K(dtheta1)^T A)
                      dZ = J_N2 [dtheta5; dP] + Bout dtheta3
        J^T W:        theta3 <- Bout^T sum_n W;   (theta5, G) <- J_N2^T W
                      S = -sigma' * (K G);        theta2 <- Bin^T sum_n S
                      (theta4, S) <- J_N1^T S
                      theta1 <- J_K^T(S; Y) - J_K^T(A; G)     (J_K^T(X; Y): kernel JthetaTmv)
                      Y <- K^T S

    Parameters
    ----------
    K : kernel element
    activation : callable, default tanhActivation
    Bin : None, matrix or LinearOperator on ``K.sizeFeatOut()`` features
    Bout : None, matrix or LinearOperator on ``K.sizeFeatIn()`` features
    normLayer1 : element on ``K.sizeFeatOut()`` features, optional
    normLayer2 : element on ``K.sizeFeatIn()`` features, optional
    storeInterm : bool, default False
        Default of ``forwardProp``'s ``storeInterm``: return the intermediates as ``tmp``
        (a :class:`DoubleSymLayerTmp`) instead of None. Without them (``tmp=None``),
        ``JTmv`` recomputes ``U``, the normalization, ``A`` and ``sigma'``, but not
        ``P = -K^T A`` (one convolution of the two) unless ``normLayer2`` needs it; the
        reversible blocks hand the intermediates of their backward recomputation over.

    Notes
    -----
    Elementwise work is done in place on the arrays the layer creates (the kernel's
    ``Amv``/``ATmv`` results are new arrays), never on its inputs or on stored
    intermediates.
    useGPU, precision : optional (default: the kernel's)
    """

    def __init__(self, K, activation=tanhActivation, Bin=None, Bout=None, normLayer1=None,
                 normLayer2=None, storeInterm=False, useGPU=None, precision=None):
        useGPU, precision = inheritBackend(useGPU, precision, K)
        super().__init__(useGPU=useGPU, precision=precision)
        name = type(self).__name__
        if not callable(activation):
            raise TypeError(f"{name}: activation must be callable; got {type(activation).__name__}")
        self.K = K
        self.activation = activation
        self.Bin = prepareBias(Bin, K.sizeFeatOut(), name, "Bin")
        self.Bout = prepareBias(Bout, K.sizeFeatIn(), name, "Bout")
        checkNormLayer(normLayer1, K.sizeFeatOut(), name, "normLayer1", "kernel output shape")
        checkNormLayer(normLayer2, K.sizeFeatIn(), name, "normLayer2", "kernel input shape")
        self.normLayer1 = normLayer1
        self.normLayer2 = normLayer2
        self.storeInterm = bool(storeInterm)
        self._propagateBackend()

    def _kernels(self):
        return (self.K,)

    def _biases(self):
        return (self.Bin, self.Bout)

    def _normLayers(self):
        return (self.normLayer1, self.normLayer2)

    def sizeFeatIn(self):
        return tuple(self.K.sizeFeatIn())

    def sizeFeatOut(self):
        return tuple(self.K.sizeFeatIn())

    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """``(Z, tmp)``; ``tmp`` holds the intermediates if ``storeInterm`` (default: the
        layer's option) and ``doDerivative``, else None (and ``sigma'`` is not evaluated)."""
        keep = bool(doDerivative) and (self.storeInterm if storeInterm is None else bool(storeInterm))
        Z, tmp = self._forward(theta, Y, doDerivative, needDA=keep)
        return Z, (tmp if keep else None)

    def _forward(self, theta, Y, doDerivative, needP=True, needDA=True):
        """``(Z, intermediates)``; with ``needP=False`` only what the adjoint needs when
        there is no ``normLayer2`` (``U``, ``normTmp1``, ``A``, ``dA``): ``Z``, ``P`` and
        ``normTmp2`` are None and ``K^T A`` is not computed. ``needDA=False`` leaves
        ``sigma'`` out (``dA`` None; the normalization layers still see ``doDerivative``,
        which may select their statistics)."""
        th1, th2, th3, th4, th5 = self.split(theta)
        U = self.K.Amv(th1, Y)
        V, tmpN1 = U, None
        if self.normLayer1 is not None:
            V, tmpN1 = self.normLayer1.forwardProp(th4, U, doDerivative=doDerivative)
        if th2.size:
            V = V + biasApply(self.Bin, th2, self.K.sizeFeatOut())
        A, dA = self.activation(V, doDerivative=bool(doDerivative) and needDA)
        if not needP:
            return None, DoubleSymLayerTmp(U, tmpN1, A, dA, None, None)
        P = self.K.ATmv(th1, A)
        elementwise(lambda p: self.xp.negative(p, out=p), P)    # the kernel's result is new
        Z, tmpN2 = P, None
        if self.normLayer2 is not None:
            Z, tmpN2 = self.normLayer2.forwardProp(th5, P, doDerivative=doDerivative)
        if th3.size:
            Z = Z + biasApply(self.Bout, th3, self.sizeFeatOut())
        return Z, DoubleSymLayerTmp(U, tmpN1, A, dA, P, tmpN2)

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        U, tmpN1, A, dA, P, tmpN2 = self._temps(theta, Y, tmp)
        th1, th2, th3, th4, th5 = self.split(theta)
        hasTh = dtheta is not None
        if hasTh:
            dth1, dth2, dth3, dth4, dth5 = self.split(dtheta)
        dU = self.K.Jthetamv(dth1, th1, Y) if hasTh else None
        if dY is not None:
            KdY = self.K.Amv(th1, dY)
            dU = KdY if dU is None else dU + KdY
        if dU is None:
            return self.xp.zeros_like(P)
        if self.normLayer1 is not None:
            dU = self.normLayer1.Jmv(dth4 if hasTh else None, dU, th4, U, tmpN1)
        if hasTh and dth2.size:
            dU = dU + biasApply(self.Bin, dth2, self.K.sizeFeatOut())
        dP = -self.K.ATmv(th1, dA * dU)
        if hasTh:
            dP = dP - self.K.JthetaATmv(dth1, th1, A)
        if self.normLayer2 is not None:
            dP = self.normLayer2.Jmv(dth5 if hasTh else None, dP, th5, P, tmpN2)
        if hasTh and dth3.size:
            dP = dP + biasApply(self.Bout, dth3, self.sizeFeatOut())
        return dP

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        if tmp is None:     # recompute only what the adjoint needs (P only for normLayer2)
            tmp = self._forward(theta, Y, True, needP=self.normLayer2 is not None)[1]
        U, tmpN1, A, dA, P, tmpN2 = tmp
        th1, th2, th3, th4, th5 = self.split(theta)
        wantTh = doDerivative[0]
        dth3 = biasApplyT(self.Bout, W, reduceDim) if (wantTh and self.Bout is not None) else None
        G, dth5 = W, None
        if self.normLayer2 is not None:
            dth5, G = self.normLayer2.JTmv(W, th5, P, tmpN2, doDerivative=(wantTh, True),
                                           reduceDim=reduceDim)
        S = self.K.Amv(th1, G)              # S = -sigma' * (K G), in place on the new array
        xp = self.xp

        def negProduct(s, d):
            xp.multiply(s, d, out=s)
            xp.negative(s, out=s)
        elementwise(negProduct, S, dA)
        dth2 = biasApplyT(self.Bin, S, reduceDim) if (wantTh and self.Bin is not None) else None
        dth4 = None
        if self.normLayer1 is not None:
            dth4, S = self.normLayer1.JTmv(S, th4, U, tmpN1, doDerivative=(wantTh, True),
                                           reduceDim=reduceDim)
        dY = self.K.JYTmv(S, th1, Y) if doDerivative[1] else None
        dth = None
        if wantTh:
            dth1 = (self.K.JthetaTmv(S, th1, Y, reduceDim=reduceDim)
                    - self.K.JthetaTmv(A, th1, G, reduceDim=reduceDim))
            parts = [p for p in (dth1, dth2, dth3, dth4, dth5) if p is not None]
            dth = self.xp.concatenate(parts, axis=0 if reduceDim else 1)
        return dth, dY

    ignoredMatlabOptions = {"Bin1": "doubleSymLayer's bias is Bin",
                            "activation1": "doubleSymLayer's activation is activation",
                            "activation2": "doubleSymLayer has one activation, activation"}
