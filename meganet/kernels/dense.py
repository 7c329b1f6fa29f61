"""``Dense``: a fully coupled matrix kernel (Meganet.m's ``dense``)."""
import numpy

from .abstractKernel import (AbstractKernel, applyParameterisation, applyParameterisationT,
                             prepareParameterisation)

__all__ = ["Dense", "getDenseAntiSym"]


class Dense(AbstractKernel):
    """Dense matrix ``K = reshape(Q theta + q, nK)`` acting on vector features.

    Forward, for features ``Y`` of shape ``(N, nK[1])``::

        Z = Y K^T                          (each example: z = K y)

    Derivatives (``W`` of shape ``(N, nK[0])``)::

        Jthetamv(dtheta) = Y reshape(Q dtheta, nK)^T
        JthetaTmv(W)     = Q^T vec(W^T Y)          (vec: C order of the nK[0] x nK[1] matrix)
        per example n    = Q^T vec(w_n y_n^T)      (reduceDim=False)
        JYTmv(W)         = W K

    Parameters
    ----------
    nK : (int, int)
        ``(nOut, nIn)``.
    Q : 2-D array or LinearOperator, optional
        Parameterisation ``vec(K) = Q theta + q`` (``nTheta = Q.shape[1]``); identity if omitted.
    q : array, optional
        Offset of ``vec(K)`` (not a weight).
    useGPU, precision :
        Backend.
    """

    def __init__(self, nK, Q=None, q=None, useGPU=False, precision="double"):
        super().__init__(useGPU=useGPU, precision=precision)
        nK = tuple(int(v) for v in numpy.atleast_1d(nK))
        if len(nK) != 2 or min(nK) < 1:
            raise ValueError(f"Dense: nK must be two positive integers (nOut, nIn); got {nK}")
        self.nK = nK
        nk = nK[0] * nK[1]
        Q = prepareParameterisation(Q, nk, "Dense", "Q", "nK[0]*nK[1]", self)
        self.Q = Q
        if q is not None:
            q = self.asArray(q).reshape(-1)
            if q.size != nk:
                raise ValueError(f"Dense: q must have {nk} entries (nK[0]*nK[1]); got {q.size}")
        self.q = q

    def nTheta(self):
        return self.nK[0] * self.nK[1] if self.Q is None else int(self.Q.shape[1])

    def sizeFeatIn(self):
        return (self.nK[1],)

    def sizeFeatOut(self):
        return (self.nK[0],)

    def initTheta(self, rng=None):
        """``N(0, 2/nK[1])`` entries (as Meganet.m)."""
        rng = numpy.random.default_rng(rng)
        return self.asArray(numpy.sqrt(2.0 / self.nK[1]) * rng.standard_normal(self.nTheta()))

    def _matrix(self, theta, offset=True):
        k = applyParameterisation(self.Q, theta)
        if offset and self.q is not None:
            k = k + self.q
        return k.reshape(self.nK)

    def getMatrix(self, theta):
        """``K(theta)`` as an ``nK[0] x nK[1]`` array."""
        return self._matrix(theta)

    def Amv(self, theta, Y):
        return Y @ self._matrix(theta).T

    def ATmv(self, theta, Z):
        return Z @ self._matrix(theta)

    def Jthetamv(self, dtheta, theta, Y, tmp=None):
        return Y @ self._matrix(dtheta, offset=False).T

    def JthetaATmv(self, dtheta, theta, Z):
        return Z @ self._matrix(dtheta, offset=False)

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        if reduceDim:
            g = (W.T @ Y).reshape(-1)
        else:
            g = (W[:, :, None] * Y[:, None, :]).reshape(W.shape[0], -1)
        return applyParameterisationT(self.Q, g, reduceDim)

    # ------------------------------------------------------------------ Meganet.m layout
    def _matlabShape(self):
        """``theta`` is ``K(:)`` (column-major) in Meganet.m, ``K.ravel()`` here (``Q = None``)."""
        return self.nK if self.Q is None else None

    def nThetaMatlab(self):
        n = self.nK[0]
        return n * (n - 1) if self._antiSym else self.nTheta()

    def _thetaFromMatlab(self, th):
        if not self._antiSym:
            return super()._thetaFromMatlab(th)
        A = self.xp.zeros(self.nK[0] * self.nK[0], dtype=th.dtype)
        A[self._offDiagonal()] = th
        return A

    def _thetaToMatlab(self, th):
        if not self._antiSym:
            return super()._thetaToMatlab(th)
        return th[self._offDiagonal()].copy()

    def _offDiagonal(self):
        """Row-major positions of the off-diagonal entries of ``A``, in column-major order
        (the order of Meganet.m's weights of ``getDenseAntiSym``)."""
        n = self.nK[0]
        idx = numpy.arange(n * n).reshape(n, n).T.reshape(-1)      # column-major order
        return self.xp.asarray(idx[idx // n != idx % n])

    #: set by :func:`getDenseAntiSym`: ``theta`` holds a full ``A`` (``K = A - A^T - 1e-4 I``)
    _antiSym = False


def getDenseAntiSym(nK, useGPU=False, precision="double"):
    """Dense kernel ``K = A - A^T - 1e-4 I`` (antisymmetric up to a small damping).

    ``theta`` holds the entries of ``A`` (``nK[0]**2`` values, C order), so
    ``vec(K) = Q theta + q`` with ``Q = I - P`` (``P`` the transposition permutation)
    and ``q = -1e-4 vec(I)``.

    Meganet.m's ``getDenseAntiSym`` drops the ``n`` columns of ``Q`` that vanish (those of
    the diagonal of ``A``, which never enters ``K``): its ``theta`` holds the ``n (n - 1)``
    off-diagonal entries ``A(i, j)``, ``i != j``, in column-major order.
    ``K.thetaFromMatlab`` puts them in place and sets the diagonal of ``A`` to zero;
    ``K.thetaToMatlab`` drops the diagonal (the one lossy direction: the kernel ``K(theta)``,
    hence every output, is unchanged, but a nonzero diagonal of ``A`` comes back as zero).
    """
    nK = tuple(int(v) for v in numpy.atleast_1d(nK))
    n = nK[0]
    if len(nK) == 2 and nK[1] != n:
        raise ValueError(f"getDenseAntiSym: the kernel must be square; got nK={nK}")
    idx = numpy.arange(n * n).reshape(n, n)
    Q = numpy.eye(n * n) - numpy.eye(n * n)[idx.T.ravel()]
    q = -1e-4 * numpy.eye(n).ravel()
    K = Dense((n, n), Q=Q, q=q, useGPU=useGPU, precision=precision)
    K._antiSym = True
    return K
