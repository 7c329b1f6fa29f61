"""``opBlkdiag`` / ``blkdiag`` and ``opHcat`` / ``hcat``: block operators."""
import math

from ..backend import getArrayModuleOf
from .linearOperator import LinearOperator
from ._tensorOperator import TensorOperator, applyShaped

__all__ = ["opBlkdiag", "blkdiag", "opHcat", "hcat"]


def _asOperator(A, owner, k):
    if isinstance(A, LinearOperator):
        return A
    if hasattr(A, "shape") and len(getattr(A, "shape", ())) == 2:
        return LinearOperator(A)
    raise TypeError(f"{owner}: block {k} must be a LinearOperator or a matrix; got {type(A).__name__}")


def _isBatched(op):
    return isinstance(op, TensorOperator) and op.batched


def _size(shape):
    return int(math.prod(shape))


def _backendOf(ops, useGPU, precision):
    if useGPU is None:
        useGPU = ops[0].useGPU
    if precision is None:
        precision = ops[0].precision
    return useGPU, precision


class opBlkdiag(TensorOperator):
    """Block-diagonal operator ``diag(A_1, ..., A_k)`` (Meganet.m's ``opBlkdiag``).

    The domain is the concatenation of the flattened domains of the blocks,
    ``(sum_k prod(A_k.n),)``, and the range likewise. With ``x = [x_1; ...; x_k]``::

        A x   = [A_1 x_1; ...; A_k x_k]          (each A_k x_k flattened)
        A^T y = [A_1^T y_1; ...; A_k^T y_k]

    Each block receives its piece reshaped to its own domain shape ``A_k.n``.
    Batched: yes when every block is a batched meganet operator (``(N, n) -> (N, m)``);
    otherwise single inputs only.

    Parameters
    ----------
    *blocks : LinearOperator or 2-D array
        The diagonal blocks (matrices are wrapped with ``LinearOperator(A)``).
    useGPU, precision : optional
        Backend settings (default: the first block's); setting them on the operator sets
        them on every block.

    ``PCmv(x, alpha=1, gamma=0)`` applies each block's ``PCmv`` to its piece (blocks without
    ``PCmv`` raise ``NotImplementedError``); ``getPCop()`` is the block diagonal of the
    blocks' ``getPCop()``.
    """

    def __init__(self, *blocks, useGPU=None, precision=None):
        if len(blocks) == 1 and isinstance(blocks[0], (list, tuple)):
            blocks = tuple(blocks[0])
        if not blocks:
            raise ValueError("opBlkdiag: needs at least one block")
        blocks = tuple(_asOperator(A, "opBlkdiag", k) for k, A in enumerate(blocks))
        self.blocks = blocks
        self._nk = [_size(A.n) for A in blocks]
        self._mk = [_size(A.m) for A in blocks]
        self.batched = all(_isBatched(A) for A in blocks)
        useGPU, precision = _backendOf(blocks, useGPU, precision)
        super().__init__((sum(self._mk),), (sum(self._nk),), useGPU=useGPU, precision=precision)

    def _onBackendChange(self):
        for A in self.blocks:
            if A.useGPU != self.useGPU:
                A.useGPU = self.useGPU
            if A.precision != self.precision:
                A.precision = self.precision

    def _apply(self, X, ops, sizesIn, transpose):
        xp = getArrayModuleOf(X)
        N = X.shape[0]
        out, start = [], 0
        for A, nk in zip(ops, sizesIn):
            piece = X[:, start:start + nk]
            start += nk
            shapeIn = A.m if transpose else A.n
            f = A.ATmv if transpose else A.Amv
            if self.batched:
                out.append(f(piece.reshape((N,) + tuple(shapeIn))).reshape(N, -1))
            else:
                out.append(f(piece[0].reshape(shapeIn)).reshape(1, -1))
        return xp.concatenate(out, axis=1)

    def _forward(self, X):
        return self._apply(X, self.blocks, self._nk, False)

    def _adjoint(self, Y):
        return self._apply(Y, self.blocks, self._mk, True)

    def PCmv(self, x, alpha=1.0, gamma=0.0):
        """Each block's ``PCmv(x_k, alpha, gamma)``, concatenated."""
        for k, A in enumerate(self.blocks):
            if not hasattr(A, "PCmv"):
                raise NotImplementedError(f"opBlkdiag.PCmv: block {k} ({type(A).__name__}) has no PCmv")

        def solve(X):
            xp = getArrayModuleOf(X)
            N = X.shape[0]
            out, start = [], 0
            for A, nk in zip(self.blocks, self._nk):
                piece = X[:, start:start + nk]
                start += nk
                if self.batched:
                    out.append(A.PCmv(piece.reshape((N,) + A.n), alpha, gamma).reshape(N, -1))
                else:
                    out.append(A.PCmv(piece[0].reshape(A.n), alpha, gamma).reshape(1, -1))
            return xp.concatenate(out, axis=1)
        return applyShaped("opBlkdiag.PCmv", x, self.n, self.n, solve, self.batched)

    def getPCop(self):
        """The block diagonal of the blocks' preconditioners."""
        return opBlkdiag(*[A.getPCop() for A in self.blocks])


