"""``ResNN``: residual network block, forward Euler in time (Meganet.m's ``ResNN``)."""
from .timeSteppingBlock import LayerSteppingBlock

__all__ = ["ResNN"]


class ResNN(LayerSteppingBlock):
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
    layer's ``tmp``, a :class:`.LayerStep` ``(Y, tmp)`` per step (``tmp`` holds the
    layer's intermediates if it stores them, e.g. ``storeInterm=True``), so the memory of a
    forward+backward pass grows linearly with ``nt``. With
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
        self.storeStates = bool(storeStates)
        super().__init__(layer, nt, h, A, useGPU=useGPU, precision=precision)

    # ------------------------------------------------------------------ recurrence
    def _step(self, j, Th, Y, doDerivative=True, storeInterm=None):
        """``Y_{j+1} = Y_j + h F(Theta_j, Y_j)``; record ``LayerStep(Y_j, layer tmp)``; the
        increment ``F`` is scratch (held until the next step, see :class:`.TimeSteppingBlock`)."""
        F, rec = self._layerStep(Th[j], Y, doDerivative, storeInterm)
        return Y + self.h * F, rec, F

    def _stepJmv(self, j, Th, dTh, rec, dY):
        """``dY_{j+1} = dY_j + h J_j [dTheta_j; dY_j]``."""
        dF = self.layer.Jmv(None if dTh is None else dTh[j], dY, Th[j], rec.Y, rec.tmp)
        return self.h * dF if dY is None else dY + self.h * dF

    def _stepJTmv(self, j, Th, rec, P, grad, needP):
        """``G_j = h J_theta,j^T P_{j+1}``, ``P_j = P_{j+1} + h J_Y,j^T P_{j+1}``."""
        dth, dP = grad.JTmv(self.layer, P, Th[j], rec.Y, rec.tmp, needP)
        grad.add(j, dth, self.h)
        return P + self.h * dP if needP else P
