"""``opKron``: the Kronecker product of two matrices, applied without forming it."""
import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost
from ._tensorOperator import TensorOperator

__all__ = ["opKron"]


class opKron(TensorOperator):
    """``kron(A, B)`` as a matrix-free operator (Meganet.m's ``opKron``).

    For ``A`` of shape ``(p, q)`` and ``B`` of shape ``(r, s)``, the domain is ``(q s,)`` and
    the range ``(p r,)``. Viewing ``x`` as the C-order matrix ``X`` of shape ``(q, s)``::

        kron(A, B) x = vec(A X B^T)          (vec: C order, shape (p r,))
        kron(A, B)^T y = vec(A^T Y B)        (Y: y as a (p, r) matrix)

    (Meganet.m states the same operator as ``vec(B X A^T)`` in column-major order.)
    Batched: yes, ``(N, q s) -> (N, p r)``.

    Parameters
    ----------
    A, B : 2-D arrays
        NumPy or device matrices (kept as host copies and applied on the backend and in the
        precision of the input).
    useGPU, precision :
        Backend settings.
    """

    def __init__(self, A, B, useGPU=False, precision="double"):
        mats = []
        for name, M in (("A", A), ("B", B)):
            if not (isinstance(M, numpy.ndarray) or isDeviceArray(M)) or M.ndim != 2 or M.size == 0:
                raise TypeError(f"opKron: {name} must be a non-empty 2-D array (NumPy or device); "
                                f"got {type(M).__name__} with shape {getattr(M, 'shape', None)}")
            mats.append(numpy.asarray(toHost(M), dtype=numpy.float64))
        A, B = mats
        self.sA, self.sB = A.shape, B.shape
        super().__init__((A.shape[0] * B.shape[0],), (A.shape[1] * B.shape[1],),
                         useGPU=useGPU, precision=precision)
        self._setConst("A", A)
        self._setConst("B", B)

    @property
    def A(self):
        return self._host["A"]

    @property
    def B(self):
        return self._host["B"]

    def _forward(self, X):
        N = X.shape[0]
        xp = getArrayModuleOf(X)
        Xm = X.reshape(N, self.sA[1], self.sB[1])
        return xp.einsum("ij,njl,kl->nik", self._const("A", X), Xm,
                         self._const("B", X)).reshape(N, -1)

    def _adjoint(self, Y):
        N = Y.shape[0]
        xp = getArrayModuleOf(Y)
        Ym = Y.reshape(N, self.sA[0], self.sB[0])
        return xp.einsum("ij,nik,kl->njl", self._const("A", Y), Ym,
                         self._const("B", Y)).reshape(N, -1)
