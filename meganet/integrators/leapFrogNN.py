"""``LeapFrogNN``: second-order (leapfrog) residual block (Meganet.m's ``LeapFrogNN``)."""
from typing import Any, NamedTuple

from .timeSteppingBlock import LayerSteppingBlock

__all__ = ["LeapFrogNN"]


class LeapFrogTmp(NamedTuple):
    """``tmp`` of :meth:`LeapFrogNN.forwardProp`: the last two states.

    Attributes
    ----------
    YN : array (N, *sizeFeatOut())
        ``Y_N``, the output array itself.
    YNm1 : array (N, *sizeFeatOut())
        ``Y_{N-1}``.
    """

    YN: Any
    YNm1: Any


class LeapFrogNN(LayerSteppingBlock):
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
    ``tmp = LeapFrogTmp(Y_N, Y_{N-1})`` (``Y_N`` is the output array itself, not a copy) and ``JTmv``
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

    reversible = True

    def __init__(self, layer, nt, h, A=None, useGPU=None, precision=None):
        super().__init__(layer, nt, h, A, useGPU=useGPU, precision=precision)

    # ------------------------------------------------------------------ states
    def _initState(self, Y):
        return (Y, Y)                                   # (Y_j, Y_{j-1}), Y_{-1} = Y_0

    def _output(self, X):
        return X[0]

    def _finalTmp(self, X, Z):
        return LeapFrogTmp(*X)

    def _initTangent(self, dY, Y):
        return (dY, dY if dY is not None else self.xp.zeros_like(Y))

    def _tangentOutput(self, dX):
        return dX[0]

    def _initAdjoint(self, W):
        return (W, None)                                # (P_{j+1}, P_{j+2}), P_{N+1} = 0

    def _adjointOutput(self, P):
        return P[0]

    # ------------------------------------------------------------------ recurrence
    def _step(self, j, Th, X, doDerivative=True, storeInterm=None):
        """``Y_{j+1} = 2 Y_j - Y_{j-1} + h^2 F(Theta_j, Y_j)``."""
        Y, Yold = X
        F, rec = self._layerStep(Th[j], Y, doDerivative, storeInterm)
        return (2 * Y - Yold + self.h ** 2 * F, Y), rec, F

    def _inverseStep(self, j, Th, X, storeInterm=None):
        """``Y_{j-1} = 2 Y_j - Y_{j+1} + h^2 F(Theta_j, Y_j)``."""
        Ynext, Y = X
        F, rec = self._layerStep(Th[j], Y, True, storeInterm)
        return (Y, 2 * Y - Ynext + self.h ** 2 * F), rec, F

    def _stepJmv(self, j, Th, dTh, rec, dX):
        dY, dYold = dX
        dF = self.layer.Jmv(None if dTh is None else dTh[j], dY, Th[j], rec.Y, rec.tmp)
        cur = dY if dY is not None else self.xp.zeros_like(rec.Y)
        return (2 * cur - dYold + self.h ** 2 * dF, cur)

    def _stepJTmv(self, j, Th, rec, P, grad, needP):
        P1, P2 = P
        h2 = self.h ** 2
        dth, g = grad.JTmv(self.layer, P1, Th[j], rec.Y, rec.tmp, needP)
        grad.add(j, dth, h2)
        if not needP:
            return P
        P0 = (2 * P1 if j > 0 else P1) + h2 * g
        if P2 is not None:
            P0 = P0 - P2
        return (P0, P1)

    def inverse(self, theta, YN, YNm1):
        """Run the block backwards: the input ``Y_0`` from the last two states.

        Parameters
        ----------
        theta : array (nTheta,)
        YN, YNm1 : arrays (N, *sizeFeatOut())
            ``Y_N`` (the output) and ``Y_{N-1}`` (``tmp.YNm1`` of ``forwardProp``).

        Returns
        -------
        Y0 : array (N, *sizeFeatIn())
            ``Y_{j-1} = 2 Y_j - Y_{j+1} + h^2 F(Theta_j, Y_j)`` for ``j = N-1 .. 1``
            (``nt - 1`` layer evaluations).
        """
        self._checkInverseArgs({"YN": YN, "YNm1": YNm1})
        return self._backward(self._stepWeights(theta), (YN, YNm1), stop=1)[1]
