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
from ..element import AbstractMeganetElement
from ..linops.linearOperator import LinearOperator

__all__ = ["AbstractKernel"]


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

    def JthetaATmv(self, dtheta, theta, Z):
        """Derivative of ``K(theta)^T Z`` with respect to ``theta`` in direction ``dtheta``.

        Equals ``ATmv(dtheta, Z)`` for kernels linear in ``theta``; kernels with an offset
        (``Dense`` with ``q``) override it. Its adjoint is ``JthetaTmv(Z, theta, Y=W)``:
        ``<W, K(dtheta)^T Z> = <K(dtheta) W, Z>``. Used by layers with ``K^T`` (``DoubleSymLayer``).
        """
        return self.ATmv(dtheta, Z)
