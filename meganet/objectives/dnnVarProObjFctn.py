"""``DnnVarProObjFctn``: variable projection -- the classifier weights are solved for inside."""
import numpy

from ..linops.linearOperator import LinearOperator
from ..regularization.tikhonovReg import TikhonovReg
from .classObjFctn import ClassObjFctn
from ._dnnObjective import DnnObjective, addRegularizers, historyEntries

__all__ = ["DnnVarProObjFctn"]


class DnnVarProObjFctn(DnnObjective):
    """Reduced objective ``Phi(theta) = min_W J(theta, W)`` (Meganet.m's ``dnnVarProObjFctn``).

    With ``YN = net(theta, Y)`` and a strictly convex inner problem (loss convex in ``W``
    plus Tikhonov regularization of ``W`` with ``alpha > 0``)::

        W(theta)   = argmin_W  S(W, YN(theta), C) + R_W(W)          (solved by optClass)
        Phi(theta) = S(W(theta), YN(theta), C) + R_W(W(theta)) + R_theta(theta)
        dPhi/dtheta = J_theta^T dS/dYN (W(theta), YN) + dR_theta

    The gradient formula needs no derivative of ``W(theta)``: at the inner minimiser
    ``dJ/dW = 0`` (envelope theorem). It is exact up to the accuracy of the inner solve,
    which is therefore run to tight tolerances by default (Newton with the exact Hessian,
    warm-started from the previous solution). The solution is returned as ``para['W']``
    (flat), so optimizers evaluate validation objectives at ``[theta; W]``.

    Called as ``Jc, para, dJ = fctn(theta, idx)`` (use SGD, SD, NLCG or LBFGS as the outer
    optimizer), or, with ``gnHessian=True``, as ``Jc, para, dJ, H, PC = fctn(theta, idx)``
    with the Gauss-Newton Hessian of the network weights at the inner solution (for
    Newton and TRNewton, as Meganet.m's drivers use it)::

        H = J_theta^T d2S/dYN^2 J_theta + d2R_theta       at W = W(theta)

    (a matrix-free LinearOperator; it leaves out the coupling through ``dW/dtheta``, which
    makes it an upper bound of the reduced Gauss-Newton Hessian; ``PC`` is None). All
    selected examples are propagated at once.

    Parameters
    ----------
    net, pRegTheta, pLoss, Y, C :
        As :class:`~meganet.objectives.DnnObjFctn`.
    pRegW : TikhonovReg
        With ``alpha > 0`` (makes the inner problem strictly convex); required.
    optClass : optimizer, optional
        Inner solver with ``solve(fctn, W0) -> (W, His, WOpt)`` that accepts five-output
        objectives (:class:`~meganet.objectives.ClassObjFctn`). Default (None): Newton's
        method with the exact Hessian, steps from conjugate gradients solved to rounding
        accuracy, backtracking on the objective with an allowance for rounding, until
        ``|dJ/dW| <= innerTol * max(1, |dJ/dW(W0)|)`` or stagnation at rounding level.
    nW : int
        Number of classifier weights (``nClass * (nFeatOut + addBias)``).
    innerTol : float, optional
        Default ``1e-13`` (double) or ``1e-5`` (single precision).
    maxInnerIter : int, default 50
    gnHessian : bool, default False
        Also return the Gauss-Newton Hessian ``H`` and ``PC = None``.
    useGPU, precision : optional
        As :class:`~meganet.objectives.DnnObjFctn`.
    """

    def __init__(self, net, pRegTheta, pLoss, pRegW, optClass, Y, C, nW, innerTol=None,
                 maxInnerIter=50, gnHessian=False, useGPU=None, precision=None):
        super().__init__(net, pRegTheta, pLoss, pRegW, Y, C, useGPU=useGPU, precision=precision)
        if not isinstance(pRegW, TikhonovReg) or not float(numpy.min(pRegW.alpha)) > 0:
            raise ValueError("DnnVarProObjFctn: pRegW must be a TikhonovReg with alpha > 0 (it makes "
                             f"the inner problem strictly convex); got {pRegW!r}")
        if not (isinstance(nW, (int, numpy.integer)) and nW >= 1):
            raise ValueError(f"DnnVarProObjFctn: nW must be a positive integer; got {nW!r}")
        self.nW = int(nW)
        self.optClass = optClass
        self.innerTol = (1e-13 if net.precision == "double" else 1e-5) if innerTol is None else float(innerTol)
        self.maxInnerIter = int(maxInnerIter)
        self.gnHessian = bool(gnHessian)
        self.WPrev = None

    def _solveInner(self, inner, W0):
        """Minimise the strictly convex inner problem (``optClass``, or Newton-CG)."""
        if self.optClass is not None:
            return self.optClass.solve(inner, W0)[0]
        from ..optim import SteihaugPCG
        eps = float(numpy.finfo(self.net.dtype).eps)
        cg = SteihaugPCG(tol=eps, maxIter=2 * self.nW)
        W = W0
        J, _, g, H, _ = inner(W)
        g0 = gn = float(self.net.xp.linalg.norm(g))
        for _ in range(self.maxInnerIter):
            if gn <= self.innerTol * max(1.0, g0):
                break
            s = cg.solve(H, -g)[0]
            mu, accepted = 1.0, False
            while mu >= 2.0 ** -20:         # backtracking on J with a rounding allowance
                Wt = W + mu * s
                Jt = inner(Wt, doDerivative=False)[0]
                if float(Jt) <= float(J) + 100 * eps * abs(float(J)):
                    accepted = True
                    break
                mu /= 2
            if not accepted:
                break
            W = Wt
            J, _, g, H, _ = inner(W)
            gnNew = float(self.net.xp.linalg.norm(g))
            if gnNew >= gn and gnNew <= 1e3 * eps * max(1.0, g0):
                break                       # stagnation at rounding level
            gn = gnNew
        return W

    def split(self, x):
        nth = self.net.nTheta()
        if x.ndim != 1 or x.shape[0] != nth:
            raise ValueError(f"DnnVarProObjFctn: x must be theta, a flat vector of net.nTheta()={nth} "
                             f"entries; got shape {tuple(x.shape)}")
        return x, None

    def solveW(self, theta, idx=None):
        """The inner solution ``W(theta)`` on the examples ``idx`` (and the network output)."""
        ids = self._chunks(idx)
        ids = numpy.concatenate(ids)
        Y, C = self._data(ids, augment=False)
        YN, tmp = self.net.forwardProp(theta, Y)
        inner = ClassObjFctn(self.pLoss, self.pRegW, YN, C)
        W0 = self.WPrev if self.WPrev is not None and self.WPrev.shape == (self.nW,) \
            else self.net.xp.zeros(self.nW, dtype=self.net.dtype)
        W = self._solveInner(inner, W0)
        self.WPrev = W
        return W, Y, C, YN, tmp

    def eval(self, x, idx=None, doDerivative=True):
        theta, _ = self.split(x)
        W, Y, C, YN, tmp = self.solveW(theta, idx)
        F, lossPara, _, _, dYF, _ = self.pLoss.getMisfit(W, YN.reshape(YN.shape[0], -1), C,
                                                         doDerivative=doDerivative)
        para = {"F": F, "lossPara": lossPara, "W": W}
        Jc, regs = addRegularizers(F, para, ((self.pRegTheta, theta, "theta"), (self.pRegW, W, "W")))
        para["hisNames"], para["hisVals"] = historyEntries(self.pLoss, lossPara, regs)
        if not doDerivative:
            return (Jc, para, None, None, None) if self.gnHessian else (Jc, para, None)
        dJ = self.net.JTmv(dYF.reshape(YN.shape), theta, Y, tmp, doDerivative=(True, False))[0]
        d2Rth = None
        for _, key, _, dR, d2R in regs:
            if key == "theta":
                dJ, d2Rth = dJ + dR, d2R
        if not self.gnHessian:
            return Jc, para, dJ
        return Jc, para, dJ, self._thetaHessian(theta, W, Y, C, d2Rth), None

    def _thetaHessian(self, theta, W, Y, C, d2Rth):
        """The theta-block of the Gauss-Newton Hessian at ``[theta; W]``."""
        xp = self.net.xp
        nth = theta.size
        full = self._gaussNewton(theta, W, [(Y, C, 1.0)], d2Rth, None)
        zW = xp.zeros(W.size, dtype=theta.dtype)

        def Hmv(v):
            return (full @ xp.concatenate([v.reshape(-1), zW]))[:nth]

        return LinearOperator((nth,), (nth,), Hmv, Hmv, useGPU=self.net.useGPU, precision=self.net.precision)

    def __call__(self, x, idx=None, doDerivative=True):
        return self.eval(x, idx, doDerivative=doDerivative)

    def getLabels(self, x, idx=None):
        """One-hot predicted labels with the classifier solved for ``theta = x``."""
        theta, _ = self.split(x)
        W = self.solveW(theta)[0]
        return self._labels(theta, W, idx)
