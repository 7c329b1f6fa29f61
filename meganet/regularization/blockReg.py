"""``BlockReg``: one regularizer per consecutive block of the weights (Meganet.m's ``blockReg``)."""
import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost
from ..linops.opBlkdiag import opBlkdiag
from .abstractRegularizer import AbstractRegularizer

__all__ = ["BlockReg"]


class BlockReg(AbstractRegularizer):
    """Sum of regularizers acting on consecutive blocks of ``x``.

    ``x = [x_1; ...; x_k]`` with block ``x_j`` of ``sizes[j]`` entries::

        S(x)  = sum_j S_j(x_j)
        dS    = [dS_1; ...; dS_k]
        d2S   = blkdiag(d2S_1, ..., d2S_k)

    Parameters
    ----------
    regs : sequence of regularizers (or None)
        Objects with ``regularizer(x_j) -> (S_j, para_j, dS_j, d2S_j)`` (e.g. ``TikhonovReg``,
        ``L1Reg``, ``L2Reg``, another ``BlockReg``); ``None`` leaves its block unregularized
        (its size must then be given). Blocks of size 0 (e.g. a network block without
        weights) are allowed and contribute nothing.
    sizes : sequence of int, optional
        Block sizes. By default each regularizer's ``nTheta()`` (the size of its operator's
        domain); a regularizer that accepts any length (``TikhonovReg(B=None)``) needs its
        size given here. Given sizes must agree with the known ``nTheta()``.
    useGPU, precision : optional
        Pushed to the regularizers (default: the first one's settings).

    ``para = [S, 1, S_1, ..., S_k]`` as in Meganet.m; ``hisVals(para) = para[:2]``.
    """

    def __init__(self, regs, sizes=None, useGPU=None, precision=None):
        if isinstance(regs, AbstractRegularizer) or not hasattr(regs, "__len__"):
            raise TypeError(f"BlockReg: regs must be a list of regularizers; got {type(regs).__name__}")
        regs = list(regs)
        if not regs:
            raise ValueError("BlockReg: regs must contain at least one regularizer")
        if all(r is None for r in regs):
            raise ValueError("BlockReg: regs must contain at least one regularizer (not only None)")
        for k, r in enumerate(regs):
            if r is not None and not hasattr(r, "regularizer"):
                raise TypeError(f"BlockReg: regs[{k}] has no regularizer method; got {type(r).__name__}")
        known = [r.nTheta() if hasattr(r, "nTheta") and r is not None else None for r in regs]
        if sizes is None:
            missing = [k for k, n in enumerate(known) if n is None]
            if missing:
                raise ValueError(f"BlockReg: the sizes of regs {missing} are unknown (they accept any "
                                 "length); pass sizes=[...]")
            sizes = known
        else:
            sizes = list(sizes)
            if len(sizes) != len(regs):
                raise ValueError(f"BlockReg: need one size per regularizer ({len(regs)}); "
                                 f"got {len(sizes)} sizes")
            for k, (s, n) in enumerate(zip(sizes, known)):
                if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                    raise ValueError(f"BlockReg: sizes must be non-negative integers; got {sizes}")
                if n is not None and s != n:
                    raise ValueError(f"BlockReg: sizes[{k}] = {s} but regs[{k}].nTheta() = {n}")
        self.blocks = regs
        self.sizes = [int(s) for s in sizes]
        self._checkWeights()
        super().__init__(useGPU=useGPU, precision=precision)

    def nTheta(self):
        return sum(self.sizes)

    def hisNames(self):
        return ["R", "alpha"], ["%-12.2e", "%-12.2e"]

    def hisVals(self, para):
        return super().hisVals(para)[:2]

    def _active(self):
        """(regularizer or None, size) of the non-empty blocks."""
        return [(r, n) for r, n in zip(self.blocks, self.sizes) if n > 0]

    def getPC(self):
        """Block diagonal of the blocks' ``getPC()`` (identity for unregularized blocks)."""
        from ..linops.opEye import opEye
        return opBlkdiag(*[opEye(n, useGPU=self.useGPU, precision=self.precision) if r is None
                           else r.getPC() for r, n in self._active()])

    def _checkWeights(self):
        """Every child's weight ``alpha`` (if it has one) must be finite and >= 0."""
        for k, r in enumerate(self.blocks):
            a = getattr(r, "alpha", None) if r is not None else None
            if a is None:
                continue
            vals = numpy.atleast_1d(numpy.asarray(toHost(a) if isDeviceArray(a) else a,
                                                  dtype=float))
            if not numpy.all(numpy.isfinite(vals)) or numpy.any(vals < 0):
                raise ValueError(f"BlockReg: regs[{k}] ({type(r).__name__}) has the weight "
                                 f"alpha={a!r}; weights must be finite and >= 0 (a negative "
                                 "weight makes the objective unbounded below)")

    def regularizer(self, x):
        self._checkX(x)
        self._checkWeights()
        xp = getArrayModuleOf(x)
        Sc, vals, grads, hess = 0.0, [], [], []
        start = 0
        for r, n in zip(self.blocks, self.sizes):
            xk = x[start:start + n]
            start += n
            if n == 0:
                vals.append(0.0)
                continue
            if r is None:
                vals.append(0.0)
                grads.append(xp.zeros_like(xk))
                hess.append(_zeroOperator(n, self))
                continue
            Sk, _, dSk, d2Sk = r.regularizer(xk)
            Sc = Sc + Sk
            vals.append(Sk)
            grads.append(dSk.reshape(-1))
            hess.append(d2Sk)
        dS = xp.concatenate(grads)
        d2S = opBlkdiag(*hess)
        return Sc, self._para(x, Sc, 1.0, *vals), dS, d2S


def _zeroOperator(n, reg):
    from ..linops.linearOperator import LinearOperator
    return LinearOperator((n,), (n,), lambda v: 0 * v, lambda v: 0 * v,
                          useGPU=reg.useGPU, precision=reg.precision)
