"""Base class of the linear kernels ``K(theta)`` (Meganet.m's ``KernelTypes``).

A kernel is a linear operator ``K(theta)`` acting on the features. Most kernels depend
linearly on their weights (affinely for ``Dense`` with an offset ``q``; multilinearly for
``ScalingKernel``, whose factors multiply). As an element its forward map is
``Z = K(theta) Y``, so

* ``JYmv(dY)   = K(theta) dY``        (``Amv``),
* ``JYTmv(W)   = K(theta)^T W``       (``ATmv``),
* ``Jthetamv(dtheta) = K(dtheta) Y``  (for kernels linear in ``theta``; the default),
* ``JthetaTmv(W)`` is kernel specific (a correlation of ``W`` with ``Y``).

Subclasses implement ``Amv``, ``ATmv``, ``JthetaTmv`` and the sizes; kernels that are not
linear in ``theta`` (an offset, products of weights) override ``Jthetamv`` and ``JthetaATmv``.
"""
from ..backend import getArrayModuleOf
from ..columnMajor import fromColumnMajor, toColumnMajor
from ..element import AbstractMeganetElement
from ..linops.linearOperator import LinearOperator

__all__ = ["AbstractKernel"]


def prepareParameterisation(Q, nRows, owner, name, what, el):
    """Validate a weight parameterisation ``v = Q theta`` (None, matrix or LinearOperator).

    ``Q`` must have ``nRows`` rows (``what`` says what they count); a matrix is moved to the
    element's backend, an operator gets its settings.
    """
    if Q is None:
        return None
    if isinstance(Q, LinearOperator):
        if Q.shape[0] != nRows:
            raise ValueError(f"{owner}: {name} must have {nRows} rows ({what}); got shape {Q.shape}")
        Q.useGPU, Q.precision = el.useGPU, el.precision
        return Q
    if not hasattr(Q, "shape") or len(Q.shape) != 2 or Q.shape[0] != nRows:
        raise ValueError(f"{owner}: {name} must be a matrix with {nRows} rows ({what}) or a "
                         f"LinearOperator; got shape {getattr(Q, 'shape', type(Q).__name__)}")
    return el.asArray(Q)


def applyParameterisation(Q, theta):
    """``Q theta`` (flat), or ``theta`` for ``Q = None``."""
    if Q is None:
        return theta
    if isinstance(Q, LinearOperator):
        return (Q @ theta.reshape(Q.n)).reshape(-1)
    return Q @ theta


def applyParameterisationT(Q, g, reduceDim=True):
    """``Q^T g`` for a gradient ``g`` of the entries: ``(P,)``, or per example ``(N, P)``."""
    if Q is None:
        return g
    if isinstance(Q, LinearOperator):
        if reduceDim:
            return (Q.T @ g.reshape(Q.m)).reshape(-1)
        return getArrayModuleOf(g).stack([(Q.T @ gi.reshape(Q.m)).reshape(-1) for gi in g])
    return Q.T @ g if reduceDim else g @ Q


class AbstractKernel(AbstractMeganetElement):
    """Linear kernel element ``Z = K(theta) Y``."""

    def Amv(self, theta, Y):
        """``K(theta) Y`` for ``Y`` of shape ``(N, *sizeFeatIn())``."""
        raise NotImplementedError(f"{type(self).__name__} must provide Amv()")

    def ATmv(self, theta, Z):
        """``K(theta)^T Z`` for ``Z`` of shape ``(N, *sizeFeatOut())``."""
        raise NotImplementedError(f"{type(self).__name__} must provide ATmv()")

    def getOp(self, theta):
        """``K(theta)`` as a :class:`LinearOperator` on single examples or batches.

        The operator's domain is one example, ``sizeFeatIn()``; a batch
        ``(N, *sizeFeatIn())`` may be passed as well and is mapped example by example.
        """
        nIn, nOut = tuple(self.sizeFeatIn()), tuple(self.sizeFeatOut())

        def batched(fun, shapeIn):
            def apply(x):
                if tuple(x.shape) == shapeIn:
                    return fun(theta, x[None])[0]
                return fun(theta, x)
            return apply

        return LinearOperator(nOut, nIn, batched(self.Amv, nIn), batched(self.ATmv, nOut),
                              useGPU=self.useGPU, precision=self.precision)

    def forwardProp(self, theta, Y, doDerivative=True):
        return self.Amv(theta, Y), None

    def Jthetamv(self, dtheta, theta, Y, tmp=None):
        return self.Amv(dtheta, Y)

    def JYmv(self, dY, theta, Y, tmp=None):
        return self.Amv(theta, dY)

    def JYTmv(self, W, theta, Y, tmp=None):
        return self.ATmv(theta, W)

    def implicitTimeStep(self, theta, Y, h):
        """Solve ``(h K^T K + I) z = y`` for every example (an implicit Euler step).

        Needs ``getMatrix(theta)`` (a dense square matrix; for small kernels).
        """
        if not hasattr(self, "getMatrix"):
            raise NotImplementedError(f"{type(self).__name__}.implicitTimeStep needs getMatrix()")
        K = self.getMatrix(theta)
        if K.shape[0] != K.shape[1]:
            raise ValueError(f"{type(self).__name__}.implicitTimeStep needs a square kernel; "
                             f"got a {K.shape[0]} x {K.shape[1]} matrix")
        M = h * (K.T @ K) + self.xp.eye(K.shape[1], dtype=self.dtype)
        return self.xp.linalg.solve(M, Y.T).T

    def JthetaATmv(self, dtheta, theta, Z):
        """Derivative of ``K(theta)^T Z`` with respect to ``theta`` in direction ``dtheta``.

        Equals ``ATmv(dtheta, Z)`` for kernels linear in ``theta``; kernels with an offset
        (``Dense`` with ``q``) override it. Its adjoint is ``JthetaTmv(Z, theta, Y=W)``:
        ``<W, K(dtheta)^T Z> = <K(dtheta) W, Z>``. Used by layers with ``K^T`` (``DoubleSymLayer``).
        """
        return self.ATmv(dtheta, Z)

    # ------------------------------------------------------------------ Meganet.m layout
    def _matlabShape(self):
        """Shape of the array whose column-major flattening is Meganet.m's ``theta`` and whose
        row-major flattening is ours; None if both orders agree (e.g. a parameterisation
        ``Q``: its columns, the weights, are the same, only its rows are reordered)."""
        return None

    def _thetaFromMatlab(self, th):
        shape = self._matlabShape()
        return th.copy() if shape is None else fromColumnMajor(th, shape)

    def _thetaToMatlab(self, th):
        shape = self._matlabShape()
        return th.copy() if shape is None else toColumnMajor(th, shape)
