"""Convergence histories of the optimizers (Meganet.m's ``His`` structs).

Meganet.m's optimizers return ``His = struct('str', names, 'frmt', formats, 'his', matrix)``
with one row per iteration or epoch. :class:`History` keeps the same information as a
``dict`` that maps each column name to a 1-D NumPy array, in column order, and offers
the MATLAB fields as attributes::

    His['Jc']          # the column of objective values, 1-D numpy array
    His.names          # column names, in order (MATLAB: His.str)
    His.his            # (nRows, nColumns) matrix (MATLAB: His.his)
    print(His.table()) # the table the optimizer prints with out > 0
"""
import math

import numpy

__all__ = ["History"]

# columns that hold counts and are printed as integers
_INT_COLUMNS = {"epoch", "iter", "TotalWork", "LS", "iterCG", "iterGMRES", "flagGMRES",
                "trFlag", "funEvalsLS", "flagCG"}


def defaultFormat(name):
    """printf-style format of a column (as Meganet.m's ``frmt``)."""
    if name in _INT_COLUMNS:
        return "%-12d"
    if name == "Time":
        return "%-12.2f"
    return "%-12.2e"


def formatValue(fmt, value):
    """Format one value; NaN (a value that does not exist for this row) prints as ``-``."""
    width = 12
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f"{str(value):<{width}}"
    if math.isnan(v):
        return f"{'-':<{width}}"
    try:
        if fmt.endswith("d"):
            out = str(v) if math.isinf(v) else fmt % int(round(v))
        else:
            out = fmt % v
    except (TypeError, ValueError):
        out = "%.2e" % v
    return f"{out:<{width}}" if len(out) < width else out + " "


def formatHeader(names):
    """The header line of a table (each name left-aligned in 12 characters)."""
    return "".join(f"{n:<12}" if len(n) < 12 else n + " " for n in names)


def formatRow(frmt, values):
    """One table line."""
    return "".join(formatValue(f, v) for f, v in zip(frmt, values))


def uniqueNames(names):
    """Make column names unique by appending `` (2)``, `` (3)``, ... to repeats."""
    out, seen = [], {}
    for n in names:
        n = str(n)
        if n in seen:
            seen[n] += 1
            cand = f"{n} ({seen[n]})"
            while cand in seen:
                seen[n] += 1
                cand = f"{n} ({seen[n]})"
            n = cand
        seen.setdefault(n, 1)
        out.append(n)
    return out


class History(dict):
    """Convergence history: column name -> 1-D ``numpy.ndarray`` (one entry per row).

    Parameters
    ----------
    names : sequence of str
        Column names in order (made unique if needed).
    rows : sequence of sequences of float, optional
        The rows; missing values are NaN.
    frmt : sequence of str, optional
        printf-style formats per column (default: integers for counters, ``%-12.2e``
        otherwise).
    **info
        Further attributes, e.g. ``stopReason`` (why the optimizer stopped),
        ``optCriterion``/``optIndex`` (how ``xOpt`` was chosen and in which row).

    Attributes
    ----------
    names : list of str
        Column names in order (``str`` is an alias, as Meganet.m's ``His.str``).
    frmt : list of str
    his : ndarray, shape (nRows, nColumns)
        All columns side by side (Meganet.m's ``His.his``).
    """

    def __init__(self, names, rows=(), frmt=None, **info):
        names = uniqueNames(names)
        nCol = len(names)
        rows = [list(r) for r in rows]
        for i, r in enumerate(rows):
            if len(r) != nCol:
                raise ValueError(f"History: row {i} has {len(r)} values; expected {nCol} "
                                 f"(columns {names})")
        mat = numpy.array(rows, dtype=float).reshape(len(rows), nCol)
        super().__init__((n, mat[:, j].copy()) for j, n in enumerate(names))
        self.names = names
        self.frmt = list(frmt) if frmt is not None else [defaultFormat(n) for n in names]
        if len(self.frmt) != nCol:
            raise ValueError(f"History: {len(self.frmt)} formats for {nCol} columns")
        self.stopReason = ""
        for k, v in info.items():
            setattr(self, k, v)

    @property
    def str(self):
        """Column names (Meganet.m's ``His.str``)."""
        return self.names

    @property
    def his(self):
        """The history as an ``(nRows, nColumns)`` matrix (Meganet.m's ``His.his``)."""
        if not self.names:
            return numpy.zeros((0, 0))
        return numpy.column_stack([numpy.asarray(self[n], dtype=float) for n in self.names])

    @property
    def nRows(self):
        """Number of rows (iterations or epochs recorded)."""
        return len(self[self.names[0]]) if self.names else 0

    def table(self):
        """The history as the table the optimizers print (one line per row)."""
        lines = [formatHeader(self.names)]
        for row in self.his:
            lines.append(formatRow(self.frmt, row))
        return "\n".join(lines)

    def __repr__(self):
        reason = f", stopReason={self.stopReason!r}" if getattr(self, "stopReason", "") else ""
        return f"History(columns={self.names}, nRows={self.nRows}{reason})"
