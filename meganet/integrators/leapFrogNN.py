"""``LeapFrogNN``: second-order (leapfrog) residual block (Meganet.m's ``LeapFrogNN``)."""
from ..element import AbstractMeganetElement
from ._blockUtils import (checkElement, checkH, checkNt, checkSquareLayer, checkState,
                          layerForward, resolveBackend)
from ._timeBasis import LayerTimeBasisMixin

__all__ = ["LeapFrogNN"]


class LeapFrogNN(LayerTimeBasisMixin, AbstractMeganetElement):
    """Leapfrog block ``Y_{j+1} = 2 Y_j - Y_{j-1} + h^2 F(Theta_j, Y_j)``, ``Y_{-1} = Y_0``.

    The leapfrog discretisation of the paper's second-order network
    ``d^2Y/dt^2 = F_sym(theta(t), Y)``, ``Y(0) = Y_0``, ``dY/dt(0) = 0``
    (``layer = DoubleSymLayer``). Weights as :class:`ResNN` (``Theta_j = sum_k A[k, j]
    theta_k``; default: ``nt`` per-step chunks, step 0 first). Output: ``Y_nt``.

    Derivatives (``J_j`` the layer's Jacobian at ``(Theta_j, Y_j)``)::

        Jmv:   dY_{-1} = dY_0 = dY;
               dY_{j+1} = 2 dY_j - dY_{j-1} + h^2 J_j [dTheta_j; dY_j]
        JTmv:  P_N = W, P_{N+1} = 0;   for j = N-1 .. 0:
                   G_j = h^2 J_theta,j^T P_{j+1}
                   P_j = 2 P_{j+1} - P_{j+2} + h^2 J_Y,j^T P_{j+1}     (j >= 1)
                   P_0 =   P_1     - P_2     + h^2 J_Y,0^T P_1         (Y_1 = Y_0 + h^2 F_0)
               dY = P_0;  dtheta = (A G).ravel()

    Reversibility and memory. The step can be solved for the older state,
    ``Y_{j-1} = 2 Y_j - Y_{j+1} + h^2 F(Theta_j, Y_j)``, so ``forwardProp`` keeps only
    ``tmp = (Y_N, Y_{N-1})`` (``Y_N`` is the output array itself, not a copy) and ``JTmv``
    recomputes the states backwards in time along with the adjoint recursion; ``Jmv``
    recomputes them forwards from ``Y``. The memory of forward + backward does not grow
    with ``nt`` (a few states and one layer evaluation's intermediates). The backward
    reconstruction agrees with the forward states up to rounding errors, which the
    recursion (a wave equation) does not damp: see ``docs/integrators.md`` for measured
    single-precision drift. With ``tmp=None`` the derivative methods first run the
    forward pass to obtain ``(Y_N, Y_{N-1})``. Do not modify the output in place before
    calling the derivative methods with ``tmp``.

    Parameters
    ----------
    layer : element with ``sizeFeatIn() == sizeFeatOut()``
    nt : int >= 1
    h : float > 0
    A : array of shape (nCoeff, nt), optional
        Time basis (default: identity).
    useGPU, precision : optional
        Default: the layer's; given values are pushed to the layer.
    """

    def __init__(self, layer, nt, h, A=None, useGPU=None, precision=None):
        name = type(self).__name__
        checkElement(layer, name, "layer")
        useGPU, precision = resolveBackend(useGPU, precision, [layer], name)
        super().__init__(useGPU=useGPU, precision=precision)
        checkSquareLayer(layer, name)
        self.layer = layer
        self.nt = checkNt(nt, name)
        self.h = checkH(h, name)
        self._propagateBackend()
        self._setTimeBasis(A, name)

    # ------------------------------------------------------------------ sizes
    def _nTimes(self):
        return self.nt


    # ------------------------------------------------------------------ forward
    def _run(self, Th, Y, doDerivative=True):
        h2 = self.h ** 2
        Yold = Y
        for j in range(self.nt):
            F, _ = self.layer.forwardProp(Th[j], Y, doDerivative=doDerivative)
            Y, Yold = 2 * Y - Yold + h2 * F, Y
        return Y, Yold

    def forwardProp(self, theta, Y, doDerivative=True):
        """Return ``(Y_N, tmp)`` with ``tmp = (Y_N, Y_{N-1})`` (None if not doDerivative)."""
        YN, YNm1 = self._run(self._stepWeights(theta), Y, doDerivative)
        return YN, ((YN, YNm1) if doDerivative else None)

    def inverse(self, theta, YN, YNm1):
        """Run the block backwards: the input ``Y_0`` from the last two states.

        Parameters
        ----------
        theta : array (nTheta,)
        YN, YNm1 : arrays (N, *sizeFeatOut())
            ``Y_N`` (the output) and ``Y_{N-1}`` (``tmp[1]`` of ``forwardProp``).

        Returns
        -------
        Y0 : array (N, *sizeFeatIn())
            ``Y_{j-1} = 2 Y_j - Y_{j+1} + h^2 F(Theta_j, Y_j)`` for ``j = N-1 .. 1``
            (``nt - 1`` layer evaluations).
        """
        where = f"{type(self).__name__}.inverse"
        self._validateArgs("inverse", {"theta": theta})
        N = checkState(self, where, "YN", YN, self.sizeFeatOut())
        checkState(self, where, "YNm1", YNm1, self.sizeFeatOut(), N)
        Th = self._stepWeights(theta)
        h2 = self.h ** 2
        Ynext, Y = YN, YNm1
        for j in range(self.nt - 1, 0, -1):
            F, _ = self.layer.forwardProp(Th[j], Y)
            Y, Ynext = 2 * Y - Ynext + h2 * F, Y
        return Y

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Th = self._stepWeights(theta)
        dTh = self._stepWeights(dtheta) if dtheta is not None else None
        xp, h2, L = self.xp, self.h ** 2, self.layer
        if dTh is None and dY is None:
            return xp.zeros_like(Y)
        dYj = dY
        dYold = dY if dY is not None else xp.zeros_like(Y)
        Yold = Y
        for j in range(self.nt):
            F, tmpL = layerForward(L, Th[j], Y)
            dF = L.Jmv(dTh[j] if dTh is not None else None, dYj, Th[j], Y, tmpL)
            cur = dYj if dYj is not None else xp.zeros_like(Y)
            dYj, dYold = 2 * cur - dYold + h2 * dF, cur
            Y, Yold = 2 * Y - Yold + h2 * F, Y
        return dYj

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        Th = self._stepWeights(theta)
        if tmp is None:
            tmp = self._run(Th, Y)
        Ynext, Yj = tmp
        xp, h2, L = self.xp, self.h ** 2, self.layer
        G = None
        if wantTh:
            m = self._nThetaStep()
            G = xp.zeros((self.nt, m) if reduceDim else (W.shape[0], self.nt, m), dtype=self.dtype)
        P1, P2 = W, None          # P_{j+1}, P_{j+2}
        for j in range(self.nt - 1, -1, -1):
            F, tmpL = layerForward(L, Th[j], Yj)
            needY = wantY or j > 0
            dthj, g = L.JTmv(P1, Th[j], Yj, tmpL, doDerivative=(wantTh, needY), reduceDim=reduceDim)
            if wantTh:
                if reduceDim:
                    G[j] = h2 * dthj
                else:
                    G[:, j] = h2 * dthj
            if needY:
                P0 = (2 * P1 if j > 0 else P1) + h2 * g
                if P2 is not None:
                    P0 = P0 - P2
                P1, P2 = P0, P1
            if j > 0:
                Yj, Ynext = 2 * Yj - Ynext + h2 * F, Yj
        dth = self._coeffGrad(G, reduceDim) if wantTh else None
        return dth, (P1 if wantY else None)

    # ------------------------------------------------------------------ multilevel
    def prolongateWeights(self, theta):
        """Double ``nt``, halve ``h``, interpolate the weights linearly in time.

        MUTATES the block and returns the new weights (see :meth:`ResNN.prolongateWeights`).
        Only for the identity time basis.
        """
        return self._prolongateUniform(theta)
