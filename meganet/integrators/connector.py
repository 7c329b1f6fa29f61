"""``Connector``: a fixed affine map between blocks (Meganet.m's ``connector``)."""
import numbers

import numpy

from ..backend import checkPrecision, checkUseGPU, isDeviceArray
from ..element import AbstractMeganetElement
from ..linops.linearOperator import LinearOperator

__all__ = ["Connector"]


def _shape(s, owner, name):
    if isinstance(s, numbers.Integral):
        s = (int(s),)
    try:
        s = tuple(int(v) for v in s)
    except TypeError as err:
        raise TypeError(f"{owner}: {name} must be a tuple of positive integers; got {s!r}") from err
    if not s or min(s) < 1:
        raise ValueError(f"{owner}: {name} must be a tuple of positive integers; got {s}")
    return s


class Connector(AbstractMeganetElement):
    """Fixed map ``Z = K Y + b`` without weights (``nTheta = 0``): pooling, reshaping, ...

    ``K`` is one of

    * a matrix of shape ``(m, n)`` acting on each flattened example (C order):
      ``Z[i] = reshape(K Y[i].ravel() + b, sizeFeatOut)``. ``sizeFeatIn`` defaults to
      ``(n,)`` and ``sizeFeatOut`` to ``(m,)``; give image shapes with ``prod == n``
      (resp. ``m``) to connect image features (e.g. a flattening ``K = I`` with
      ``sizeFeatIn=(H, W, C)``, ``sizeFeatOut=(H*W*C,)``).
    * a :class:`~meganet.linops.LinearOperator` with per-example domain shape ``K.n`` and
      range shape ``K.m`` that maps batches ``(N, *K.n) -> (N, *K.m)`` (as the structured
      operators do, e.g. ``opPool``). ``sizeFeatIn``/``sizeFeatOut`` default to ``K.n``/
      ``K.m``; other shapes with the same number of entries reshape the features before
      and after ``K``.

    ``b`` is a scalar or an array with ``prod(sizeFeatOut)`` entries (broadcast over
    examples). Derivatives: ``J_Y dY = K dY``, ``J_Y^T W = K^T W``; the weight
    derivatives are empty (``(0,)``, or ``(N, 0)`` per example). They do not read the
    input ``Y`` (only the direction), so a network need not keep it (see
    :meth:`readsInput`).

    Parameters
    ----------
    K : 2-D array or LinearOperator
    b : float or array, default 0
    sizeFeatIn, sizeFeatOut : tuple of int, optional
    useGPU, precision : optional
        Default: the operator's (for a matrix: its array type and dtype).
    """

    def __init__(self, K, b=0.0, sizeFeatIn=None, sizeFeatOut=None, useGPU=None, precision=None):
        name = type(self).__name__
        isOp = isinstance(K, LinearOperator)
        if isOp:
            nIn, nOut = tuple(K.n), tuple(K.m)
            defGPU, defPrec = K.useGPU, K.precision
        else:
            if not (isinstance(K, numpy.ndarray) or isDeviceArray(K)) or K.ndim != 2:
                shp = f" of shape {tuple(K.shape)}" if hasattr(K, "shape") else ""
                raise TypeError(f"{name}: K must be a 2-D array (m, n) or a LinearOperator; got "
                                f"{type(K).__name__}{shp}")
            nIn, nOut = (int(K.shape[1]),), (int(K.shape[0]),)
            defGPU = isDeviceArray(K)
            defPrec = "single" if K.dtype == numpy.float32 else "double"
        useGPU = defGPU if useGPU is None else checkUseGPU(useGPU)
        precision = defPrec if precision is None else checkPrecision(precision)
        super().__init__(useGPU=useGPU, precision=precision)
        fin = nIn if sizeFeatIn is None else _shape(sizeFeatIn, name, "sizeFeatIn")
        fout = nOut if sizeFeatOut is None else _shape(sizeFeatOut, name, "sizeFeatOut")
        what = "K.n" if isOp else "K.shape[1]"
        if int(numpy.prod(fin)) != int(numpy.prod(nIn)):
            raise ValueError(f"{name}: sizeFeatIn must have prod({what}) = {int(numpy.prod(nIn))} "
                             f"entries; got {fin}")
        what = "K.m" if isOp else "K.shape[0]"
        if int(numpy.prod(fout)) != int(numpy.prod(nOut)):
            raise ValueError(f"{name}: sizeFeatOut must have prod({what}) = {int(numpy.prod(nOut))} "
                             f"entries; got {fout}")
        self._fin, self._fout = fin, fout
        self._nIn, self._nOut = nIn, nOut
        self._isOp = isOp
        self.K = K if isOp else self.asArray(K)
        if isinstance(b, numbers.Real) and not isinstance(b, bool):
            self.b = float(b)
        else:
            if not (isinstance(b, numpy.ndarray) or isDeviceArray(b)):
                raise TypeError(f"{name}: b must be a number or an array; got {type(b).__name__}")
            if b.size != int(numpy.prod(fout)):
                raise ValueError(f"{name}: b must be a number or have prod(sizeFeatOut) = "
                                 f"{int(numpy.prod(fout))} entries; got shape {tuple(b.shape)}")
            self.b = self.asArray(b).reshape(fout)
        self._propagateBackend()

    def nTheta(self):
        return 0

    def readsInput(self, product):
        """False: ``Jmv`` and ``JTmv`` apply the fixed map to the direction only, so
        :class:`NN`/:class:`Meganet` need not keep the connector's input."""
        return False

    def sizeFeatIn(self):
        return self._fin

    def sizeFeatOut(self):
        return self._fout

    def initTheta(self, rng=None):
        """No weights: an empty array."""
        return self.xp.zeros(0, dtype=self.dtype)

    def _apply(self, Y, adjoint=False):
        N = Y.shape[0]
        src, dst = (self._fout, self._fin) if adjoint else (self._fin, self._fout)
        if self._isOp:
            shp = self._nOut if adjoint else self._nIn
            X = Y.reshape((N,) + shp)
            R = self.K.ATmv(X) if adjoint else self.K.Amv(X)
            want = (N,) + (self._nIn if adjoint else self._nOut)
            if tuple(R.shape) != want:
                raise ValueError(f"Connector: K.{'ATmv' if adjoint else 'Amv'} must map a batch of "
                                 f"shape {(N,) + shp} to {want}; got {tuple(R.shape)} (the operator "
                                 "must act on batches with the examples along the first axis)")
        else:
            X = Y.reshape(N, -1)
            R = X @ self.K if adjoint else X @ self.K.T
        return R.reshape((N,) + dst)

    def forwardProp(self, theta, Y, doDerivative=True):
        Z = self._apply(Y)
        if not (isinstance(self.b, float) and self.b == 0.0):
            Z = Z + self.b
        return Z, None

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        if dY is None:
            return self.xp.zeros((Y.shape[0],) + self._fout, dtype=self.dtype)
        return self._apply(dY)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        dth = None
        if doDerivative[0]:
            dth = self.xp.zeros((0,) if reduceDim else (W.shape[0], 0), dtype=self.dtype)
        dY = self._apply(W, adjoint=True) if doDerivative[1] else None
        return dth, dY

    def split(self, theta):
        return ()
