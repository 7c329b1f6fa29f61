"""``DoubleHamiltonianNN``: two-layer Hamiltonian (Verlet) block (Meganet.m's ``DoubleHamiltonianNN``)."""
import numpy

from typing import Any, NamedTuple

from ..validation import checkElement
from .timeSteppingBlock import TimeSteppingBlock

__all__ = ["DoubleHamiltonianNN"]


class DoubleHamiltonianStep(NamedTuple):
    """Record of step ``j``: layer1's input ``Z_j`` and ``tmp``, layer2's input ``Y_{j+1}``
    and ``tmp``."""

    Z: Any
    tmp1: Any
    Y: Any
    tmp2: Any


class DoubleHamiltonianNN(TimeSteppingBlock):
    """Hamiltonian block on features split into ``X = [Y, Z]`` along the last axis.

    The paper's Hamiltonian CNN, symplectic Verlet integration, for ``j = 0 .. nt-1``::

        Y_{j+1} = Y_j + h F1(theta1_j, Z_j)
        Z_{j+1} = Z_j - h F2(theta2_j, Y_{j+1})

    with ``F1 = layer1``, ``F2 = layer2`` (with ``DoubleSymLayer``s,
    ``F_sym = -K^T sigma(K . + b)``: the paper's
    ``Y_{j+1} = Y_j + h F_sym(theta1, Z_j)``, ``Z_{j+1} = Z_j - h F_sym(theta2, Y_{j+1})``;
    the same order and signs as Meganet.m). Output ``X_nt = [Y_nt, Z_nt]``.

    Splitting. The last axis (channels of images ``(N, H, W, C)``, the feature axis of
    vectors ``(N, n)``) holds ``Y`` first, then ``Z``. ``Y`` is layer2's input and
    layer1's output, ``Z`` is layer1's input and layer2's output, so the layers must
    satisfy ``layer1.sizeFeatOut() == layer2.sizeFeatIn()`` and
    ``layer1.sizeFeatIn() == layer2.sizeFeatOut()`` (and equal image sizes). For the usual
    square layers (DoubleSymLayer) both parts have the size of layer1's input, i.e. the
    features are split in two halves. (Meganet.m's ``splitData`` gives ``Y`` the size of
    layer1's input, which agrees with this only for square layers.)

    Weights: per step ``[theta1_j; theta2_j]``, ``nt`` contiguous chunks, step 0 first
    (no time basis, as Meganet.m).

    Derivatives (``J1_j``/``J2_j`` the layers' Jacobians at ``(theta1_j, Z_j)`` and
    ``(theta2_j, Y_{j+1})``)::

        Jmv:   dY_{j+1} = dY_j + h J1_j [dtheta1_j; dZ_j]
               dZ_{j+1} = dZ_j - h J2_j [dtheta2_j; dY_{j+1}]
        JTmv:  (WY, WZ) = W split; for j = nt-1 .. 0:
                   G2_j = -h J2_theta^T WZ;   WY = WY - h J2_Y^T WZ
                   G1_j =  h J1_theta^T WY;   WZ = WZ + h J1_Y^T WY
               dX = [WY, WZ]

    Reversibility and memory: ``Z_j = Z_{j+1} + h F2(theta2_j, Y_{j+1})``,
    ``Y_j = Y_{j+1} - h F1(theta1_j, Z_j)``. ``forwardProp``'s ``tmp`` is the output array
    itself (no copy); ``JTmv`` recomputes the states backwards along with the adjoint and
    ``Jmv`` forwards from the input, so the memory of forward + backward does not grow
    with ``nt``. :meth:`inverse` exposes the backward run. Do not modify the output in
    place before calling the derivative methods with ``tmp``.

    Parameters
    ----------
    layer1, layer2 : elements (see Splitting)
    nt : int >= 1
    h : float > 0
    useGPU, precision : optional
        Default: the layers'; given values are pushed to both.
    """

    reversible = True

    def __init__(self, layer1, layer2, nt, h, useGPU=None, precision=None):
        name = type(self).__name__
        checkElement(name, "layer1", layer1)
        checkElement(name, "layer2", layer2)
        i1, o1 = tuple(layer1.sizeFeatIn()), tuple(layer1.sizeFeatOut())
        i2, o2 = tuple(layer2.sizeFeatIn()), tuple(layer2.sizeFeatOut())
        if o1 != i2 or i1 != o2:
            raise ValueError(
                f"{name}: layer1 maps Z -> Y-shaped updates and layer2 Y -> Z-shaped updates, so "
                f"layer1.sizeFeatOut() must equal layer2.sizeFeatIn() and layer1.sizeFeatIn() must "
                f"equal layer2.sizeFeatOut(); got layer1: {i1} -> {o1}, layer2: {i2} -> {o2}")
        if len(i1) != len(o1) or i1[:-1] != o1[:-1]:
            raise ValueError(f"{name}: Y and Z are stacked along the last axis, so all axes but the "
                             f"last must agree; got Y of shape {o1} and Z of shape {i1}")
        super().__init__({"layer1": layer1, "layer2": layer2}, nt, h, useGPU=useGPU,
                         precision=precision)

    # ------------------------------------------------------------------ sizes
    def _nY(self):
        return tuple(self.layer1.sizeFeatOut())[-1]

    def _nThetaStep(self):
        return self.layer1.nTheta() + self.layer2.nTheta()

    def sizeFeatIn(self):
        y, z = tuple(self.layer1.sizeFeatOut()), tuple(self.layer1.sizeFeatIn())
        return y[:-1] + (y[-1] + z[-1],)

    def sizeFeatOut(self):
        return self.sizeFeatIn()

    def split(self, theta):
        """``(theta1, theta2)``: views of shape ``(nt, layer1.nTheta())``, ``(nt, layer2.nTheta())``."""
        n1 = self.layer1.nTheta()
        T = theta.reshape(self.nt, -1)
        return T[:, :n1], T[:, n1:]

    def splitData(self, X):
        """``(Y, Z)``: views of ``X`` along the last axis."""
        c = self._nY()
        return X[..., :c], X[..., c:]

    def unsplitData(self, Y, Z):
        """``[Y, Z]`` concatenated along the last axis."""
        return self.xp.concatenate([Y, Z], axis=-1)

    def initTheta(self, rng=None):
        """Both layers' initial weights, repeated at every step."""
        g = numpy.random.default_rng(rng)
        return self._initCoeffs(self.xp.concatenate([self.layer1.initTheta(rng=g),
                                                     self.layer2.initTheta(rng=g)]))

    def _stepParts(self):
        n1 = self.layer1.nTheta()
        return ((self.layer1, 0, n1), (self.layer2, n1, n1 + self.layer2.nTheta()))

    # ------------------------------------------------------------------ states
    def _initState(self, X):
        return tuple(self.xp.ascontiguousarray(v) for v in self.splitData(X))

    def _output(self, X):
        return self.unsplitData(*X)

    def _finalTmp(self, X, Z):
        return Z

    def _stateFromTmp(self, tmp):
        return self._initState(tmp)

    def _initTangent(self, dX, X):
        if dX is None:
            return (self.xp.zeros(X.shape[:-1] + (self._nY(),), dtype=X.dtype), None)
        return self._initState(dX)

    def _tangentOutput(self, dX):
        return self.unsplitData(*dX)

    _initAdjoint = _initState
    _adjointOutput = _output

    # ------------------------------------------------------------------ recurrence
    def _thetas(self, Th, j):
        n1 = self.layer1.nTheta()
        return Th[j, :n1], Th[j, n1:]

    def _step(self, j, Th, X, doDerivative=True, storeInterm=None):
        """``Y_{j+1} = Y_j + h F1(theta1_j, Z_j)``, ``Z_{j+1} = Z_j - h F2(theta2_j, Y_{j+1})``."""
        Y, Z = X
        th1, th2 = self._thetas(Th, j)
        F1, t1 = self.layer1.forwardProp(th1, Z, doDerivative=doDerivative, storeInterm=storeInterm)
        Y = Y + self.h * F1
        F2, t2 = self.layer2.forwardProp(th2, Y, doDerivative=doDerivative, storeInterm=storeInterm)
        return (Y, Z - self.h * F2), DoubleHamiltonianStep(Z, t1, Y, t2), (F1, F2)

    def _inverseStep(self, j, Th, X, storeInterm=None):
        """``Z_j = Z_{j+1} + h F2(theta2_j, Y_{j+1})``, ``Y_j = Y_{j+1} - h F1(theta1_j, Z_j)``."""
        Y, Z = X
        th1, th2 = self._thetas(Th, j)
        F2, t2 = self.layer2.forwardProp(th2, Y, storeInterm=storeInterm)
        Znew = Z + self.h * F2
        F1, t1 = self.layer1.forwardProp(th1, Znew, storeInterm=storeInterm)
        return (Y - self.h * F1, Znew), DoubleHamiltonianStep(Znew, t1, Y, t2)

    def _stepJmv(self, j, Th, dTh, rec, dX):
        dY, dZ = dX
        th1, th2 = self._thetas(Th, j)
        dth1, dth2 = self._thetas(dTh, j) if dTh is not None else (None, None)
        dY = dY + self.h * self.layer1.Jmv(dth1, dZ, th1, rec.Z, rec.tmp1)
        d2 = self.layer2.Jmv(dth2, dY, th2, rec.Y, rec.tmp2)
        return (dY, -self.h * d2 if dZ is None else dZ - self.h * d2)

    def _stepJTmv(self, j, Th, rec, P, grad, needP):
        WY, WZ = P
        th1, th2 = self._thetas(Th, j)
        g2, dWY = grad.JTmv(self.layer2, WZ, th2, rec.Y, rec.tmp2, True)
        WY = WY - self.h * dWY
        g1, dWZ = grad.JTmv(self.layer1, WY, th1, rec.Z, rec.tmp1, needP)
        if needP:
            WZ = WZ + self.h * dWZ
        grad.add(j, g1, self.h)
        grad.add(j, g2, -self.h, self.layer1.nTheta())
        return (WY, WZ)

    # ------------------------------------------------------------------ inverse
    def inverse(self, theta, XN):
        """Run the Verlet steps backwards: the input ``X_0`` from the output ``X_nt``.

        ``Z_j = Z_{j+1} + h F2(theta2_j, Y_{j+1})``, ``Y_j = Y_{j+1} - h F1(theta1_j, Z_j)``
        for ``j = nt-1 .. 0``. ``XN``: array ``(N, *sizeFeatOut())``.
        """
        self._checkInverseArgs({"XN": XN})
        return self._output(self._backward(self._stepWeights(theta), self._initState(XN)))
