"""Shared pieces of the kernel-based layers: biases, backend inheritance, size checks.

Biases (Meganet.m's ``Bin``/``Bout``) are linear maps ``B: R^nb -> features``, broadcast
over examples. A bias is given as

* ``None`` (no bias, ``nb = 0``),
* a 2-D array of shape ``(numel(featShape), nb)`` (column ``k`` is basis vector ``k`` of the
  per-example feature vector, C order), or
* a :class:`~meganet.linops.LinearOperator` with domain ``(nb,)`` whose range has
  ``numel(featShape)`` entries, e.g. ``opCNNBias((H, W, C))`` for one bias per channel.

With ``Bb`` the bias field, its weights enter as ``Z[n] += Bb`` for every example ``n``, so
the adjoint sums over examples: ``dtheta_b = B^T sum_n W[n]`` (per example, ``B^T W[n]``).
"""
import numpy

from ..backend import checkPrecision, checkUseGPU
from ..linops.linearOperator import LinearOperator
from ..linops.opCNNBias import opCNNBias

__all__ = []


def prepareBias(B, featShape, owner, name):
    """Validate a bias argument and return it on the owner's backend (or None)."""
    if B is None:
        return None
    numel = int(numpy.prod(featShape))
    if isinstance(B, LinearOperator):
        if B.shape[0] != numel:
            raise ValueError(f"{owner}: {name} must map to {numel} features (shape {tuple(featShape)}); "
                             f"got an operator with range {B.m}")
        return B
    if not hasattr(B, "ndim") or B.ndim != 2 or B.shape[0] != numel:
        raise ValueError(f"{owner}: {name} must be None, a LinearOperator or a matrix with {numel} rows "
                         f"(numel of the feature shape {tuple(featShape)}); got "
                         f"{tuple(B.shape) if hasattr(B, 'shape') else type(B).__name__}")
    return B


def nBias(B):
    """Number of bias weights."""
    return 0 if B is None else int(B.shape[1])


def biasApply(B, th, featShape):
    """The bias field ``B th`` with the feature shape (broadcasts over examples)."""
    return (B @ th).reshape(featShape)


def biasApplyT(B, W, reduceDim=True):
    """``B^T sum_n W[n]`` (``reduceDim``) or ``B^T W[n]`` per example, shape ``(N, nb)``."""
    N = W.shape[0]
    if isinstance(B, opCNNBias) and not reduceDim:
        return W.reshape(N, -1, B.nImg[-1]).sum(axis=1)
    if isinstance(B, LinearOperator):
        if reduceDim:
            return B.ATmv(W.sum(axis=0).reshape(B.m)).reshape(-1)
        return _stack(W, [B.ATmv(W[i].reshape(B.m)).reshape(-1) for i in range(N)])
    if reduceDim:
        return W.sum(axis=0).reshape(-1) @ B
    return W.reshape(N, -1) @ B


def _stack(ref, rows):
    from ..backend import getArrayModuleOf
    return getArrayModuleOf(ref).stack(rows)


def resolveBackend(useGPU, precision, children):
    """Backend of a layer: the given settings, else those of its first child."""
    first = children[0]
    useGPU = first.useGPU if useGPU is None else checkUseGPU(useGPU)
    precision = first.precision if precision is None else checkPrecision(precision)
    return useGPU, precision


def checkNormLayer(normLayer, featShape, owner, name, where):
    """A normalization layer must act on the features it is applied to."""
    if normLayer is None:
        return
    if tuple(normLayer.sizeFeatIn()) != tuple(featShape):
        raise ValueError(f"{owner}: {name}.sizeFeatIn() must equal the {where} {tuple(featShape)}; "
                         f"got {tuple(normLayer.sizeFeatIn())}")


def splitTheta(theta, sizes):
    """Consecutive views of ``theta`` with the given sizes."""
    out, start = [], 0
    for n in sizes:
        out.append(theta[start:start + n])
        start += n
    return tuple(out)
