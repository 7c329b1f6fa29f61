"""Base class of the optimizers and the helpers they share (Meganet.m's ``optimizer``).

The objective-function protocol the optimizers rely on is documented in the package
docstring (:mod:`meganet.optim`); :class:`Objective` wraps a user's objective once per
``solve`` and turns every call into the five values ``(Jc, para, dJ, H, PC)``.
"""
import inspect
import math
import warnings
from collections.abc import Mapping

import numpy

from ..backend import getArrayModuleOf, isDeviceArray, toHost
from ..validation import checkBool, checkCallable, checkFloat, checkVector  # noqa: F401
from ..validation import checkInt as _checkInt
from .history import History, defaultFormat, formatHeader, formatRow, uniqueNames

__all__ = ["Optimizer", "Objective"]


# ------------------------------------------------------------------ option checks
def checkInt(owner, name, value, low=None, allowInf=False):
    """An integer option ``>= low``; integral floats (``1e3``) are accepted, as MATLAB options."""
    return _checkInt(owner, name, value, low=low, allowInf=allowInf, integralFloat=True)


# ------------------------------------------------------------------ arrays
def hostFloat(v):
    """A scalar (Python, NumPy or 0-d device array) as a Python float."""
    if isDeviceArray(v):
        return float(v)
    return float(numpy.asarray(v))


def norm(x):
    """Euclidean norm of a 1-D array as a Python float (one device synchronisation)."""
    xp = getArrayModuleOf(x)
    return float(xp.linalg.norm(x))


def dot(a, b):
    """``a^T b`` for 1-D arrays, kept on the backend (a 0-d array)."""
    xp = getArrayModuleOf(a, b)
    return xp.dot(a, b)


def copyArray(x):
    xp = getArrayModuleOf(x)
    return xp.array(x, copy=True)


def applyOperator(A, v, owner="operator"):
    """``A v`` for a Hessian (or other operator) in any of the supported forms.

    ``A`` may be a :class:`meganet.linops.LinearOperator` (anything with ``Amv``),
    a callable ``v -> A v``, or a 2-D array / matrix (``A @ v``).
    """
    if hasattr(A, "Amv"):
        return A.Amv(v)
    if callable(A):
        return A(v)
    if hasattr(A, "shape") and len(A.shape) == 2:
        return A @ v
    raise TypeError(f"{owner}: cannot apply an object of type {type(A).__name__}; expected a "
                    "LinearOperator, a callable v -> A v or a 2-D array")


def applyPreconditioner(PC, r, owner="preconditioner"):
    """``M^{-1} r`` for a preconditioner ``PC``.

    As in Meganet.m, a callable or LinearOperator applies the approximate *inverse*
    ``r -> M^{-1} r``, while a 2-D array is the matrix ``M`` itself (an approximation of
    the system matrix) and is applied by solving ``M z = r``. ``None`` is the identity.
    """
    if PC is None:
        return r
    if hasattr(PC, "Amv"):
        return PC.Amv(r)
    if callable(PC):
        return PC(r)
    if hasattr(PC, "toarray") and not hasattr(PC, "get"):  # scipy.sparse (host only)
        import scipy.sparse.linalg as spla
        return numpy.asarray(spla.spsolve(PC.tocsc(), r))
    if hasattr(PC, "shape") and len(PC.shape) == 2:
        xp = getArrayModuleOf(PC, r)
        return xp.linalg.solve(PC, r)
    raise TypeError(f"{owner}: cannot apply an object of type {type(PC).__name__}; expected "
                    "None, a LinearOperator, a callable r -> M^{-1} r or a 2-D array M")


def allFinite(x):
    """True when every entry of the array ``x`` is finite (one synchronisation)."""
    xp = getArrayModuleOf(x)
    return bool(xp.all(xp.isfinite(x)))


