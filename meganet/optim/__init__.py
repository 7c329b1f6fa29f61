"""Optimization: SGD (with checkpoints) and deterministic methods (Meganet.m's optimization).

Optimizers
----------
:class:`SGD` (momentum, Nesterov, ADAM; HDF5 checkpoints and resumption), :class:`SD`,
:class:`NLCG`, :class:`LBFGS`, :class:`Newton` (Newton-CG with a line search) and
:class:`TRNewton` (trust region); line searches :class:`Armijo` and :class:`Wolfe`;
linear solvers :class:`SteihaugPCG` and :class:`GMRES`; the box projection
:func:`projBound` / :class:`ProjBound`. Every optimizer is used as in Meganet.m::

    opt = SGD(learningRate=0.1, maxEpochs=4, miniBatch=100, out=1)
    xc, His, xOpt = opt.solve(fctn, x0, fval)

``solve`` returns the last iterate ``xc``, the history ``His`` (a :class:`History`:
column name -> 1-D NumPy array, with ``His.names``, ``His.his`` and ``His.table()``)
and the best iterate ``xOpt``: the one with the largest validation accuracy (the
first history column of the validation objective whose name contains ``"acc"``),
else the smallest validation objective value, else, without a validation objective,
the smallest training objective value.

Objective protocol
------------------
An objective is a callable::

    Jc, para, dJ          = fctn(x, idx=None)
    Jc, para, dJ, H, PC   = fctn(x, idx=None)      # also allowed (Newton-type methods)

* ``x``: flat 1-D array (NumPy or device array; optimizers keep ``x`` and ``dJ`` on
  that backend and copy only scalars to the host).
* ``idx``: 1-D NumPy integer array selecting training examples (mini-batch), or
  ``None`` for all examples. Deterministic methods and validation call ``fctn(x)``.
* ``Jc``: objective value (Python/NumPy scalar or 0-d array); ``dJ``: gradient,
  same shape, dtype and backend as ``x``.
* ``para``: a dict (or None). Optional keys: ``'hisNames'`` (list of column names,
  e.g. ``['misfit', 'accuracy']``) with ``'hisVals'`` (the values, same length) for
  the history; ``'W'`` (eliminated weights of variable-projection objectives: the
  validation objective is then evaluated at ``[x; W.ravel()]``, as in Meganet.m).
  Objectives with Meganet.m-style methods ``hisNames()`` and ``hisVals(para)`` are
  also understood.
* ``H``: the Hessian (or a Gauss-Newton approximation) at ``x``: a
  :class:`~meganet.linops.LinearOperator`, a callable ``v -> H v`` or a matrix; it
  should be matrix-free (cheap to return) because it is returned on every call.
  ``PC``: preconditioner or ``None``; a callable/LinearOperator applies the approximate
  inverse ``r -> M^{-1} r``, a matrix is ``M`` itself (applied by solving, as
  Meganet.m). :class:`Newton` and :class:`TRNewton` require five outputs.
* Optional keyword ``doDerivative``: if ``fctn`` has a parameter of this name, the
  optimizers pass ``doDerivative=False`` when they only need ``Jc`` and ``para`` (line
  search trials, the end-of-epoch evaluation, validation); ``dJ`` may then be None.
* Number of training examples (needed by :class:`SGD` only): ``fctn.nData()``; an
  objective without that method but with an attribute ``Y`` (examples along the first
  axis) gives ``Y.shape[0]``, as Meganet.m's ``sizeLastDim(objFctn.Y)``.

Non-finite objective values or gradients at accepted iterates stop every optimizer
with ``FloatingPointError`` naming the iteration (SGD: epoch and mini-batch).
"""
from .armijo import Armijo
from .checkpoint import CheckpointError, load_checkpoint
from .gmres import GMRES
from .history import History
from .lbfgs import LBFGS
from .matio import load_mat, save_mat
from .newton import Newton
from .nlcg import NLCG
from .optimizer import Optimizer
from .projBound import ProjBound, projBound
from .sd import SD
from .sgd import SGD
from .steihaugPCG import SteihaugPCG
from .trnewton import TRNewton
from .wolfe import Wolfe

__all__ = ["SGD", "SD", "NLCG", "LBFGS", "Newton", "TRNewton", "Armijo", "Wolfe",
           "SteihaugPCG", "GMRES", "ProjBound", "projBound", "History", "Optimizer",
           "save_mat", "load_mat", "load_checkpoint", "CheckpointError"]
