"""``ResNNrk4``: residual block with the classical Runge-Kutta method (Meganet.m's ``ResNNrk4``)."""
import numpy

from ..utils.inter1D import inter1D
from .timeSteppingBlock import LayerSteppingBlock

__all__ = ["ResNNrk4"]


class ResNNrk4(LayerSteppingBlock):
    """Residual block ``dY/dt = F(Theta(t), Y)`` integrated by RK4 on the nodes ``tY``.

    The nodes ``t_0 < t_1 < ... < t_n`` (``n = len(tY) - 1`` steps, possibly uneven) carry
    the states; weights live at the nodes and at the interval midpoints,
    ``2 len(tY) - 1`` weight time points ordered ``t_0, m_0, t_1, m_1, ..., t_n``
    (``m_i = (t_i + t_{i+1}) / 2``), so step ``i`` uses weight columns ``a = 2i`` (node
    ``t_i``), ``c = 2i + 1`` (midpoint; shared by stages 2 and 3) and ``b = 2i + 2`` (node
    ``t_{i+1}``). ``Theta_j = sum_k A[k, j] theta_k`` (see :mod:`._timeBasis`, default
    identity: ``theta`` holds ``2 len(tY) - 1`` contiguous chunks in that order).

    Forward map, step ``i`` with ``h_i = t_{i+1} - t_i`` (``F_x = F(Theta_x, .)``)::

        S1 = Y_i;                 A1 = F_a(S1)
        S2 = Y_i + h_i/2 A1;      A2 = F_c(S2)
        S3 = Y_i + h_i/2 A2;      A3 = F_c(S3)
        S4 = Y_i + h_i A3;        A4 = F_b(S4)
        Y_{i+1} = Y_i + h_i (A1/6 + A2/3 + A3/3 + A4/6)

    Derivatives (``J_k = [J_theta, J_Y]`` of the layer at stage ``k``)::

        Jmv:   dS1 = dY_i;             dA1 = J_1 [dTheta_a; dS1]
               dS2 = dY_i + h_i/2 dA1; dA2 = J_2 [dTheta_c; dS2]
               dS3 = dY_i + h_i/2 dA2; dA3 = J_3 [dTheta_c; dS3]
               dS4 = dY_i + h_i dA3;   dA4 = J_4 [dTheta_b; dS4]
               dY_{i+1} = dY_i + h_i (dA1/6 + dA2/3 + dA3/3 + dA4/6)
        JTmv (P = gradient w.r.t. Y_{i+1}):
               gA4 = h_i/6 P;            gS4 = J_Y,4^T gA4
               gA3 = h_i/3 P + h_i gS4;   gS3 = J_Y,3^T gA3
               gA2 = h_i/3 P + h_i/2 gS3; gS2 = J_Y,2^T gA2
               gA1 = h_i/6 P + h_i/2 gS2; gS1 = J_Y,1^T gA1
               gradient w.r.t. Y_i = P + gS1 + gS2 + gS3 + gS4
               G_a += J_theta,1^T gA1;  G_c += J_theta,2^T gA2 + J_theta,3^T gA3;
               G_b += J_theta,4^T gA4;  dtheta = (A G).ravel()

    Memory: as :class:`ResNN`; with ``storeStates=True`` ``tmp`` holds, per step, the four
    stage records :class:`.LayerStep` ``(S_k, tmp)`` (Meganet.m's ``nt x 9`` cell); with
    ``storeStates=False`` nothing is kept and ``JTmv`` recomputes.

    Parameters
    ----------
    layer : element with ``sizeFeatIn() == sizeFeatOut()``
    tY : 1-D sequence of float
        Strictly increasing nodes (at least two).
    A : array of shape (nCoeff, 2 len(tY) - 1), optional
        Time basis (default: identity).
    storeStates : bool, default True
    useGPU, precision : optional
        Default: the layer's; given values are pushed to the layer.
    """

    def __init__(self, layer, tY, A=None, storeStates=True, useGPU=None, precision=None):
        self._tY = self._checkNodes(tY)
        self.storeStates = bool(storeStates)
        super().__init__(layer, A=A, useGPU=useGPU, precision=precision)

    @staticmethod
    def _checkNodes(tY):
        try:
            t = numpy.asarray(tY, dtype=numpy.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"ResNNrk4: tY must be a 1-D sequence of numbers; got {tY!r}") from err
        if t.ndim != 1 or t.size < 2:
            raise ValueError(f"ResNNrk4: tY must be a 1-D sequence of at least two nodes; "
                             f"got shape {t.shape}")
        if not numpy.all(numpy.isfinite(t)) or not numpy.all(numpy.diff(t) > 0):
            raise ValueError(f"ResNNrk4: tY must be finite and strictly increasing; got {t.tolist()}")
        return tuple(float(v) for v in t)

    @property
    def tY(self):
        """The nodes (host array)."""
        return numpy.array(self._tY)

    @property
    def nt(self):
        """Number of RK4 steps, ``len(tY) - 1``."""
        return len(self._tY) - 1

    def tTheta(self):
        """Weight time points: nodes and midpoints, ``t_0, m_0, t_1, ..., t_n``."""
        t = self._tY
        out = []
        for i in range(len(t) - 1):
            out += [t[i], 0.5 * (t[i] + t[i + 1])]
        return numpy.array(out + [t[-1]])

    # ------------------------------------------------------------------ sizes
    def _nTimes(self):
        return 2 * len(self._tY) - 1

    def _timePointsText(self):
        return f"2*len(tY)-1 = {self._nTimes()} nodes and midpoints"


    # ------------------------------------------------------------------ recurrence
    def _stepData(self, i):
        """Step size ``h_i`` and the weight columns of the four stages ``(a, c, c, b)``."""
        return self._tY[i + 1] - self._tY[i], (2 * i, 2 * i + 1, 2 * i + 1, 2 * i + 2)

    def _step(self, i, Th, Y, doDerivative=True, storeInterm=None):
        """One RK4 step; the record is the four stages' ``LayerStep(S_k, layer tmp)``."""
        hi, cols = self._stepData(i)
        stages, A = [], []
        for k, coef in enumerate((0.0, hi / 2, hi / 2, hi)):
            S = Y if k == 0 else Y + coef * A[-1]
            F, rec = self._layerStep(Th[cols[k]], S, doDerivative, storeInterm)
            A.append(F)
            stages.append(rec)
        return Y + hi * ((A[0] + A[3]) / 6 + (A[1] + A[2]) / 3), tuple(stages)

    def _stepJmv(self, i, Th, dTh, rec, dY):
        hi, cols = self._stepData(i)
        dA = []
        for k, coef in enumerate((0.0, hi / 2, hi / 2, hi)):
            if k == 0:
                dS = dY
            else:
                dS = coef * dA[-1] if dY is None else dY + coef * dA[-1]
            S, tk = rec[k]
            dA.append(self.layer.Jmv(None if dTh is None else dTh[cols[k]], dS, Th[cols[k]], S, tk))
        inc = hi * ((dA[0] + dA[3]) / 6 + (dA[1] + dA[2]) / 3)
        return inc if dY is None else dY + inc

    def _stepJTmv(self, i, Th, rec, P, grad, needP):
        hi, cols = self._stepData(i)
        gS = [None] * 4
        for k in (3, 2, 1, 0):
            if k == 3:
                gA = (hi / 6) * P
            elif k == 2:
                gA = (hi / 3) * P + hi * gS[3]
            elif k == 1:
                gA = (hi / 3) * P + (hi / 2) * gS[2]
            else:
                gA = (hi / 6) * P + (hi / 2) * gS[1]
            S, tk = rec[k]
            dthk, gS[k] = grad.JTmv(self.layer, gA, Th[cols[k]], S, tk, k > 0 or needP)
            grad.add(cols[k], dthk)
        return P + gS[0] + gS[1] + gS[2] + gS[3] if needP else P

    # ------------------------------------------------------------------ multilevel
    def prolongateWeights(self, theta):
        """Insert the interval midpoints as new nodes and interpolate the weights linearly.

        MUTATES the block: the new nodes are the old nodes and midpoints (``2 len(tY) - 1``
        nodes, i.e. twice the steps at half the sizes); the new weight time points (new
        nodes and their midpoints) get the old weights interpolated linearly in time
        (:func:`meganet.utils.inter1D`). Returns the new weights. Only for the identity
        time basis. For uniform nodes this is Meganet.m's ``prolongateWeights`` (which
        returns a new block and assumes uniform nodes).
        """
        self._requireIdentityBasis("prolongateWeights")
        tOld = self.tTheta()
        self._tY = tuple(float(v) for v in tOld)
        self.A = None
        return inter1D(theta, tOld, self.tTheta())

    ignoredMatlabOptions = {"nt": "the time points are tY"}
