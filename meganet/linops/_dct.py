"""Orthonormal DCT-II matrices and the spectrum of the 1-D Neumann Laplacian.

For the forward difference ``D`` of shape ``(n-1, n)`` (``(D x)_k = (x_{k+1} - x_k) / h``)
the matrix ``D^T D`` (the 1-D Laplacian with Neumann boundary conditions) is diagonalised
by the orthonormal DCT-II matrix ``Q``::

    D^T D = Q^T diag(lam) Q,   lam_k = 4 sin^2(pi k / (2 n)) / h^2,   k = 0..n-1,
    Q[k, j] = c_k cos(pi k (2 j + 1) / (2 n)),  c_0 = sqrt(1/n), c_k = sqrt(2/n).

``lam_0 = 0`` exactly (constants are in the null space). The transforms are applied as
small dense matrix products, so they run on any array backend.
"""
import numpy

__all__ = []


def dctMatrix(n):
    """The orthonormal DCT-II matrix of size ``n`` x ``n`` (host, float64)."""
    k = numpy.arange(n)[:, None]
    j = numpy.arange(n)[None, :]
    Q = numpy.cos(numpy.pi * k * (2 * j + 1) / (2 * n))
    Q[0] *= numpy.sqrt(1.0 / n)
    Q[1:] *= numpy.sqrt(2.0 / n)
    return Q


def eigLap1D(n, h=1.0):
    """Eigenvalues of ``D^T D`` for the forward difference on ``n`` nodes with spacing ``h``."""
    k = numpy.arange(n)
    return 4.0 * numpy.sin(numpy.pi * k / (2.0 * n)) ** 2 / float(h) ** 2
