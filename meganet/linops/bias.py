"""Biases of the layers and blocks (Meganet.m's ``Bin``/``Bout``).

Biases are linear maps ``B: R^nb -> features``, broadcast over examples. A bias is given as

* ``None`` (no bias, ``nb = 0``),
* a 2-D array of shape ``(numel(featShape), nb)`` (column ``k`` is basis vector ``k`` of the
  per-example feature vector, C order), or
* a :class:`~meganet.linops.LinearOperator` with domain ``(nb,)`` whose range has
  ``numel(featShape)`` entries, e.g. ``opCNNBias((H, W, C))`` for one bias per channel.

With ``Bb`` the bias field, its weights enter as ``Z[n] += Bb`` for every example ``n``, so
the adjoint sums over examples: ``dtheta_b = B^T sum_n W[n]`` (per example, ``B^T W[n]``).
An operator applies itself as a bias with its methods ``biasApply``/``biasApplyT`` (which
an operator may specialise, as ``opCNNBias`` does); the functions below add the matrix form.
"""
import numpy

from .linearOperator import LinearOperator

__all__ = []


def prepareBias(B, featShape, owner, name):
    """Validate a bias argument (None, a matrix or a LinearOperator) and return it."""
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
    """Number of bias weights (0 for no bias)."""
    return 0 if B is None else int(B.shape[1])


def biasApply(B, th, featShape):
    """The bias field ``B th`` with the feature shape (broadcasts over examples)."""
    return (B @ th).reshape(featShape)


def biasApplyT(B, W, reduceDim=True):
    """``B^T sum_n W[n]`` (``reduceDim``) or ``B^T W[n]`` per example, shape ``(N, nb)``."""
    if isinstance(B, LinearOperator):
        return B.biasApplyT(W, reduceDim)
    if reduceDim:
        return W.sum(axis=0).reshape(-1) @ B
    return W.reshape(W.shape[0], -1) @ B