def blkdiag(*blocks, useGPU=None, precision=None):
    """``opBlkdiag(*blocks)``: the block-diagonal operator (Meganet.m's ``blkdiag``)."""
    return opBlkdiag(*blocks, useGPU=useGPU, precision=precision)


class opHcat(TensorOperator):
    """Horizontal concatenation ``[A_1, ..., A_k]`` (Meganet.m's ``hcat``).

    All blocks must have the same range shape ``m``; the domain is the concatenation of the
    flattened domains, ``(sum_k prod(A_k.n),)``. With ``x = [x_1; ...; x_k]``::

        A x   = A_1 x_1 + ... + A_k x_k           (shape m)
        A^T y = [A_1^T y; ...; A_k^T y]            (each flattened)

    Batched: yes when every block is a batched meganet operator; otherwise single inputs only.
    """

    def __init__(self, *blocks, useGPU=None, precision=None):
        if len(blocks) == 1 and isinstance(blocks[0], (list, tuple)):
            blocks = tuple(blocks[0])
        if not blocks:
            raise ValueError("opHcat: needs at least one block")
        blocks = tuple(_asOperator(A, "opHcat", k) for k, A in enumerate(blocks))
        m = blocks[0].m
        for k, A in enumerate(blocks):
            if A.m != m:
                raise ValueError(f"opHcat: all blocks need the same range shape m; block 0 has "
                                 f"m={m}, block {k} has m={A.m}")
        self.blocks = blocks
        self._nk = [_size(A.n) for A in blocks]
        self.batched = all(_isBatched(A) for A in blocks)
        useGPU, precision = _backendOf(blocks, useGPU, precision)
        super().__init__(m, (sum(self._nk),), useGPU=useGPU, precision=precision)

    _onBackendChange = opBlkdiag._onBackendChange

    def _forward(self, X):
        N = X.shape[0]
        out, start = None, 0
        for A, nk in zip(self.blocks, self._nk):
            piece = X[:, start:start + nk]
            start += nk
            if self.batched:
                r = A.Amv(piece.reshape((N,) + A.n)).reshape((N,) + self.m)
            else:
                r = A.Amv(piece[0].reshape(A.n)).reshape((1,) + self.m)
            out = r if out is None else out + r
        return out

    def _adjoint(self, Y):
        xp = getArrayModuleOf(Y)
        N = Y.shape[0]
        if self.batched:
            out = [A.ATmv(Y).reshape(N, -1) for A in self.blocks]
        else:
            out = [A.ATmv(Y[0]).reshape(1, -1) for A in self.blocks]
        return xp.concatenate(out, axis=1)


def hcat(*blocks, useGPU=None, precision=None):
    """``opHcat(*blocks)``: ``[A_1, ..., A_k]`` (Meganet.m's ``hcat``)."""
    return opHcat(*blocks, useGPU=useGPU, precision=precision)



LinearOperator.blockOperators.update(blkdiag=opBlkdiag, hcat=opHcat)
