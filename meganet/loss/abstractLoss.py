"""Shared interface of the loss functions (Meganet.m's ``loss/`` folder).

Layout
------
``Y``
    Network output, examples along the first axis: ``(N, nFeat)``, or any ``(N, ...)``
    array, which is flattened per example (``nFeat = prod(Y.shape[1:])``).
``C``
    Targets, ``(N, nClass)`` (see each loss for the labels it accepts).
``W``
    Classifier weights, ONE flat vector of ``nClass * (nFeat + addBias)`` entries, viewed as
    the C-order matrix ``Wm`` of shape ``(nClass, nFeat + addBias)``. With ``addBias`` the
    bias is the LAST column of ``Wm`` (Meganet.m appends a row of ones to ``Y``).

With ``Yaug = [Y, 1]`` (``(N, nFeat + 1)``; just ``Y`` without bias) the scores are
``S = Yaug Wm^T`` of shape ``(N, nClass)``. Every loss is an average over examples,
``F = 1/N sum_i l(S_i, C_i)``, so with ``dS = dF/dS`` and the Hessian-vector product
``U -> H_S U`` of ``F`` in ``S``::

    dWF  = vec(dS^T Yaug)                            (nClass (nFeat + addBias),)
    dYF  = dS Wf           (Wf = Wm without the bias column; reshaped like Y)
    d2WF V = vec(H_S(Yaug Vm^T)^T Yaug)              (Vm: V as a matrix like Wm)
    d2YF T = H_S(T Wf^T) Wf

Because ``S`` is linear in ``W`` and in ``Y``, ``d2WF`` and ``d2YF`` are the exact
Hessians of ``F`` in ``W`` and in ``Y`` (plus the optional damping ``theta`` of
``SoftmaxLoss``/``LogRegressionLoss``).

Call ``F, para, dWF, d2WF, dYF, d2YF = loss.getMisfit(W, Y, C)`` as in Meganet.m.
``d2WF`` and ``d2YF`` are :class:`~meganet.linops.LinearOperator` objects (symmetric; their
domain is ``(nW,)`` and ``Y.shape``; flat inputs are accepted too). ``F`` is a 0-d array and
``para`` a 1-D array ``[sum of the per-example losses, N, nErrors]``, both on the backend of
``Y``; ``hisVals(para)`` gives host values for printing (sums of ``para`` over mini-batches
give epoch values). ``getMisfit(..., doDerivative=False)`` returns ``(F, para, None, None,
None, None)``.

``eval(S, C, reduceDim=True)`` (Meganet.m's ``eval``) evaluates the loss on given scores
``S`` (``(N, nClass)``) and returns ``(F, para, dF, d2F, H)``: ``F`` the mean loss (the
``(N,)`` per-example terms ``l_i / N`` when ``reduceDim`` is false, which sum to ``F``),
``dF = dF/dS`` (``(N, nClass)``; its row ``i`` is the gradient of the ``i``-th term),
``d2F`` the Hessian in ``S`` as a LinearOperator on ``(N, nClass)`` and ``H`` its
per-example blocks, ``(N, nClass, nClass)``.
"""
import math

import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost
from ..linops.linearOperator import LinearOperator
from ..validation import checkBool, isArray

__all__ = ["AbstractLoss"]


def symmetricOperator(shape, mv, like):
    """A symmetric LinearOperator on arrays of ``shape`` (flat inputs accepted)."""
    shape = tuple(int(s) for s in shape)
    size = int(math.prod(shape))
    name = "Hessian operator"

    def apply(v):
        if not isArray(v):
            raise TypeError(f"{name}: input must be an array; got {type(v).__name__}")
        if tuple(v.shape) != shape and not (v.ndim == 1 and v.shape[0] == size):
            raise ValueError(f"{name}: input must have shape {shape} or ({size},); "
                             f"got {tuple(v.shape)}")
        return mv(v.reshape(shape)).reshape(v.shape)

    return LinearOperator(shape, shape, apply, apply, useGPU=isDeviceArray(like),
                          precision="single" if like.dtype == numpy.float32 else "double")


