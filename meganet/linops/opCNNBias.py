"""``opCNNBias``: one bias per channel, broadcast over pixels."""
from ..backend import getArrayModuleOf as _xp
from .linearOperator import LinearOperator

__all__ = ["opCNNBias"]


class opCNNBias(LinearOperator):
    """Per-channel bias for image features of shape ``nImg = (H, W, C)``.

    Forward: ``b in R^C  ->  B b`` with ``(B b)[h, w, c] = b[c]``, shape ``(H, W, C)``
    (a broadcast view, no copy), which broadcasts against ``(N, H, W, C)`` features.
    Adjoint: ``(B^T Z)[c] = sum_{h, w} Z[h, w, c]``; extra leading axes (examples) are
    summed too, so ``B^T W`` of a batch gives the example-summed bias gradient.
    """

    def __init__(self, nImg, useGPU=False, precision="double"):
        nImg = tuple(int(v) for v in nImg)
        if len(nImg) < 2:
            raise ValueError(f"opCNNBias: nImg must be (H, W, C) (or (n, C)); got {nImg}")
        self.nImg = nImg
        nc = nImg[-1]
        super().__init__(nImg, (nc,), self._forward, self._adjoint,
                         useGPU=useGPU, precision=precision)

    def _forward(self, b):
        nc = self.nImg[-1]
        if b.shape != (nc,):
            raise ValueError(f"opCNNBias: bias must have shape ({nc},); got {tuple(b.shape)}")
        xp = _xp(b)
        return xp.broadcast_to(b, self.nImg)

    def _adjoint(self, Z):
        nc = self.nImg[-1]
        if Z.shape[-1] != nc:
            raise ValueError(f"opCNNBias adjoint: last axis must have {nc} channels; "
                             f"got shape {tuple(Z.shape)}")
        return Z.reshape(-1, nc).sum(axis=0)

    def biasApplyT(self, W, reduceDim=True):
        """``B^T sum_n W[n]`` (``(C,)``) or per example the channel sums ``(N, C)``."""
        if reduceDim:
            return super().biasApplyT(W, True)
        return W.reshape(W.shape[0], -1, self.nImg[-1]).sum(axis=1)