# ------------------------------------------------------------------ objectives
def _acceptsKeyword(fctn, name):
    try:
        sig = inspect.signature(fctn)
    except (TypeError, ValueError):
        return False
    p = sig.parameters.get(name)
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def _splitNames(names):
    """``(names, formats or None)``; Meganet.m's hisNames() returns (str, frmt)."""
    frmt = None
    if isinstance(names, tuple) and len(names) == 2 and all(
            isinstance(v, (list, tuple)) for v in names):
        names, frmt = names
    if isinstance(names, str):
        names = [names]
    names = [str(n) for n in names]
    if frmt is not None:
        frmt = [str(f) for f in frmt]
        if len(frmt) != len(names) or not all(f.startswith("%") for f in frmt):
            frmt = None
    return names, frmt


def _hostValues(vals):
    if vals is None:
        return []
    if isDeviceArray(vals) or isinstance(vals, numpy.ndarray):
        return [float(v) for v in numpy.ravel(toHost(vals))]
    if numpy.isscalar(vals):
        return [float(vals)]
    out = []
    for v in vals:
        if isDeviceArray(v) or isinstance(v, numpy.ndarray):
            out.extend(float(w) for w in numpy.ravel(toHost(v)))
        else:
            out.append(float(v))
    return out


class Objective:
    """Wraps an objective function for an optimizer (one instance per ``solve``).

    Calls ``fctn(x)`` (``idx is None``) or ``fctn(x, idx)``, passes ``doDerivative=False``
    when only the value is needed and ``fctn`` names a ``doDerivative`` parameter, and
    returns ``(Jc, para, dJ, H, PC)`` (``H``/``PC`` are ``None`` for objectives that return
    three values; ``para`` is ``{}`` when the objective returned ``None``).
    """

    def __init__(self, fctn, owner="optimizer", role="objective"):
        if not callable(fctn):
            raise TypeError(f"{owner}: the {role} must be callable as fctn(x, idx=None) -> "
                            f"(Jc, para, dJ[, H, PC]); got {type(fctn).__name__}")
        self.fctn = fctn
        self.owner = owner
        self.role = role
        self._hasDoDerivative = _acceptsKeyword(fctn, "doDerivative")
        self.nEvals = 0
        self.formats = None     # printf formats of the history columns, when reported

    def __call__(self, x, idx=None, doDerivative=True):
        args = (x,) if idx is None else (x, idx)
        kw = {"doDerivative": False} if (not doDerivative and self._hasDoDerivative) else {}
        res = self.fctn(*args, **kw)
        self.nEvals += 1
        if not isinstance(res, (tuple, list)) or len(res) not in (3, 5):
            got = f"a {type(res).__name__} of length {len(res)}" if isinstance(
                res, (tuple, list)) else type(res).__name__
            raise TypeError(f"{self.owner}: the {self.role} must return (Jc, para, dJ) or "
                            f"(Jc, para, dJ, H, PC); got {got}")
        Jc, para, dJ = res[0], res[1], res[2]
        H, PC = (res[3], res[4]) if len(res) == 5 else (None, None)
        if para is None:
            para = {}
        if doDerivative and dJ is None:
            raise TypeError(f"{self.owner}: the {self.role} returned no gradient (dJ is None)")
        return Jc, para, dJ, H, PC

    def hisColumns(self, para):
        """History columns ``(names, values)`` of this objective at ``para``.

        Taken from ``para['hisNames']``/``para['hisVals']`` when present, else from the
        methods ``fctn.hisNames()``/``fctn.hisVals(para)`` (Meganet.m's objFctn interface),
        else empty.
        """
        if isinstance(para, Mapping) and "hisNames" in para and "hisVals" in para:
            names, self.formats = _splitNames(para["hisNames"])
            vals = _hostValues(para["hisVals"])
        elif callable(getattr(self.fctn, "hisNames", None)) and callable(
                getattr(self.fctn, "hisVals", None)):
            names, self.formats = _splitNames(self.fctn.hisNames())
            vals = _hostValues(self.fctn.hisVals(para))
        else:
            return [], []
        if len(names) != len(vals):
            raise ValueError(f"{self.owner}: the {self.role} reports {len(names)} history names "
                             f"{names} but {len(vals)} values")
        return names, vals

    def nData(self):
        """Number of training examples: ``fctn.nData()``, else ``fctn.Y.shape[0]``."""
        f = self.fctn
        if callable(getattr(f, "nData", None)):
            n = f.nData()
        elif getattr(f, "Y", None) is not None and hasattr(f.Y, "shape"):
            n = f.Y.shape[0]
        else:
            raise TypeError(f"{self.owner}: the objective must report its number of training "
                            "examples through a method nData() (or an attribute Y with the "
                            f"examples along the first axis); {type(f).__name__} has neither")
        if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{self.owner}: the objective's nData() must be a non-negative "
                             f"integer; got {n!r}")
        return int(n)


