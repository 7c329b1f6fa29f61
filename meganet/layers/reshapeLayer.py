"""``ReshapeLayer``: permute and reshape the features of each example (Meganet.m's ``reshapeLayer``)."""
import numpy

from ..element import AbstractMeganetElement
from ..validation import isInt

__all__ = ["ReshapeLayer"]


class ReshapeLayer(AbstractMeganetElement):
    """Permute the feature axes of every example, then reshape them to ``nOut``; no weights.

    For ``Y`` of shape ``(N, *nIn)`` and a permutation ``perm`` of the feature axes
    ``0, ..., len(nIn)-1`` of one example::

        P = Y.transpose(0, 1 + perm[0], 1 + perm[1], ...)
        Z[n] = numpy.reshape(P[n], nOut, order=order)        for every example n

    The map is linear and a bijection of the entries (``prod(nIn) == prod(nOut)``)::

        J_Y V   = the same permutation and reshape applied to V
        J_Y^T W = every W[n] reshaped to nIn[perm] (in ``order``), then transposed by the
                  inverse permutation (the inverse map)

    with ``iperm`` the inverse permutation; ``nTheta() == 0``.

    Meganet.m: ``reshapeLayer(nIn, nOut, 'perm', p)`` -> ``ReshapeLayer(nIn, nOut,
    perm=[k - 1 for k in p])``: MATLAB's 1-based permutation of the axes of one example
    (its trailing example axis is never moved) becomes a 0-based permutation of the
    same axes (``nIn`` holds the same numbers in the same order, e.g. ``(H, W, C)``).
    The reshape of each example is column-major (``order='F'``, the default), as MATLAB's
    ``reshape``: a flattened image ``(H, W, C) -> (H W C,)`` lists the entries
    row-index-fastest, exactly as Meganet.m does, so a following dense layer takes
    Meganet.m's weights (converted by :func:`meganet.thetaFromMatlab`) unchanged.
    ``order='C'`` reshapes row-major (channels fastest) instead.

    Parameters
    ----------
    nIn, nOut : tuple of int (or int)
        Shape of one input and one output example; ``prod(nIn) == prod(nOut)``.
    perm : sequence of int, optional
        Permutation of ``range(len(nIn))``; identity if omitted.
    order : {'F', 'C'}, default 'F'
        Order of the reshape of each example: column-major (Meganet.m's) or row-major.
    useGPU, precision :
        Backend.
    """

    def __init__(self, nIn, nOut, perm=None, order="F", useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        if order not in ("F", "C"):
            raise ValueError(f"ReshapeLayer: order must be 'F' (column-major, as Meganet.m) or 'C' "
                             f"(row-major); got {order!r}")
        self.order = order
        self.nIn = _checkShape("nIn", nIn)
        self.nOut = _checkShape("nOut", nOut)
        d = len(self.nIn)
        if perm is None:
            perm = tuple(range(d))
        else:
            try:
                vals = tuple(perm)
            except TypeError:
                vals = None
            if vals is None or not all(isInt(p) for p in vals) \
                    or sorted(int(p) for p in vals) != list(range(d)):
                raise ValueError(f"ReshapeLayer: perm must be a permutation of the {d} feature axes "
                                 f"{tuple(range(d))} (0-based); got {perm!r}")
            perm = tuple(int(p) for p in vals)
        self.perm = perm
        if numpy.prod(self.nIn) != numpy.prod(self.nOut):
            raise ValueError(f"ReshapeLayer: prod(nIn) must equal prod(nOut); got nIn={self.nIn} "
                             f"({int(numpy.prod(self.nIn))} entries) and nOut={self.nOut} "
                             f"({int(numpy.prod(self.nOut))} entries)")

    def nTheta(self):
        return 0

    def sizeFeatIn(self):
        return self.nIn

    def sizeFeatOut(self):
        return self.nOut

    def initTheta(self, rng=None):
        """No weights: an empty array."""
        return self.asArray(numpy.zeros(0))

    def _reshape(self, X, shape):
        """Every example of ``X`` reshaped to ``shape`` in ``self.order``."""
        N = X.shape[0]
        if self.order == "C":
            return X.reshape((N,) + shape)
        # column-major reshape = row-major reshape of the arrays with reversed axes
        X = X.transpose((0,) + tuple(range(X.ndim - 1, 0, -1))).reshape((N,) + shape[::-1])
        return self.xp.ascontiguousarray(X.transpose((0,) + tuple(range(len(shape), 0, -1))))

    def _apply(self, Y):
        if self.perm != tuple(range(len(self.perm))):
            Y = self.xp.transpose(Y, (0,) + tuple(p + 1 for p in self.perm))
        return self._reshape(Y, self.nOut)

    def _applyT(self, W):
        W = self._reshape(W, tuple(self.nIn[p] for p in self.perm))
        if self.perm != tuple(range(len(self.perm))):
            inv = numpy.argsort(self.perm)
            W = self.xp.transpose(W, (0,) + tuple(int(p) + 1 for p in inv))
        return W

    def forwardProp(self, theta, Y, doDerivative=True):
        return self._apply(Y), None

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        if dY is None:
            return self.xp.zeros((Y.shape[0],) + self.nOut, dtype=self.dtype)
        return self._apply(dY)

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        dth = None
        if doDerivative[0]:
            dth = self.xp.zeros((0,) if reduceDim else (W.shape[0], 0), dtype=self.dtype)
        dY = self._applyT(W) if doDerivative[1] else None
        return dth, dY


def _checkShape(name, shape):
    vals = (shape,) if isInt(shape) else shape
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if vals is None or len(vals) < 1 or not all(isInt(v) and v >= 1 for v in vals):
        raise ValueError(f"ReshapeLayer: {name} must be a positive int or a tuple of positive ints "
                         f"(the shape of one example); got {shape!r}")
    return tuple(int(v) for v in vals)
