"""The result object of the derivative checks (``checkDerivative``, ``checkAdjoint``,
``checkJacobian``).

Every check returns a :class:`CheckResult`: truthy when the check passed, with

* ``isOK`` -- pass/fail,
* ``numbers()`` -- the measured numbers as a dict (errors, observed order, tolerance),
* ``report()`` -- a readable text (the table of a Taylor test, the inner products of an
  adjoint test, one line per check of an element).

Each kind also unpacks like Meganet.m's outputs: ``isOK, Err, Order = checkDerivative(...)``
(:class:`DerivativeCheck`), ``isOK, err = checkAdjoint(...)`` (:class:`ToleranceCheck`) and
``isOK, results = checkJacobian(element, ...)`` (:class:`ElementCheck`, in
:mod:`meganet.utils.checkJacobian`).
"""
__all__ = ["CheckResult", "ToleranceCheck"]


class CheckResult:
    """Base of the check results: pass/fail, numbers, report.

    Attributes
    ----------
    isOK : bool
    name : str
        What was checked (e.g. ``"Jthetamv"``); may be empty.
    """

    def __init__(self, isOK, name=""):
        self.isOK = bool(isOK)
        self.name = name

    def __bool__(self):
        return self.isOK

    def numbers(self):
        """The measured numbers, ``{name: value}``."""
        return {}

    def report(self):
        """A readable description of the check and its outcome."""
        nums = ", ".join(f"{k} {v:.3e}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in self.numbers().items())
        return (f"{self.name + ': ' if self.name else ''}{nums}{'; ' if nums else ''}"
                f"{'PASSED' if self.isOK else 'FAILED'}")

    def _status(self):
        return "ok  " if self.isOK else "FAIL"


class ToleranceCheck(CheckResult):
    """A relative error compared with a tolerance (adjoint tests, agreement of two products).

    Unpacks (and indexes) as ``isOK, err``.

    Attributes
    ----------
    err : float
        The relative error.
    tol : float
        The largest error accepted.
    detail : str
        Extra lines for :meth:`report` (e.g. the two inner products of an adjoint test).
    """

    def __init__(self, isOK, err, tol, name="", detail=""):
        super().__init__(isOK, name)
        self.err = float(err)
        self.tol = float(tol)
        self.detail = detail

    def __iter__(self):
        return iter((self.isOK, self.err))

    def __getitem__(self, i):
        return (self.isOK, self.err)[i]

    def __len__(self):
        return 2

    def numbers(self):
        return {"relative error": self.err, "tol": self.tol}

    def report(self):
        head = f"{self.detail}\n" if self.detail else ""
        return (f"{head}{self.name + ': ' if self.name else ''}relative error {self.err:.3e} "
                f"(tol {self.tol:.0e}): {'PASSED' if self.isOK else 'FAILED'}")

    def __repr__(self):
        return f"ToleranceCheck(isOK={self.isOK}, err={self.err:.3e})"
