"""``HamiltonianNN``: Hamiltonian (Verlet) block with an auxiliary state (Meganet.m's ``HamiltonianNN``)."""
from ..element import AbstractMeganetElement
from ..layers._layerUtils import biasApply, biasApplyT, nBias, prepareBias
from ._blockUtils import checkH, checkNt, checkState, resolveBackend
from ._timeBasis import TimeBasisMixin

__all__ = ["HamiltonianNN"]


class HamiltonianNN(TimeBasisMixin, AbstractMeganetElement):
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
    so ``forwardProp`` keeps only ``tmp = (Y_nt, Z_nt)`` (``Y_nt`` is the output array)
    and the memory of forward + backward does not grow with ``nt``. :meth:`inverse`
    exposes the backward run. Do not modify the output in place before calling the
    derivative methods with ``tmp``.

    Parameters
    ----------
    activation : callable
        ``A, dA = activation(V, doDerivative=True)``.
    K : kernel (Dense, Conv2D, ConvFFT, ...) with ``sizeFeatIn() == sizeFeatOut()``
    B : None, matrix ``(numel, nb)`` or LinearOperator (e.g. ``opCNNBias``)
        Bias basis on the feature shape (see :mod:`meganet.layers._layerUtils`).
    nt : int >= 1
    h : float > 0
    A : array of shape (nCoeff, nt), optional
    useGPU, precision : optional
        Default: the kernel's; given values are pushed to the kernel.
    """

    def __init__(self, activation, K, B, nt, h, A=None, useGPU=None, precision=None):
        name = type(self).__name__
        if not callable(activation):
            raise TypeError(f"{name}: activation must be callable; got {type(activation).__name__}")
        missing = [m for m in ("Amv", "ATmv", "Jthetamv", "JthetaTmv", "JthetaATmv", "nTheta")
                   if not hasattr(K, m)]
        if missing:
            raise TypeError(f"{name}: K must be a kernel (with Amv, ATmv, Jthetamv, JthetaTmv, "
                            f"JthetaATmv); got {type(K).__name__} without {', '.join(missing)}")
        useGPU, precision = resolveBackend(useGPU, precision, [K], name)
        super().__init__(useGPU=useGPU, precision=precision)
        fi, fo = tuple(K.sizeFeatIn()), tuple(K.sizeFeatOut())
        if fi != fo:
            raise ValueError(f"{name}: K must map features to features of the same shape "
                             f"(K.sizeFeatIn() == K.sizeFeatOut()); got {fi} and {fo}")
        self.activation = activation
        self.K = K
        self.B = prepareBias(B, fi, name, "B")
        self.nt = checkNt(nt, name)
        self.h = checkH(h, name)
        self._propagateBackend()
        self._setTimeBasis(A, name)

    # ------------------------------------------------------------------ sizes
    def _nTimes(self):
        return self.nt

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

    # ------------------------------------------------------------------ pieces
    def _parts(self, Th, j):
        nK = self.K.nTheta()
        thK = Th[j, :nK]
        thb = Th[j, nK:]
        c = biasApply(self.B, thb, self.sizeFeatIn()) if thb.size else None
        return thK, thb, c

    def _act(self, V, c):
        return self.activation(V if c is None else V + c)

    def _run(self, Th, Y):
        Z = self.xp.zeros_like(Y)
        h = self.h
        for j in range(self.nt):
            thK, _, c = self._parts(Th, j)
            a1, _ = self._act(self.K.ATmv(thK, Y), c)
            Z = Z - h * a1
            a2, _ = self._act(self.K.Amv(thK, Z), c)
            Y = Y + h * a2
        return Y, Z

    # ------------------------------------------------------------------ forward
    def forwardProp(self, theta, Y, doDerivative=True):
        """Return ``(Y_nt, tmp)`` with ``tmp = (Y_nt, Z_nt)`` (None if not doDerivative)."""
        YN, ZN = self._run(self._stepWeights(theta), Y)
        return YN, ((YN, ZN) if doDerivative else None)

    def inverse(self, theta, YN, ZN):
        """Run the Verlet steps backwards: ``(Y_0, Z_0)`` from ``(Y_nt, Z_nt)``.

        ``Y_j = Y_{j+1} - h sigma(K_j Z_{j+1} + c_j)``, ``Z_j = Z_{j+1} + h sigma(K_j^T Y_j + c_j)``
        for ``j = nt-1 .. 0``. ``Z_0`` is zero up to rounding for states produced by
        :meth:`forwardProp`. ``YN, ZN``: arrays ``(N, *sizeFeatOut())``, e.g. ``tmp``.
        """
        where = f"{type(self).__name__}.inverse"
        self._validateArgs("inverse", {"theta": theta})
        N = checkState(self, where, "YN", YN, self.sizeFeatOut())
        checkState(self, where, "ZN", ZN, self.sizeFeatOut(), N)
        Th = self._stepWeights(theta)
        Y, Z, h = YN, ZN, self.h
        for j in range(self.nt - 1, -1, -1):
            thK, _, c = self._parts(Th, j)
            a2, _ = self._act(self.K.Amv(thK, Z), c)
            Y = Y - h * a2
            a1, _ = self._act(self.K.ATmv(thK, Y), c)
            Z = Z + h * a1
        return Y, Z

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Th = self._stepWeights(theta)
        dTh = self._stepWeights(dtheta) if dtheta is not None else None
        xp, h, K = self.xp, self.h, self.K
        if dTh is None and dY is None:
            return xp.zeros_like(Y)
        Z = xp.zeros_like(Y)
        dZ = xp.zeros_like(Y)
        if dY is None:
            dY = xp.zeros_like(Y)
        for j in range(self.nt):
            thK, _, c = self._parts(Th, j)
            a1, s1 = self._act(K.ATmv(thK, Y), c)
            dV = K.ATmv(thK, dY)
            if dTh is not None:
                dthK, dthb, dc = self._parts(dTh, j)
                dV = dV + K.JthetaATmv(dthK, thK, Y)
                if dc is not None:
                    dV = dV + dc
            dZ = dZ - h * (s1 * dV)
            Z = Z - h * a1
            a2, s2 = self._act(K.Amv(thK, Z), c)
            dV = K.Amv(thK, dZ)
            if dTh is not None:
                dV = dV + K.Jthetamv(dthK, thK, Z)
                if dc is not None:
                    dV = dV + dc
            dY = dY + h * (s2 * dV)
            Y = Y + h * a2
        return dY

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        Th = self._stepWeights(theta)
        if tmp is None:
            tmp = self._run(Th, Y)
        Yj, Zj = tmp
        xp, h, K = self.xp, self.h, self.K
        nb = nBias(self.B)
        G = None
        if wantTh:
            m = self._nThetaStep()
            G = xp.zeros((self.nt, m) if reduceDim else (W.shape[0], self.nt, m), dtype=self.dtype)
        WY, WZ = W, None
        for j in range(self.nt - 1, -1, -1):
            thK, _, c = self._parts(Th, j)
            # undo Y_{j+1} = Y_j + h sigma(K Z_{j+1} + c)
            a2, s2 = self._act(K.Amv(thK, Zj), c)
            S1 = s2 * WY
            KtS1 = K.ATmv(thK, S1)
            WZ = h * KtS1 if WZ is None else WZ + h * KtS1
            Yj = Yj - h * a2
            # undo Z_{j+1} = Z_j - h sigma(K^T Y_j + c)
            a1, s1 = self._act(K.ATmv(thK, Yj), c)
            S2 = s1 * WZ
            if wantTh:
                gK = h * (K.JthetaTmv(S1, thK, Zj, reduceDim=reduceDim)
                          - K.JthetaTmv(Yj, thK, S2, reduceDim=reduceDim))
                parts = [gK]
                if nb:
                    parts.append(h * (biasApplyT(self.B, S1, reduceDim)
                                      - biasApplyT(self.B, S2, reduceDim)))
                g = xp.concatenate(parts, axis=0 if reduceDim else 1)
                if reduceDim:
                    G[j] = g
                else:
                    G[:, j] = g
            if wantY or j > 0:
                WY = WY - h * K.Amv(thK, S2)
            if j > 0:
                Zj = Zj + h * a1
        dth = self._coeffGrad(G, reduceDim) if wantTh else None
        return dth, (WY if wantY else None)

    # ------------------------------------------------------------------ multilevel
    def prolongateWeights(self, theta):
        """Double ``nt``, halve ``h``, interpolate the weights linearly in time.

        MUTATES the block and returns the new weights (see :meth:`ResNN.prolongateWeights`).
        Only for the identity time basis (Meganet.m does not check this).
        """
        return self._prolongateUniform(theta)

    def _mapSteps(self, theta, fn):
        xp = self.xp
        thK, thb = self.split(theta)
        out = [xp.concatenate([fn(xp.ascontiguousarray(thK[k])), thb[k]])
               for k in range(self.nCoeff())]
        return xp.concatenate(out)

    def restrictConvStencils(self, theta):
        """Every time coefficient's kernel weights through ``K.restrictConvStencils``."""
        return self._mapSteps(theta, self.K.restrictConvStencils)

    def prolongateConvStencils(self, theta):
        """Every time coefficient's kernel weights through ``K.prolongateConvStencils``."""
        return self._mapSteps(theta, self.K.prolongateConvStencils)
