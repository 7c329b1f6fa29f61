"""``SingleLayer``: Z = sigma(N(K(theta1) Y) + Bin theta2) + Bout theta3."""
from typing import Any, NamedTuple

from ..activations import tanhActivation
from ._kernelLayer import KernelLayer
from ..backend import inheritBackend
from ..linops.bias import biasApply, biasApplyT, prepareBias
from ._layerUtils import checkNormLayer

__all__ = ["SingleLayer"]


class SingleLayerTmp(NamedTuple):
    """``tmp`` of :meth:`SingleLayer.forwardProp` (with ``storeInterm``): ``KY = K(theta1) Y``,
    ``normTmp`` the normalization layer's ``tmp`` (or None), ``dA = sigma'(V)``."""

    KY: Any
    normTmp: Any
    dA: Any


class SingleLayer(KernelLayer):
    """A single layer (Meganet.m's ``singleLayer``).

    Forward map, for features ``Y`` of shape ``(N, *K.sizeFeatIn())``::

        U = K(theta1) Y                       (kernel)
        V = N(theta4, U) + Bin theta2         (optional normalization, inner bias)
        Z = sigma(V) + Bout theta3            (activation, outer bias)

    with ``theta = [theta1; theta2; theta3; theta4]`` (kernel, Bin, Bout, normLayer).

    Derivatives (``sigma' = sigma'(V)``, products pointwise)::

        J_theta dtheta = sigma' * (J_N [dtheta4; K(dtheta1) Y] + Bin dtheta2) + Bout dtheta3
        J_Y dY         = sigma' * (J_N,U K dY)
        J^T W:  theta3 <- Bout^T sum_n W
                S = sigma' * W;   theta2 <- Bin^T sum_n S
                (theta4, S) <- J_N^T S            (normalization layer's JTmv)
                theta1 <- J_K,theta^T S;   Y <- K^T S

    Parameters
    ----------
    K : kernel element (Dense, Conv2D, ConvFFT, ...)
    activation : callable, default tanhActivation
        ``A, dA = activation(V, doDerivative=True)``.
    Bin, Bout : None, matrix or LinearOperator
        Inner and outer biases (see :mod:`meganet.linops.bias`); both act on
        ``K.sizeFeatOut()``-shaped features. Their weights start at 0.
    normLayer : element, optional
        Acting on ``K.sizeFeatOut()``-shaped features.
    storeInterm : bool, default False
        Default of ``forwardProp``'s ``storeInterm``: return the intermediates as ``tmp``
        (a :class:`SingleLayerTmp`) instead of None.
    useGPU, precision : optional
        Default: the kernel's. Given values are pushed to the kernel and normLayer.
    """

    def __init__(self, K, activation=tanhActivation, Bin=None, Bout=None, normLayer=None,
                 storeInterm=False, useGPU=None, precision=None):
        useGPU, precision = inheritBackend(useGPU, precision, K)
        super().__init__(useGPU=useGPU, precision=precision)
        name = type(self).__name__
        if not callable(activation):
            raise TypeError(f"{name}: activation must be callable; got {type(activation).__name__}")
        self.K = K
        self.activation = activation
        featOut = tuple(K.sizeFeatOut())
        self.Bin = prepareBias(Bin, featOut, name, "Bin")
        self.Bout = prepareBias(Bout, featOut, name, "Bout")
        checkNormLayer(normLayer, featOut, name, "normLayer", "kernel output shape")
        self.normLayer = normLayer
        self.storeInterm = bool(storeInterm)
        self._propagateBackend()

    # ------------------------------------------------------------------ sizes
    def _kernels(self):
        return (self.K,)

    def _biases(self):
        return (self.Bin, self.Bout)

    def _normLayers(self):
        return (self.normLayer,)

    def sizeFeatIn(self):
        return tuple(self.K.sizeFeatIn())

    def sizeFeatOut(self):
        return tuple(self.K.sizeFeatOut())

    # ------------------------------------------------------------------ forward
    def forwardProp(self, theta, Y, doDerivative=True, storeInterm=None):
        """``(Z, tmp)``; ``tmp`` holds the intermediates if ``storeInterm`` (default: the
        layer's option) and ``doDerivative``, else None (and they are not computed)."""
        keep = bool(doDerivative) and (self.storeInterm if storeInterm is None else bool(storeInterm))
        return self._forward(theta, Y, doDerivative, "all" if keep else "none")

    def _forward(self, theta, Y, doDerivative, keep="all"):
        """``(Z, tmp)``. ``keep``: ``'all'`` the intermediates as a :class:`SingleLayerTmp`;
        ``'adjoint'`` those ``JTmv`` needs, without ``KY`` when a normalization layer
        follows the kernel (not held while the activation is evaluated; ``JTmv``
        recomputes it for the normalization's adjoint); ``'none'``: None (``sigma'`` is
        not evaluated)."""
        th1, th2, th3, th4 = self.split(theta)
        KY = self.K.Amv(th1, Y)
        V, tmpNL = KY, None
        if self.normLayer is not None:
            V, tmpNL = self.normLayer.forwardProp(th4, KY, doDerivative=doDerivative)
            if keep != "all":
                KY = None
            if keep == "none":
                tmpNL = None
        if th2.size:
            V = V + biasApply(self.Bin, th2, self.sizeFeatOut())
        A, dA = self.activation(V, doDerivative=bool(doDerivative) and keep != "none")
        V = None
        if th3.size:
            A = A + biasApply(self.Bout, th3, self.sizeFeatOut())
        return A, (None if keep == "none" else SingleLayerTmp(KY, tmpNL, dA))

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        KY, tmpNL, dA = self._temps(theta, Y, tmp)
        th1, th2, th3, th4 = self.split(theta)
        dU = None
        if dtheta is not None:
            dth1, dth2, dth3, dth4 = self.split(dtheta)
            dU = self.K.Jthetamv(dth1, th1, Y)
        if dY is not None:
            KdY = self.K.Amv(th1, dY)
            dU = KdY if dU is None else dU + KdY
        if dU is None:
            return self.xp.zeros_like(KY)
        if self.normLayer is not None:
            dU = self.normLayer.Jmv(dth4 if dtheta is not None else None, dU, th4, KY, tmpNL)
        if dtheta is not None and dth2.size:
            dU = dU + biasApply(self.Bin, dth2, self.sizeFeatOut())
        dZ = dA * dU
        if dtheta is not None and dth3.size:
            dZ = dZ + biasApply(self.Bout, dth3, self.sizeFeatOut())
        return dZ

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        # without tmp: recompute the intermediates, holding each full-size array only as
        # long as it is needed (KY is computed again for the normalization's adjoint)
        KY, tmpNL, dA = self._temps(theta, Y, tmp, keep="adjoint")
        th1, th2, th3, th4 = self.split(theta)
        xp = self.xp
        S = dA * W
        dA = None
        dth = None
        if doDerivative[0]:
            parts = []
            dth2 = biasApplyT(self.Bin, S, reduceDim) if self.Bin is not None else None
            dth3 = biasApplyT(self.Bout, W, reduceDim) if self.Bout is not None else None
        if self.normLayer is not None:
            if KY is None:
                KY = self.K.Amv(th1, Y)
            dth4, S = self.normLayer.JTmv(S, th4, KY, tmpNL, doDerivative=(doDerivative[0], True),
                                          reduceDim=reduceDim)
            KY = tmpNL = None
        dY = self.K.JYTmv(S, th1, Y) if doDerivative[1] else None
        if doDerivative[0]:
            parts.append(self.K.JthetaTmv(S, th1, Y, reduceDim=reduceDim))
            parts += [p for p in (dth2, dth3) if p is not None]
            if self.normLayer is not None:
                parts.append(dth4)
            dth = xp.concatenate(parts, axis=0 if reduceDim else 1)
        return dth, dY