class AbstractLoss:
    """Base class of meganet's losses; see the module docstring for the interface.

    Subclasses implement ``_lossS(S, C)`` returning ``(l, state)`` with ``l`` the ``(N,)``
    per-example losses, ``_gradS(S, C, state)`` (the gradient of ``sum(l)`` in ``S``),
    ``_hessS(U, S, C, state)`` (its Hessian times ``U``), ``_hessBlocks`` and
    ``_nErrors(S, C)``; and set ``labels`` to ``'onehot'``, ``'binary'``, ``'real'`` or
    ``'realOrIndex'`` (what ``C`` may hold).
    """

    labels = "onehot"

    def __init__(self, addBias=True):
        self.addBias = checkBool(type(self).__name__, "addBias", addBias)

    # ------------------------------------------------------------------ validation
    def _name(self):
        return type(self).__name__

    def _checkY(self, Y):
        name = self._name()
        if not isArray(Y):
            raise TypeError(f"{name}: Y must be an array (NumPy or device); got {type(Y).__name__}")
        if Y.dtype not in (numpy.float32, numpy.float64):
            raise TypeError(f"{name}: Y must be float32 or float64; got dtype {Y.dtype}")
        if Y.ndim < 2 or Y.shape[0] < 1:
            raise ValueError(f"{name}: Y must have shape (N, nFeat) (examples along the first "
                             f"axis); got {tuple(Y.shape)}")

    def _checkSameBackend(self, what, A, Y):
        name = self._name()
        if not isArray(A):
            raise TypeError(f"{name}: {what} must be an array (NumPy or device); got {type(A).__name__}")
        if isDeviceArray(A) != isDeviceArray(Y):
            where = lambda a: "a device array" if isDeviceArray(a) else "a NumPy array"  # noqa: E731
            raise TypeError(f"{name}: {what} is {where(A)} but Y is {where(Y)}; move it with "
                            "meganet.asArray / gpuVar")

    def _prepareC(self, C, N, nClass, Y):
        """Targets as an ``(N, nClass)`` array in Y's dtype; validated for the loss's labels."""
        name = self._name()
        self._checkSameBackend("C", C, Y)
        xp = getArrayModuleOf(Y)
        if C.ndim == 1:
            if self.labels == "real":
                raise ValueError(f"{name}: C must have shape (N, nOut) = ({N}, {nClass}); "
                                 f"got {tuple(C.shape)}")
            if C.dtype.kind not in "iu":
                raise ValueError(f"{name}: a 1-D C must hold integer class indices; got dtype {C.dtype}")
            if C.shape[0] != N:
                raise ValueError(f"{name}: C must have N = {N} entries (one label per example, as Y); "
                                 f"got {C.shape[0]}")
            if not bool(xp.all((C >= 0) & (C < nClass))):
                raise ValueError(f"{name}: class indices must lie in [0, {nClass}) "
                                 f"(nClass = {nClass}); got values in "
                                 f"[{int(C.min())}, {int(C.max())}]")
            return (xp.arange(nClass)[None, :] == C[:, None]).astype(Y.dtype)
        if C.ndim != 2 or C.shape[0] != N or (nClass is not None and C.shape[1] != nClass):
            want = f"({N}, {nClass})" if nClass is not None else f"({N}, nClass)"
            raise ValueError(f"{name}: C must have shape {want} (one row per example of Y); "
                             f"got {tuple(C.shape)}")
        if C.dtype.kind not in "biuf":
            raise ValueError(f"{name}: C must be numeric; got dtype {C.dtype}")
        Cf = C.astype(Y.dtype)
        if self.labels == "onehot":
            ok = xp.all((Cf == 0) | (Cf == 1), axis=1) & (Cf.sum(axis=1) == 1)
            if not bool(xp.all(ok)):
                okh = toHost(ok)
                i = int(numpy.flatnonzero(~okh)[0])
                raise ValueError(f"{name}: C must hold one-hot rows (entries 0/1, exactly one 1 per "
                                 f"row) or integer class indices of shape (N,); row {i} is "
                                 f"{toHost(Cf[i]).tolist()}")
        elif self.labels == "binary":
            ok = xp.all((Cf == 0) | (Cf == 1), axis=1)
            if not bool(xp.all(ok)):
                okh = toHost(ok)
                i = int(numpy.flatnonzero(~okh)[0])
                raise ValueError(f"{name}: C must hold binary labels (entries 0 or 1) or integer "
                                 f"class indices of shape (N,); row {i} is {toHost(Cf[i]).tolist()}")
        elif not bool(xp.all(xp.isfinite(Cf))):
            raise ValueError(f"{name}: C must be finite")
        return Cf

    def _prepare(self, W, Y, C):
        """Validate ``(W, Y, C)``; return ``(Y2, Wm, Cf)`` with Y2 ``(N, nFeat)``."""
        name = self._name()
        self._checkY(Y)
        self._checkSameBackend("W", W, Y)
        N = Y.shape[0]
        nf = int(math.prod(Y.shape[1:]))
        nfb = nf + int(self.addBias)
        bias = " (+1 for the bias)" if self.addBias else ""
        if W.dtype != Y.dtype:
            raise TypeError(f"{name}: W and Y must have the same dtype; got {W.dtype} and {Y.dtype}")
        if W.ndim != 1:
            raise ValueError(f"{name}: W must be a flat vector of "
                             f"nClass*(nFeat{'+1' if self.addBias else ''}) entries; got shape {tuple(W.shape)}")
        if isArray(C) and C.ndim == 2:
            nClass = int(C.shape[1])
            if W.size != nClass * nfb:
                raise ValueError(f"{name}: W must have nClass*(nFeat{'+1' if self.addBias else ''}) = "
                                 f"{nClass}*{nfb} = {nClass * nfb} entries (nClass = {nClass} from C, "
                                 f"nFeat = {nf} from Y{bias}); got {W.size}")
        else:
            if W.size % nfb != 0 or W.size == 0:
                raise ValueError(f"{name}: W must have nClass*(nFeat{'+1' if self.addBias else ''}) "
                                 f"entries, a multiple of {nfb} (nFeat = {nf} from Y{bias}); got {W.size}")
            nClass = W.size // nfb
        Cf = self._prepareC(C, N, nClass, Y)
        return Y.reshape(N, nf), W.reshape(nClass, nfb), Cf

    def _checkS(self, S, C):
        name = self._name()
        if not isArray(S):
            raise TypeError(f"{name}: S must be an array (NumPy or device); got {type(S).__name__}")
        if S.dtype not in (numpy.float32, numpy.float64):
            raise TypeError(f"{name}: S must be float32 or float64; got dtype {S.dtype}")
        if S.ndim != 2 or S.shape[0] < 1:
            raise ValueError(f"{name}: S must have shape (N, nClass); got {tuple(S.shape)}")
        return self._prepareC(C, S.shape[0], S.shape[1], S)

    # ------------------------------------------------------------------ helpers
    def _augment(self, Y2):
        if not self.addBias:
            return Y2
        xp = getArrayModuleOf(Y2)
        return xp.concatenate([Y2, xp.ones((Y2.shape[0], 1), dtype=Y2.dtype)], axis=1)

    @staticmethod
    def _para(xp, dtype, lossSum, N, nErr):
        return xp.stack([xp.asarray(lossSum, dtype=dtype).reshape(()),
                         xp.asarray(N, dtype=dtype).reshape(()),
                         xp.asarray(nErr, dtype=dtype).reshape(())])

    # ------------------------------------------------------------------ interface
    def getMisfit(self, W, Y, C, doDerivative=True):
        """Loss of the classifier ``W`` on features ``Y`` with targets ``C``.

        Returns ``(F, para, dWF, d2WF, dYF, d2YF)``; see the module docstring.
        """
        Y2, Wm, Cf = self._prepare(W, Y, C)
        xp = getArrayModuleOf(Y)
        N, nf = Y2.shape
        Yaug = self._augment(Y2)
        S = Yaug @ Wm.T
        losses, state = self._lossS(S, Cf)
        lossSum = losses.sum()
        F = lossSum / N
        para = self._para(xp, Y.dtype, lossSum, N, self._nErrors(S, Cf, lossSum))
        if not doDerivative:
            return F, para, None, None, None, None
        dS = self._gradS(S, Cf, state) / N
        Wf = Wm[:, :nf]
        dWF = (dS.T @ Yaug).reshape(-1)
        dYF = (dS @ Wf).reshape(Y.shape)

        def hS(U):
            return self._hessS(U, S, Cf, state) / N

        def d2Wmv(V):
            return (hS(Yaug @ V.reshape(Wm.shape).T).T @ Yaug).reshape(-1)

        def d2Ymv(T):
            return (hS(T.reshape(N, nf) @ Wf.T) @ Wf).reshape(Y.shape)

        d2WF = symmetricOperator((W.size,), d2Wmv, Y)
        d2YF = symmetricOperator(tuple(Y.shape), d2Ymv, Y)
        return F, para, dWF, d2WF, dYF, d2YF

    def eval(self, S, C, reduceDim=True):
        """Loss of given scores ``S`` (``(N, nClass)``): ``(F, para, dF, d2F, H)``."""
        Cf = self._checkS(S, C)
        xp = getArrayModuleOf(S)
        N = S.shape[0]
        losses, state = self._lossS(S, Cf)
        lossSum = losses.sum()
        para = self._para(xp, S.dtype, lossSum, N, self._nErrors(S, Cf, lossSum))
        F = lossSum / N if reduceDim else losses / N
        dF = self._gradS(S, Cf, state) / N
        d2F = symmetricOperator(tuple(S.shape), lambda U: self._hessS(U, S, Cf, state) / N, S)
        H = self._hessBlocks(S, Cf, state) / N
        return F, para, dF, d2F, H

    def getLabels(self, W, Y):
        """Predicted labels for features ``Y``: one-hot rows ``(N, nClass)`` of the largest score."""
        name = self._name()
        self._checkY(Y)
        self._checkSameBackend("W", W, Y)
        N = Y.shape[0]
        nf = int(math.prod(Y.shape[1:]))
        nfb = nf + int(self.addBias)
        if W.ndim != 1 or W.size % nfb != 0 or W.size == 0:
            raise ValueError(f"{name}: W must be a flat vector with a multiple of {nfb} entries "
                             f"(nFeat = {nf} from Y{' +1 for the bias' if self.addBias else ''}); "
                             f"got shape {tuple(W.shape)}")
        S = self._augment(Y.reshape(N, nf)) @ W.reshape(-1, nfb).T
        return self._labelsS(S)

    def _labelsS(self, S):
        xp = getArrayModuleOf(S)
        idx = xp.argmax(S, axis=1)
        return (xp.arange(S.shape[1])[None, :] == idx[:, None]).astype(S.dtype)

    def _argmaxErrors(self, S, C):
        """Examples whose largest score is not at their target's largest entry."""
        xp = getArrayModuleOf(S)
        return (xp.argmax(S, axis=1) != xp.argmax(C, axis=1)).sum()

    def hisNames(self):
        """``(names, formats)`` of the history columns: F and the accuracy in percent."""
        return ["F", "accuracy"], ["%-12.2e", "%-12.2f"]

    def hisVals(self, para):
        """``[F, accuracy %]`` (host values) from (summed) ``para``."""
        p = toHost(para).astype(numpy.float64)
        return numpy.array([p[0] / p[1], (1.0 - p[2] / p[1]) * 100.0])

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({opts})"
