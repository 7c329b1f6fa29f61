"""Time basis of the weights of the time-stepping blocks (Meganet.m's option ``A``).

A block with ``nTimes`` weight time points (``nt`` for ResNN/LeapFrogNN/HamiltonianNN,
``2 * len(tY) - 1`` nodes and midpoints for ResNNrk4) and a per-time-point weight vector of
length ``m`` parameterises the weights at time point ``j`` as a combination of ``nCoeff``
coefficient vectors::

    Theta_j = sum_k A[k, j] theta_k          (j = 0 .. nTimes-1)
    theta   = [theta_0; theta_1; ...]        (C order of an (nCoeff, m) array)

i.e. ``Theta = A^T C`` with ``C = theta.reshape(nCoeff, m)``; ``nTheta = nCoeff * m``. The
default ``A = None`` is the identity (one independent weight vector per time point,
``Theta = C``). Adjoints apply ``A``: a gradient ``G`` with respect to the per-time-point
weights (rows ``G_j``) gives ``dtheta = (A G).ravel()``; per example ``A G[n]``.

``initTheta`` repeats the layer's initial weights ``t0`` at every time point and solves
``A^T C = 1 t0^T`` for the coefficients in the least-squares sense (exact when ``A^T`` has
full column rank and the constant lies in its range), i.e. ``C = c t0^T`` with ``c`` the
least-squares solution of ``A^T c = 1`` -- as Meganet.m's ``repmat(...)/A``.
"""
import numpy

from ..backend import toHost
from ..utils.inter1D import inter1D

__all__ = []


class TimeBasisMixin:
    """Weight handling of the time-stepping blocks (see :class:`.TimeSteppingBlock`).

    The class using it provides ``_nTimes()`` (weight time points) and ``_nThetaStep()``
    (weights per time point) and calls ``_setTimeBasis(A, owner)`` in its constructor.
    """

    def _setTimeBasis(self, A, owner):
        if A is None:
            self.A = None
            return
        if hasattr(A, "toarray") and hasattr(A, "nnz"):  # SciPy sparse
            A = A.toarray()
        try:
            Ah = numpy.asarray(toHost(A), dtype=numpy.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{owner}: A must be a 2-D array (nCoeff, {self._nTimes()}); "
                            f"got {type(A).__name__}") from err
        nT = self._nTimes()
        if Ah.ndim != 2 or Ah.shape[0] < 1 or Ah.shape[1] != nT:
            raise ValueError(f"{owner}: A must have shape (nCoeff, {nT}) (one column per weight "
                             f"time point, {self._timePointsText()}); got shape {Ah.shape}")
        if not numpy.all(numpy.isfinite(Ah)):
            raise ValueError(f"{owner}: A contains non-finite values")
        self.A = self.asArray(Ah)

    def _timePointsText(self):
        return f"nt={self._nTimes()}"

    def nCoeff(self):
        """Number of time coefficients (rows of ``A``; ``nTimes`` for the identity)."""
        return self._nTimes() if self.A is None else int(self.A.shape[0])

    def nTheta(self):
        return self.nCoeff() * self._nThetaStep()

    def _stepWeights(self, theta):
        """Per-time-point weights, shape ``(nTimes, m)`` (rows contiguous)."""
        m = self._nThetaStep()
        C = theta.reshape(self.nCoeff(), m)
        if self.A is None:
            return C
        return self.xp.ascontiguousarray(self.A.T @ C)

    def _coeffGrad(self, G, reduceDim):
        """``A G`` flattened: ``G`` is ``(nTimes, m)`` or per example ``(N, nTimes, m)``."""
        if reduceDim:
            return (G if self.A is None else self.A @ G).reshape(-1)
        N = G.shape[0]
        return (G if self.A is None else self.xp.matmul(self.A, G)).reshape(N, -1)

    def _initCoeffs(self, t0):
        """Coefficients that give the weights ``t0`` at every time point (least squares)."""
        xp = self.xp
        nT = self._nTimes()
        if self.A is None:
            return xp.tile(t0, nT)
        Ah = toHost(self.A).astype(numpy.float64)
        c = numpy.linalg.lstsq(Ah.T, numpy.ones(nT), rcond=None)[0]
        return (self.asArray(c)[:, None] * t0[None, :]).reshape(-1)

    def _isIdentityBasis(self):
        """True if ``A`` is None or (numerically) the identity, as Meganet.m tests it."""
        if self.A is None:
            return True
        Ah = toHost(self.A).astype(numpy.float64)
        n = Ah.shape[1]
        if Ah.shape[0] != n:
            return False
        return numpy.linalg.norm(Ah - numpy.eye(n)) / n < 1e-5

    def _requireIdentityBasis(self, what):
        if not self._isIdentityBasis():
            raise ValueError(f"{type(self).__name__}.{what}: only defined for the identity time "
                             f"basis (A=None); got A of shape {tuple(self.A.shape)}. Prolongate "
                             "the basis functions yourself and build a new block instead.")

    def _prolongateUniform(self, theta):
        """Double ``nt``, halve ``h``, interpolate linearly in time (uniform steps ``j h``).

        MUTATES the block (``nt -> 2 nt``, ``h -> h / 2``) and returns the new weights: the
        old per-step weights sit at ``t_j = j h`` (``j < nt``), the new ones at
        ``t_i = i h / 2`` (``i < 2 nt``), interpolated by :func:`meganet.utils.inter1D`
        (constant beyond the last old time point). Only for the identity time basis.
        (Meganet.m returns a new block and the new weights.)
        """
        self._requireIdentityBasis("prolongateWeights")
        t1 = [j * self.h for j in range(self.nt)]
        t2 = [i * self.h / 2 for i in range(2 * self.nt)]
        theta2 = inter1D(theta, t1, t2)
        self.nt, self.h, self.A = 2 * self.nt, self.h / 2, None
        return theta2
