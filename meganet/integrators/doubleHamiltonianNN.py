"""``DoubleHamiltonianNN``: two-layer Hamiltonian (Verlet) block (Meganet.m's ``DoubleHamiltonianNN``)."""
import numpy

from ..element import AbstractMeganetElement
from ..utils.inter1D import inter1D
from ._blockUtils import checkElement, checkH, checkNt, checkState, layerForward, resolveBackend

__all__ = ["DoubleHamiltonianNN"]


class DoubleHamiltonianNN(AbstractMeganetElement):
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

    def __init__(self, layer1, layer2, nt, h, useGPU=None, precision=None):
        name = type(self).__name__
        checkElement(layer1, name, "layer1")
        checkElement(layer2, name, "layer2")
        useGPU, precision = resolveBackend(useGPU, precision, [layer1, layer2], name)
        super().__init__(useGPU=useGPU, precision=precision)
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
        self.layer1 = layer1
        self.layer2 = layer2
        self.nt = checkNt(nt, name)
        self.h = checkH(h, name)
        self._propagateBackend()

    # ------------------------------------------------------------------ sizes
    def _nY(self):
        return tuple(self.layer1.sizeFeatOut())[-1]

    def nTheta(self):
        return self.nt * (self.layer1.nTheta() + self.layer2.nTheta())

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
        t = self.xp.concatenate([self.layer1.initTheta(rng=g), self.layer2.initTheta(rng=g)])
        return self.xp.tile(t, self.nt)

    # ------------------------------------------------------------------ forward
    def _thetas(self, theta):
        n1 = self.layer1.nTheta()
        T = theta.reshape(self.nt, -1)
        xp = self.xp
        return ([xp.ascontiguousarray(T[j, :n1]) for j in range(self.nt)],
                [xp.ascontiguousarray(T[j, n1:]) for j in range(self.nt)])

    def _cont(self, X):
        return self.xp.ascontiguousarray(X)

    def _run(self, theta, X, doDerivative=True):
        th1, th2 = self._thetas(theta)
        Y, Z = self.splitData(X)
        Y, Z = self._cont(Y), self._cont(Z)
        h = self.h
        for j in range(self.nt):
            F1, _ = self.layer1.forwardProp(th1[j], Z, doDerivative=doDerivative)
            Y = Y + h * F1
            F2, _ = self.layer2.forwardProp(th2[j], Y, doDerivative=doDerivative)
            Z = Z - h * F2
        return Y, Z

    def forwardProp(self, theta, Y, doDerivative=True):
        """Return ``(X_nt, tmp)``; ``tmp`` is ``X_nt`` (None if not doDerivative)."""
        YN, ZN = self._run(theta, Y, doDerivative)
        X = self.unsplitData(YN, ZN)
        return X, (X if doDerivative else None)

    def inverse(self, theta, XN):
        """Run the Verlet steps backwards: the input ``X_0`` from the output ``X_nt``.

        ``Z_j = Z_{j+1} + h F2(theta2_j, Y_{j+1})``, ``Y_j = Y_{j+1} - h F1(theta1_j, Z_j)``
        for ``j = nt-1 .. 0``. ``XN``: array ``(N, *sizeFeatOut())``.
        """
        where = f"{type(self).__name__}.inverse"
        self._validateArgs("inverse", {"theta": theta})
        checkState(self, where, "XN", XN, self.sizeFeatOut())
        th1, th2 = self._thetas(theta)
        Y, Z = (self._cont(v) for v in self.splitData(XN))
        h = self.h
        for j in range(self.nt - 1, -1, -1):
            F2, _ = self.layer2.forwardProp(th2[j], Y)
            Z = Z + h * F2
            F1, _ = self.layer1.forwardProp(th1[j], Z)
            Y = Y - h * F1
        return self.unsplitData(Y, Z)

    # ------------------------------------------------------------------ J products
    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        xp, h = self.xp, self.h
        L1, L2 = self.layer1, self.layer2
        if dtheta is None and dY is None:
            return xp.zeros_like(Y)
        th1, th2 = self._thetas(theta)
        dth1 = dth2 = None
        if dtheta is not None:
            dth1, dth2 = self._thetas(dtheta)
        Yc, Zc = (self._cont(v) for v in self.splitData(Y))
        if dY is not None:
            dYc, dZc = (self._cont(v) for v in self.splitData(dY))
        else:
            dYc, dZc = xp.zeros_like(Yc), None
        for j in range(self.nt):
            F1, t1 = layerForward(L1, th1[j], Zc)
            d1 = L1.Jmv(dth1[j] if dth1 is not None else None, dZc, th1[j], Zc, t1)
            dYc = dYc + h * d1
            Yc = Yc + h * F1
            F2, t2 = layerForward(L2, th2[j], Yc)
            d2 = L2.Jmv(dth2[j] if dth2 is not None else None, dYc, th2[j], Yc, t2)
            dZc = -h * d2 if dZc is None else dZc - h * d2
            Zc = Zc - h * F2
        return self.unsplitData(dYc, dZc)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        wantTh, wantY = bool(doDerivative[0]), bool(doDerivative[1])
        if not (wantTh or wantY):
            return None, None
        xp, h = self.xp, self.h
        L1, L2 = self.layer1, self.layer2
        th1, th2 = self._thetas(theta)
        XN = tmp if tmp is not None else self.unsplitData(*self._run(theta, Y))
        Yc, Zc = (self._cont(v) for v in self.splitData(XN))
        WY, WZ = (self._cont(v) for v in self.splitData(W))
        n1, n2 = L1.nTheta(), L2.nTheta()
        G = None
        if wantTh:
            G = xp.zeros((self.nt, n1 + n2) if reduceDim else (W.shape[0], self.nt, n1 + n2),
                         dtype=self.dtype)
        for j in range(self.nt - 1, -1, -1):
            # undo Z_{j+1} = Z_j - h F2(Y_{j+1})
            F2, t2 = layerForward(L2, th2[j], Yc)
            g2, dWY = L2.JTmv(WZ, th2[j], Yc, t2, doDerivative=(wantTh, True), reduceDim=reduceDim)
            WY = WY - h * dWY
            Zc = Zc + h * F2
            # undo Y_{j+1} = Y_j + h F1(Z_j)
            F1, t1 = layerForward(L1, th1[j], Zc)
            needZ = wantY or j > 0
            g1, dWZ = L1.JTmv(WY, th1[j], Zc, t1, doDerivative=(wantTh, needZ), reduceDim=reduceDim)
            if needZ:
                WZ = WZ + h * dWZ
            if j > 0:
                Yc = Yc - h * F1
            if wantTh:
                if reduceDim:
                    G[j, :n1] = h * g1
                    G[j, n1:] = -h * g2
                else:
                    G[:, j, :n1] = h * g1
                    G[:, j, n1:] = -h * g2
        dth = None
        if wantTh:
            dth = G.reshape(-1) if reduceDim else G.reshape(W.shape[0], -1)
        return dth, (self.unsplitData(WY, WZ) if wantY else None)

    # ------------------------------------------------------------------ multilevel
    def prolongateWeights(self, theta):
        """Double ``nt``, halve ``h``, interpolate the weights linearly in time.

        MUTATES the block and returns the new weights (see :meth:`ResNN.prolongateWeights`).
        """
        t1 = [j * self.h for j in range(self.nt)]
        t2 = [i * self.h / 2 for i in range(2 * self.nt)]
        theta2 = inter1D(theta, t1, t2)
        self.nt, self.h = 2 * self.nt, self.h / 2
        return theta2

    def _mapSteps(self, theta, name):
        th1, th2 = self._thetas(theta)
        f1 = getattr(self.layer1, name)
        f2 = getattr(self.layer2, name)
        out = []
        for j in range(self.nt):
            out += [f1(th1[j]), f2(th2[j])]
        return self.xp.concatenate(out)

    def restrictConvStencils(self, theta):
        """Every step's layer weights through the layers' ``restrictConvStencils``."""
        return self._mapSteps(theta, "restrictConvStencils")

    def prolongateConvStencils(self, theta):
        """Every step's layer weights through the layers' ``prolongateConvStencils``."""
        return self._mapSteps(theta, "prolongateConvStencils")
