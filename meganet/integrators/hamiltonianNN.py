"""``HamiltonianNN``: Hamiltonian (Verlet) block with an auxiliary state (Meganet.m's ``HamiltonianNN``)."""
from typing import Any, NamedTuple

from ..linops.bias import biasApply, biasApplyT, nBias, prepareBias
from .timeSteppingBlock import TimeSteppingBlock

__all__ = ["HamiltonianNN"]


class HamiltonianTmp(NamedTuple):
    """``tmp`` of :meth:`HamiltonianNN.forwardProp`: the final states ``Y_nt`` (the output
    array itself) and ``Z_nt``, arrays ``(N, *sizeFeatOut())``."""

    YN: Any
    ZN: Any


class HamiltonianStep(NamedTuple):
    """Record of step ``j``: ``Y_j``, ``Z_{j+1}`` and the activation derivatives
    ``s1 = sigma'(K_j^T Y_j + c_j)``, ``s2 = sigma'(K_j Z_{j+1} + c_j)``."""

    Y: Any
    Z: Any
    s1: Any
    s2: Any


class HamiltonianNN(TimeSteppingBlock):
    """Hamiltonian block: an auxiliary state ``Z`` starting at 0 drives ``Y`` (Verlet steps).

    For ``j = 0 .. nt-1`` with ``K_j = K(thetaK_j)``, ``c_j = B thetab_j`` (bias field)::

        Z_0 = 0
        Z_{j+1} = Z_j     - h sigma(K_j^T Y_j + c_j)
        Y_{j+1} = Y_j     + h sigma(K_j Z_{j+1} + c_j)

    output ``Y_nt`` (shape of the input). The features are NOT split: ``Y`` is the whole
    input and ``Z`` an internal state of the same shape (as Meganet.m's ``HamiltonianNN``;
    :class:`DoubleHamiltonianNN` is the block that splits the features into two halves).
    ``K`` must map features to features of the same shape (square dense or
    ``cin == cout`` convolutions), because ``K`` and ``K^T`` act on both states and the
    bias field is added to both.

    Weights: per time point ``[thetaK_j; thetab_j]`` (``K.nTheta() + nb`` values);
    ``Theta_j = sum_k A[k, j] theta_k`` (see :mod:`._timeBasis`, default identity).

    Derivatives. Forward (``Jmv``, states recomputed from ``Y`` along with the tangents;
    ``dK_j = K(dthetaK_j)`` the linear part, ``dc_j = B dthetab_j``,
    ``s1 = sigma'(K_j^T Y_j + c_j)``, ``s2 = sigma'(K_j Z_{j+1} + c_j)``)::

        dZ_{j+1} = dZ_j - h s1 * (dK_j^T Y_j + K_j^T dY_j + dc_j),    dZ_0 = 0
        dY_{j+1} = dY_j + h s2 * (dK_j Z_{j+1} + K_j dZ_{j+1} + dc_j)

    Adjoint (``JTmv``; ``WY = W``, ``WZ = 0`` at ``j = nt``; for ``j = nt-1 .. 0``)::

        S1 = s2 * WY
        GK_j += h J_K^T(S1; Z_{j+1});   Gb_j += h B^T sum_n S1;   WZ += h K_j^T S1
        S2 = s1 * WZ
        GK_j -= h J_K^T(Y_j; S2);       Gb_j -= h B^T sum_n S2;   WY -= h K_j S2
        dY = WY;  dtheta = (A G).ravel()

    where ``J_K^T(W; X)`` is the kernel's ``JthetaTmv(W, thetaK, X)`` (the gradient of
    ``<W, K(theta) X>``), so ``J_K^T(Y; S2)`` is the gradient of ``<S2, K(theta)^T Y>``.

    Reversibility and memory: the states are recomputed backwards,
    ``Y_j = Y_{j+1} - h sigma(K_j Z_{j+1} + c_j)``, ``Z_j = Z_{j+1} + h sigma(K_j^T Y_j + c_j)``,
    so ``forwardProp`` keeps only ``tmp = HamiltonianTmp(Y_nt, Z_nt)`` (``Y_nt`` is the output array)
    and the memory of forward + backward does not grow with ``nt``. :meth:`inverse`
    exposes the backward run. Do not modify the output in place before calling the
    derivative methods with ``tmp``.

    Parameters
    ----------
    activation : callable
        ``A, dA = activation(V, doDerivative=True)``.
    K : kernel (Dense, Conv2D, ConvFFT, ...) with ``sizeFeatIn() == sizeFeatOut()``
    B : None, matrix ``(numel, nb)`` or LinearOperator (e.g. ``opCNNBias``)
        Bias basis on the feature shape (see :mod:`meganet.linops.bias`).
    nt : int >= 1
    h : float > 0
    A : array of shape (nCoeff, nt), optional
    useGPU, precision : optional
        Default: the kernel's; given values are pushed to the kernel.
    """

    reversible = True

    def __init__(self, activation, K, B, nt, h, A=None, useGPU=None, precision=None):
        name = type(self).__name__
        if not callable(activation):
            raise TypeError(f"{name}: activation must be callable; got {type(activation).__name__}")
        missing = [m for m in ("Amv", "ATmv", "Jthetamv", "JthetaTmv", "JthetaATmv", "nTheta")
                   if not hasattr(K, m)]
        if missing:
            raise TypeError(f"{name}: K must be a kernel (with Amv, ATmv, Jthetamv, JthetaTmv, "
                            f"JthetaATmv); got {type(K).__name__} without {', '.join(missing)}")
        fi, fo = tuple(K.sizeFeatIn()), tuple(K.sizeFeatOut())
        if fi != fo:
            raise ValueError(f"{name}: K must map features to features of the same shape "
                             f"(K.sizeFeatIn() == K.sizeFeatOut()); got {fi} and {fo}")
        self.activation = activation
        self.B = prepareBias(B, fi, name, "B")
        super().__init__({"K": K}, nt, h, A, useGPU=useGPU, precision=precision,
                         checkElements=False)

    # ------------------------------------------------------------------ sizes
    def _nThetaStep(self):
        return self.K.nTheta() + nBias(self.B)

    def sizeFeatIn(self):
        return tuple(self.K.sizeFeatOut())

    def sizeFeatOut(self):
        return tuple(self.K.sizeFeatIn())

    def split(self, theta):
        """``(thetaK, thetab)``: views of shape ``(nCoeff, K.nTheta())`` and ``(nCoeff, nb)``."""
        C = theta.reshape(self.nCoeff(), self._nThetaStep())
        nK = self.K.nTheta()
        return C[:, :nK], C[:, nK:]

    def initTheta(self, rng=None):
        """The kernel's initial weights and zero biases at every step."""
        t0 = self.xp.concatenate([self.K.initTheta(rng=rng),
                                  self.xp.zeros(nBias(self.B), dtype=self.dtype)])
        return self._initCoeffs(t0)

    def _stepParts(self):
        return ((self.K, 0, self.K.nTheta()),)

    # ------------------------------------------------------------------ states
    def _initState(self, Y):
        return (Y, self.xp.zeros_like(Y))               # (Y_j, Z_j), Z_0 = 0

    def _output(self, X):
        return X[0]

    def _finalTmp(self, X, Z):
        return HamiltonianTmp(*X)

    def _initTangent(self, dY, Y):
        return (dY if dY is not None else self.xp.zeros_like(Y), self.xp.zeros_like(Y))

    def _tangentOutput(self, dX):
        return dX[0]

    def _initAdjoint(self, W):
        return (W, None)                                # (WY, WZ), WZ = 0 at j = nt

    def _adjointOutput(self, P):
        return P[0]

    # ------------------------------------------------------------------ recurrence
    def _parts(self, Th, j):
        """``(thetaK_j, bias field c_j or None)``."""
        nK = self.K.nTheta()
        thb = Th[j, nK:]
        return Th[j, :nK], (biasApply(self.B, thb, self.sizeFeatIn()) if thb.size else None)

    def _act(self, V, c):
        return self.activation(V if c is None else V + c)

    def _step(self, j, Th, X, doDerivative=True, storeInterm=None):
        """``Z_{j+1} = Z_j - h sigma(K_j^T Y_j + c_j)``, ``Y_{j+1} = Y_j + h sigma(K_j Z_{j+1} + c_j)``."""
        Y, Z = X
        thK, c = self._parts(Th, j)
        a1, s1 = self._act(self.K.ATmv(thK, Y), c)
        Z = Z - self.h * a1
        a2, s2 = self._act(self.K.Amv(thK, Z), c)
        return (Y + self.h * a2, Z), HamiltonianStep(Y, Z, s1, s2), (a1, a2)

    def _inverseStep(self, j, Th, X, storeInterm=None):
        """``Y_j = Y_{j+1} - h sigma(K_j Z_{j+1} + c_j)``, ``Z_j = Z_{j+1} + h sigma(K_j^T Y_j + c_j)``."""
        Y, Z = X
        thK, c = self._parts(Th, j)
        a2, s2 = self._act(self.K.Amv(thK, Z), c)
        Y = Y - self.h * a2
        a1, s1 = self._act(self.K.ATmv(thK, Y), c)
        return (Y, Z + self.h * a1), HamiltonianStep(Y, Z, s1, s2), (a1, a2)

    def _stepJmv(self, j, Th, dTh, rec, dX):
        dY, dZ = dX
        K, h = self.K, self.h
        thK, _ = self._parts(Th, j)
        dV = K.ATmv(thK, dY)
        if dTh is not None:
            dthK, dc = self._parts(dTh, j)
            dV = dV + K.JthetaATmv(dthK, thK, rec.Y)
            if dc is not None:
                dV = dV + dc
        dZ = dZ - h * (rec.s1 * dV)
        dV = K.Amv(thK, dZ)
        if dTh is not None:
            dV = dV + K.Jthetamv(dthK, thK, rec.Z)
            if dc is not None:
                dV = dV + dc
        return (dY + h * (rec.s2 * dV), dZ)

    def _stepJTmv(self, j, Th, rec, P, grad, needP):
        WY, WZ = P
        K, h = self.K, self.h
        thK, _ = self._parts(Th, j)
        S1 = rec.s2 * WY
        KtS1 = K.ATmv(thK, S1)
        WZ = h * KtS1 if WZ is None else WZ + h * KtS1
        S2 = rec.s1 * WZ
        if grad.want:
            rd = grad.reduceDim
            grad.add(j, K.JthetaTmv(S1, thK, rec.Z, reduceDim=rd)
                     - K.JthetaTmv(rec.Y, thK, S2, reduceDim=rd), h)
            if self.B is not None:
                grad.add(j, biasApplyT(self.B, S1, rd) - biasApplyT(self.B, S2, rd), h, K.nTheta())
        if needP:
            WY = WY - h * K.Amv(thK, S2)
        return (WY, WZ)

    # ------------------------------------------------------------------ inverse
    def inverse(self, theta, YN, ZN):
        """Run the Verlet steps backwards: ``(Y_0, Z_0)`` from ``(Y_nt, Z_nt)``.

        ``Y_j = Y_{j+1} - h sigma(K_j Z_{j+1} + c_j)``, ``Z_j = Z_{j+1} + h sigma(K_j^T Y_j + c_j)``
        for ``j = nt-1 .. 0``. ``Z_0`` is zero up to rounding for states produced by
        :meth:`forwardProp`. ``YN, ZN``: arrays ``(N, *sizeFeatOut())``, e.g. ``tmp``.
        """
        self._checkInverseArgs({"YN": YN, "ZN": ZN})
        return self._backward(self._stepWeights(theta), (YN, ZN))
