"""``opMask``: embeds channel-diagonal convolution weights into a full kernel."""
import numpy

from ..backend import getArrayModuleOf
from ..validation import checkShape
from ._tensorOperator import TensorOperator

__all__ = ["opMask"]


class opMask(TensorOperator):
    """Embedding of the selected entries of a ``(k1, k2, c, c)`` kernel (Meganet.m's ``opMask``).

    The mask selects every spatial entry of the channel-diagonal pairs ``[:, :, k, k]`` and,
    for ``type=1``, additionally the centre ``[k1 // 2, k2 // 2, :, :]`` for all channel
    pairs (Meganet.m: entry ``(2, 2)`` of a 3x3 stencil). With ``idx`` the C-order flat
    positions of the selected entries (ascending), ``nnz = len(idx)``::

        A x = z  with  z[idx] = x,  z = 0 elsewhere      (z: C-order flat kernel, prod(sK) entries)
        A^T z = z[idx]

    so ``x`` lists the selected weights in C order of ``(k1, k2, c, c)`` -- the layout of
    ``Conv2D``'s theta. Batched: yes, ``(N, nnz) -> (N, prod(sK))``.

    Parameters
    ----------
    sK : (k1, k2, c, c)
        Kernel shape (input and output channels must agree).
    type : {0, 1}
        1 also frees the centre entry for all channel pairs.
    """

    def __init__(self, sK, type=0, useGPU=False, precision="double"):
        sK = checkShape("opMask", "sK (k1, k2, cin, cout)", sK, 4, 4)
        if sK[2] != sK[3]:
            raise ValueError(f"opMask: sK must have as many output as input channels "
                             f"(sK[2] == sK[3]); got sK={sK}")
        if type not in (0, 1) or isinstance(type, bool):
            raise ValueError(f"opMask: type must be 0 or 1; got {type!r}")
        mask = numpy.zeros(sK, dtype=bool)
        for k in range(sK[2]):
            mask[:, :, k, k] = True
        if type == 1:
            mask[sK[0] // 2, sK[1] // 2, :, :] = True
        self.sK = sK
        self.type = type
        self.mask = mask
        idx = numpy.flatnonzero(mask)
        super().__init__((int(numpy.prod(sK)),), (idx.size,), useGPU=useGPU, precision=precision)
        self._setConst("idx", idx.astype(numpy.int64))

    def _forward(self, X):
        xp = getArrayModuleOf(X)
        Z = xp.zeros((X.shape[0], self.m[0]), dtype=X.dtype)
        Z[:, self._const("idx", X)] = X
        return Z

    def _adjoint(self, Z):
        return Z[:, self._const("idx", Z)]
