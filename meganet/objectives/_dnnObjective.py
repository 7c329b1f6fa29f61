"""Shared machinery of the network objective functions (private).

Objective (``x = [theta; W]``, ``N`` examples, ``YN(theta) = net(theta, Y)``)::

    J(x) = S(W, YN(theta), C) + R_theta(theta) + R_W(W)

with ``S`` the loss (a mean over examples), evaluated in chunks of ``batchSize`` examples
to bound memory: for chunks ``k`` with ``n_k`` examples, ``S = sum_k (n_k/N) S_k`` and

    dJ/dtheta = sum_k (n_k/N) J_k^T dS_k/dYN + dR_theta
    dJ/dW     = sum_k (n_k/N) dS_k/dW        + dR_W

``J_k`` is the network's Jacobian in ``theta`` on chunk ``k`` (applied with ``JTmv``).
The Gauss-Newton Hessian is block diagonal, as in Meganet.m::

    H = blkdiag( sum_k (n_k/N) J_k^T d2S_k/dYN^2 J_k + d2R_theta,
                 sum_k (n_k/N) d2S_k/dW^2 + d2R_W )

and is returned as a matrix-free LinearOperator whose products recompute each chunk's
forward pass (no memory is held between calls).
"""
import numpy

from ..backend import toHost
from ..linops.linearOperator import LinearOperator
from ..validation import isArray

__all__ = []


def addRegularizers(F, para, parts):
    """``F`` plus each regularizer's value; returns ``(Jc, [(reg, key, para, dR, d2R), ...])``.

    ``parts`` holds ``(regularizer or None, x, key)``; the values go to ``para['R<key>']``.
    """
    Jc, out = F, []
    for reg, x, key in parts:
        if reg is None:
            continue
        R, pR, dR, d2R = reg.regularizer(x)
        Jc = Jc + R
        para["R" + key] = R
        out.append((reg, key, pR, dR, d2R))
    return Jc, out


def historyEntries(loss, lossPara, regs):
    """History names and values: the loss's, then each regularizer's (first name tagged)."""
    names = list(loss.hisNames()[0])
    vals = list(loss.hisVals(lossPara))
    for reg, key, pR, _, _ in regs:
        rn = list(reg.hisNames()[0])
        rn[0] = f"{rn[0]}({key})"
        names += rn
        vals += list(numpy.atleast_1d(reg.hisVals(pR)))
    return names, vals


