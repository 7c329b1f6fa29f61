"""``ResNN``: residual network block, forward Euler in time (Meganet.m's ``ResNN``)."""
from ..element import AbstractMeganetElement
from ._blockUtils import checkElement, checkH, checkNt, checkSquareLayer, layerForward, resolveBackend
from ._timeBasis import LayerTimeBasisMixin

__all__ = ["ResNN"]


class ResNN(LayerTimeBasisMixin, AbstractMeganetElement):
    """Residual block ``Y_{j+1} = Y_j + h F(Theta_j, Y_j)``, ``j = 0 .. nt-1``.

    With ``layer = DoubleSymLayer(K, ...)`` (``F = -K^T sigma(K Y + b)``) this is the
    forward Euler discretisation of the paper's parabolic CNN,
    ``dY/dt = F_sym(theta(t), Y)``.

    Weights: ``Theta_j = sum_k A[k, j] theta_k`` (see :mod:`._timeBasis`); with the default
    ``A=None`` the weights are ``nt`` contiguous per-step chunks of ``layer.nTheta()``
    values, step 0 first, and ``nTheta = nt * layer.nTheta()``.

    Forward map (``Y`` of shape ``(N, *layer.sizeFeatIn())``; output ``Y_nt`` of the same
    shape)::

        Y_0 = Y;   Y_{j+1} = Y_j + h F(Theta_j, Y_j)

    Derivatives (``J_j = [J_theta, J_Y]`` of the layer at ``(Theta_j, Y_j)``)::

        Jmv:    dY_0 = dY;   dY_{j+1} = dY_j + h J_j [dTheta_j; dY_j];   dZ = dY_nt
                (dTheta_j = sum_k A[k, j] dtheta_k)
        JTmv:   P_nt = W;    for j = nt-1 .. 0:
                    G_j = h J_theta,j^T P_{j+1}
                    P_j = P_{j+1} + h J_Y,j^T P_{j+1}
                dY = P_0;    dtheta = (A G).ravel()  (G with rows G_j; G itself if A=None)

    Memory. ``forwardProp`` keeps, in ``tmp``, the input state ``Y_j`` of every step and the
    layer's ``tmp`` (the layer's intermediates if it stores them, e.g. ``storeInterm=True``),
    so the memory of a forward+backward pass grows linearly with ``nt``. With
    ``storeStates=False`` ``forwardProp`` returns ``tmp=None`` and keeps nothing; ``JTmv``
    then recomputes the forward pass (the states live only during that ``JTmv``; one extra
    forward pass of compute), and ``Jmv`` propagates the states along with the directions
    without storing them. Every derivative method also accepts ``tmp=None``.

    Parameters
    ----------
    layer : element with ``sizeFeatIn() == sizeFeatOut()``
    nt : int >= 1
        Number of time steps.
    h : float > 0
        Time step size.
    A : array of shape (nCoeff, nt), optional
        Time basis (default: identity).
    storeStates : bool, default True
        Keep the states in ``tmp`` (see Memory).
    useGPU, precision : optional
        Default: the layer's; given values are pushed to the layer.
    """

    def __init__(self, layer, nt, h, A=None, storeStates=True, useGPU=None, precision=None):
        name = type(self).__name__
        checkElement(layer, name, "layer")
        useGPU, precision = resolveBackend(useGPU, precision, [layer], name)
        super().__init__(useGPU=useGPU, precision=precision)
        checkSquareLayer(layer, name)
        self.layer = layer
        self.nt = checkNt(nt, name)
        self.h = checkH(h, name)
        self.storeStates = bool(storeStates)
        self._propagateBackend()
        self._setTimeBasis(A, name)

    # ------------------------------------------------------------------ sizes
    def _nTimes(self):
        return self.nt


    # ------------------------------------------------------------------ forward
    def forwardProp(self, theta, Y, doDerivative=True):
        """Return ``(Y_nt, tmp)``; ``tmp`` = per step ``(Y_j, layer tmp)`` or None."""
        Th = self._stepWeights(theta)
        keep = bool(doDerivative) and self.storeStates
        states = [] if keep else None
        for j in range(self.nt):
            F, tmpL = self.layer.forwardProp(Th[j], Y, doDerivative=doDerivative)
            if keep:
                states.append((Y, tmpL))
            Y = Y + self.h * F
        return Y, (tuple(states) if keep else None)

    def _states(self, Th, Y):
        states = []
        for j in range(self.nt):
            F, tmpL = self.layer.forwardProp(Th[j], Y)
            states.append((Y, tmpL))
            Y = Y + self.h * F
        return states

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        Th = self._stepWeights(theta)
        dTh = self._stepWeights(dtheta) if dtheta is not None else None
        if dTh is None and dY is None:
            return self.xp.zeros_like(Y)
        h = self.h
        Yj = Y
        for j in range(self.nt):
            if tmp is not None:
                Yj, tmpL = tmp[j]
            else:
                F, tmpL = layerForward(self.layer, Th[j], Yj)
            dF = self.layer.Jmv(dTh[j] if dTh is not None else None, dY, Th[j], Yj, tmpL)
            dY = h * dF if dY is None else dY + h * dF
            if tmp is None:
                Yj = Yj + h * F
        return dY

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        Th = self._stepWeights(theta)
        states = tmp if tmp is not None else self._states(Th, Y)
        xp, h = self.xp, self.h
        G = None
        if wantTh:
            m = self._nThetaStep()
            G = xp.zeros((self.nt, m) if reduceDim else (W.shape[0], self.nt, m), dtype=self.dtype)
        for j in range(self.nt - 1, -1, -1):
            Yj, tmpL = states[j]
            needY = wantY or j > 0
            dthj, dWj = self.layer.JTmv(W, Th[j], Yj, tmpL, doDerivative=(wantTh, needY),
                                        reduceDim=reduceDim)
            if wantTh:
                if reduceDim:
                    G[j] = h * dthj
                else:
                    G[:, j] = h * dthj
            if needY:
                W = W + h * dWj
        dth = self._coeffGrad(G, reduceDim) if wantTh else None
        return dth, (W if wantY else None)

    # ------------------------------------------------------------------ multilevel
    def prolongateWeights(self, theta):
        """Double ``nt``, halve ``h`` and interpolate the weights linearly in time.

        MUTATES the block (``nt -> 2 nt``, ``h -> h / 2``) and returns the new weights:
        the old per-step weights sit at ``t_j = j h`` (``j < nt``), the new ones at
        ``t_i = i h / 2`` (``i < 2 nt``), interpolated by :func:`meganet.utils.inter1D`
        (constant beyond the last old time point). Only for the identity time basis.
        (Meganet.m returns a new block and the new weights.)
        """
        return self._prolongateUniform(theta)