def validationPoint(x, para):
    """Where the validation objective is evaluated: ``x``, or ``[x; para['W']]``.

    As Meganet.m's optimizers do for variable-projection objectives: when the training
    objective reports the eliminated weights ``W`` in ``para``, the validation
    objective sees the concatenation of ``x`` and ``W`` (flattened).
    """
    W = para.get("W") if isinstance(para, Mapping) else None
    if W is None or getattr(W, "size", 1) == 0:
        return x
    xp = getArrayModuleOf(x)
    if isDeviceArray(x) and not isDeviceArray(W):
        W = xp.asarray(W)
    elif not isDeviceArray(x):
        W = toHost(W)
    return xp.concatenate([x, xp.reshape(W, (-1,)).astype(x.dtype)])


# ------------------------------------------------------------------ history rows
class Recorder:
    """Builds the history rows of one ``solve``, prints them and tracks ``xOpt``.

    A row holds the optimizer's own columns, then the training objective's history
    columns (prefixed ``'train '``), then, when a validation objective ``fval`` is given,
    its value ``'val Jc'`` and its history columns (prefixed ``'val '``). The column names
    are fixed by the first row.

    ``xOpt`` rule (applied to every row):

    1. a validation objective is given and one of its history names contains ``"acc"``
       (case-insensitive; the first such column, e.g. ``'val accuracy'``): the iterate
       with the largest value of that column;
    2. a validation objective is given otherwise: the smallest validation objective
       value (column ``'val Jc'``);
    3. no validation objective: the smallest training objective value (column ``'Jc'``).

    Ties keep the earlier iterate; rows whose criterion is NaN never win.
    """

    def __init__(self, owner, optNames, optFrmt, obj, val=None, out=0, title=""):
        self.owner = owner
        self.optNames = list(optNames)
        self.optFrmt = list(optFrmt)
        self.obj = obj
        self.val = val
        self.out = out
        self.title = title
        self.names = None
        self.frmt = None
        self.nObj = self.nVal = 0
        self.objNames, self.valNames = [], []
        self.rows = []
        self.bestScore = math.inf
        self.bestX = None
        self.bestRow = -1
        self.column = None
        self.sign = 1.0
        self._warnedNaN = False

    # -- column set-up ---------------------------------------------------------------
    def setup(self, objNames, valNames):
        hasVal = self.val is not None
        def formats(o, names):
            f = getattr(o, "formats", None)
            return list(f) if f is not None and len(f) == len(names) else [
                defaultFormat(n) for n in names]
        names = self.optNames + ["train " + n for n in objNames]
        frmt = self.optFrmt + formats(self.obj, objNames)
        if hasVal:
            names += ["val Jc"] + ["val " + n for n in valNames]
            frmt += ["%-12.2e"] + formats(self.val, valNames)
        self.names = uniqueNames(names)
        self.frmt = frmt
        self.nObj, self.nVal = len(objNames), len(valNames)
        self.objNames, self.valNames = list(objNames), list(valNames)
        acc = [j for j, n in enumerate(valNames) if "acc" in n.lower()]
        nOpt = len(self.optNames)
        if hasVal and acc:
            self.column, self.sign = self.names[nOpt + self.nObj + 1 + acc[0]], -1.0
        elif hasVal:
            self.column, self.sign = "val Jc", 1.0
        else:
            self.column, self.sign = "Jc", 1.0
        if self.out > 0:
            if self.title:
                print(self.title)
            print(formatHeader(self.names))

    @property
    def criterion(self):
        """How ``xOpt`` is chosen, e.g. ``'max val accuracy'``."""
        return None if self.column is None else ("max " if self.sign < 0 else "min ") + self.column

    # -- rows --------------------------------------------------------------------------
    def evalValidation(self, x, para, where=""):
        """``(Fval, pVal)`` of the validation objective at ``x``; NaN is reported once."""
        if self.val is None:
            return math.nan, None
        Fval, pVal = self.val(validationPoint(x, para), doDerivative=False)[:2]
        Fval = hostFloat(Fval)
        if math.isnan(Fval) and not self._warnedNaN:
            self._warnedNaN = True
            warnings.warn(f"{self.owner}: the validation objective is NaN{where}; such rows are "
                          "never chosen as xOpt (reported once per run)", RuntimeWarning,
                          stacklevel=4)
        return Fval, pVal

    def makeRow(self, optValues, x, para):
        """The full row for the optimizer values ``optValues`` at iterate ``x``."""
        where = f" at {self.optNames[0]} {int(optValues[0])}" if self.optNames else ""
        Fval, pVal = self.evalValidation(x, para, where)
        objNames, objVals = self.obj.hisColumns(para)
        valNames, valVals = self.val.hisColumns(pVal) if self.val is not None else ([], [])
        if self.names is None:
            self.setup(objNames, valNames)
        if len(objVals) != self.nObj or len(valVals) != self.nVal:
            raise ValueError(f"{self.owner}: the number of history values of the objectives "
                             f"changed during the run (training {self.nObj} -> {len(objVals)}, "
                             f"validation {self.nVal} -> {len(valVals)})")
        row = [float(v) for v in optValues] + objVals
        if self.val is not None:
            row += [Fval] + valVals
        return row

    def score(self, row):
        """``sign * criterion`` of a row (smaller is better; NaN -> inf)."""
        v = row[self.names.index(self.column)]
        return math.inf if math.isnan(v) else self.sign * v

    def printRow(self, row):
        if self.out > 0:
            print(formatRow(self.frmt, row))

    def record(self, optValues, x, para):
        """Make, store and print a row; update ``xOpt``. Returns the row."""
        row = self.makeRow(optValues, x, para)
        self.rows.append(row)
        self.printRow(row)
        s = self.score(row)
        if s < self.bestScore:
            self.bestScore, self.bestX, self.bestRow = s, copyArray(x), len(self.rows) - 1
        return row

    def history(self, **info):
        names = self.names if self.names is not None else self.optNames
        frmt = self.frmt if self.frmt is not None else self.optFrmt
        return History(names, self.rows, frmt, optCriterion=self.criterion,
                       optIndex=self.bestRow, **info)


# ------------------------------------------------------------------ base class
class Optimizer:
    """Base class of meganet's optimizers (Meganet.m's ``optimizer``).

    Subclasses implement ``solve(fctn, x0, fval=None) -> (xc, His, xOpt)`` and
    ``hisNames() -> (names, formats)`` of their own history columns; the bookkeeping of
    the objectives' history columns, the printed table and ``xOpt`` is done by
    :class:`Recorder`.
    """

    def hisNames(self):
        """Names and formats of the optimizer's own history columns (Meganet.m's hisNames)."""
        raise NotImplementedError

    def _options(self):
        return {}

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({opts})"