class DnnObjective:
    """Base of DnnObjFctn and DnnBatchObjFctn (see the module docstring)."""

    def __init__(self, net, pRegTheta, pLoss, pRegW, Y, C, batchSize=numpy.inf, dataAugment=None,
                 useGPU=None, precision=None):
        name = type(self).__name__
        self.net = net
        self.pRegTheta = pRegTheta
        self.pLoss = pLoss
        self.pRegW = pRegW
        # Meganet.m's options: the backend of the network and the regularizers (the data
        # chunks are moved to the network's backend when used)
        for part in (net, pRegTheta, pRegW):
            if part is not None and useGPU is not None:
                part.useGPU = useGPU
            if part is not None and precision is not None:
                part.precision = precision
        if not isArray(Y):
            raise TypeError(f"{name}: Y must be an array (NumPy or device); got {type(Y).__name__}")
        if Y.dtype.kind != "f":
            raise TypeError(f"{name}: Y must hold floating point features; got dtype {Y.dtype} "
                            "(convert and scale the data explicitly, e.g. Y.astype(np.float32) / 255)")
        feat = tuple(net.sizeFeatIn())
        if tuple(Y.shape[1:]) != feat:
            raise ValueError(f"{name}: Y must have shape (N,) + net.sizeFeatIn() = (N, "
                             f"{', '.join(map(str, feat))}); got {tuple(Y.shape)}")
        if not isArray(C) or C.ndim not in (1, 2) or C.shape[0] != Y.shape[0]:
            got = tuple(C.shape) if isArray(C) else type(C).__name__
            raise ValueError(f"{name}: C must have shape (N, nClass) (or (N,) class indices) with "
                             f"N={Y.shape[0]} as Y; got {got}")
        self.Y = Y
        self.C = C
        if not (batchSize == numpy.inf or (isinstance(batchSize, (int, numpy.integer)) and batchSize >= 1)):
            raise ValueError(f"{name}: batchSize must be a positive integer (or inf); got {batchSize!r}")
        self.batchSize = batchSize
        if dataAugment is not None and not callable(dataAugment):
            raise TypeError(f"{name}: dataAugment must be callable Y -> Y; got {type(dataAugment).__name__}")
        self.dataAugment = dataAugment
        for reg, what in ((pRegTheta, "pRegTheta"), (pRegW, "pRegW")):
            if reg is not None and not callable(getattr(reg, "regularizer", None)):
                raise TypeError(f"{name}: {what} must be a regularizer (with a method regularizer(x)) "
                                f"or None; got {type(reg).__name__}")
        if not callable(getattr(pLoss, "getMisfit", None)):
            raise TypeError(f"{name}: pLoss must be a loss (with a method getMisfit(W, Y, C)); "
                            f"got {type(pLoss).__name__}")

    # ------------------------------------------------------------------ sizes
    def nData(self):
        """Number of examples."""
        return int(self.Y.shape[0])

    def getState(self):
        """The network's state outside the weights (``net.getState()``; checkpoints keep it)."""
        return self.net.getState()

    def setState(self, state):
        """Restore a state returned by :meth:`getState` (``net.setState(state)``)."""
        self.net.setState(state)

    def split(self, x):
        """``(theta, W)`` views of ``x``."""
        nth = self.net.nTheta()
        if x.ndim != 1 or x.shape[0] <= nth:
            raise ValueError(f"{type(self).__name__}: x must be a flat vector [theta; W] with more than "
                             f"net.nTheta()={nth} entries; got shape {tuple(x.shape)}")
        return x[:nth], x[nth:]

    # ------------------------------------------------------------------ data
    def _chunks(self, idx):
        """Index arrays of the chunks (consecutive pieces of ``idx``, in the given order)."""
        idx = numpy.arange(self.nData()) if idx is None else numpy.asarray(toHost(idx)).reshape(-1)
        if idx.size == 0:
            raise ValueError(f"{type(self).__name__}: idx selects no examples")
        if idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= self.nData():
            raise ValueError(f"{type(self).__name__}: idx must hold integer indices in [0, {self.nData()}); "
                             f"got dtype {idx.dtype}, range [{idx.min()}, {idx.max()}]")
        bs = idx.size if self.batchSize == numpy.inf else int(self.batchSize)
        return [idx[i:i + bs] for i in range(0, idx.size, bs)]

    def _data(self, ids, augment):
        net = self.net
        Y = self.Y[ids]
        if augment and self.dataAugment is not None:
            Y = self.dataAugment(Y)
        Y = net.asArray(Y)
        C = self.C[ids]
        C = net.asArray(C) if C.dtype.kind == "f" else net.xp.asarray(C)
        return Y, C

    # ------------------------------------------------------------------ evaluation
    def __call__(self, x, idx=None, doDerivative=True):
        """``(Jc, para, dJ, H, PC)`` at ``x`` on the examples ``idx`` (all if None).

        ``dataAugment`` (if any) is applied to the examples of evaluations that compute the
        gradient (training mini-batches), not to value-only evaluations. With
        ``doDerivative=False``, ``dJ`` and ``H`` are None.
        """
        return self.eval(x, idx, doDerivative=doDerivative)

    def eval(self, x, idx=None, doDerivative=True):
        theta, W = self.split(x)
        net, loss = self.net, self.pLoss
        xp = net.xp
        chunks = self._chunks(idx)
        n = float(sum(c.size for c in chunks))
        F = 0.0
        lossPara = None
        dth = xp.zeros_like(theta) if doDerivative else None
        dW = xp.zeros_like(W) if doDerivative else None
        data = []
        for ids in chunks:
            Yk, Ck = self._data(ids, augment=doDerivative)
            YN, tmp = net.forwardProp(theta, Yk, doDerivative=doDerivative)
            Fk, pk, dWk, _, dYk, _ = loss.getMisfit(W, YN.reshape(YN.shape[0], -1), Ck,
                                                    doDerivative=doDerivative)
            w = ids.size / n
            F = F + w * Fk
            lossPara = pk if lossPara is None else lossPara + pk
            if doDerivative:
                dth = dth + w * net.JTmv(dYk.reshape(YN.shape), theta, Yk, tmp,
                                         doDerivative=(True, False))[0]
                dW = dW + w * dWk
                data.append((Yk, Ck, w))
        para = {"F": F, "lossPara": lossPara}
        Jc, regs = addRegularizers(F, para, ((self.pRegTheta, theta, "theta"), (self.pRegW, W, "W")))
        para["hisNames"], para["hisVals"] = historyEntries(loss, lossPara, regs)
        d2Rth = d2RW = None
        if doDerivative:
            for reg, key, pR, dR, d2R in regs:
                if key == "theta":
                    dth, d2Rth = dth + dR, d2R
                else:
                    dW, d2RW = dW + dR, d2R
        if not doDerivative:
            return Jc, para, None, None, None
        dJ = xp.concatenate([dth, dW])
        H = self._gaussNewton(theta, W, data, d2Rth, d2RW)
        return Jc, para, dJ, H, None

    def _gaussNewton(self, theta, W, data, d2Rth, d2RW):
        net, loss = self.net, self.pLoss
        nth, nW = theta.size, W.size

        def Hmv(v):
            v = v.reshape(-1)
            vth, vW = v[:nth], v[nth:]
            hth = net.xp.zeros_like(vth)
            hW = net.xp.zeros_like(vW)
            for Yk, Ck, w in data:
                YN, tmp = net.forwardProp(theta, Yk)
                _, _, _, d2WF, _, d2YF = loss.getMisfit(W, YN.reshape(YN.shape[0], -1), Ck)
                JV = net.Jthetamv(vth, theta, Yk, tmp)
                HJV = (d2YF @ JV.reshape(JV.shape[0], -1)).reshape(JV.shape)
                hth = hth + w * net.JTmv(HJV, theta, Yk, tmp, doDerivative=(True, False))[0]
                hW = hW + w * (d2WF @ vW)
            if d2Rth is not None:
                hth = hth + d2Rth @ vth
            if d2RW is not None:
                hW = hW + d2RW @ vW
            return net.xp.concatenate([hth, hW])

        return LinearOperator((nth + nW,), (nth + nW,), Hmv, Hmv,
                              useGPU=net.useGPU, precision=net.precision)

    # ------------------------------------------------------------------ history and labels
    def hisNames(self):
        """``(names, formats)`` of the history columns (loss, then regularizers)."""
        names, fmts = (list(v) for v in self.pLoss.hisNames())
        for reg, key in ((self.pRegTheta, "theta"), (self.pRegW, "W")):
            if reg is not None:
                rn, rf = (list(v) for v in reg.hisNames())
                rn[0] = f"{rn[0]}({key})"
                names += rn
                fmts += rf
        return names, fmts

    def hisVals(self, para):
        """History values of ``para`` (as in the ``para['hisVals']`` entry)."""
        return numpy.asarray(para["hisVals"], dtype=float)

    def getLabels(self, x, idx=None):
        """One-hot predicted labels of the examples ``idx`` (all if None), computed in chunks."""
        theta, W = self.split(x)
        return self._labels(theta, W, idx)

    def _labels(self, theta, W, idx):
        out = []
        for ids in self._chunks(idx):
            Yk, _ = self._data(ids, augment=False)
            YN, _ = self.net.forwardProp(theta, Yk, doDerivative=False)
            out.append(self.pLoss.getLabels(W, YN.reshape(YN.shape[0], -1)))
        return self.net.xp.concatenate(out)
