"""Stochastic gradient descent with momentum, Nesterov and ADAM (Meganet.m's ``sgd``)."""
import dataclasses
import math
import os
import signal
import sys
import threading
import time
import warnings

import numpy

from ..backend import asArray, getArrayModuleOf, isDeviceArray, toHost
from .checkpoint import (CheckpointError, checkWritable, describe, fingerprintDiff,
                         readCheckpoint, toHostState, writeCheckpoint)
from .history import History
from .optimizer import (Objective, Optimizer, Recorder, checkBool, checkCallable, checkFloat,
                        checkInt, checkVector, copyArray, hostFloat, norm)

__all__ = ["SGD"]

# at most this many examples are used for the training objective printed after each epoch
_MAX_EVAL_EXAMPLES = 2 ** 15


def _identity(x):
    return x


@dataclasses.dataclass(frozen=True)
class _State:
    """Everything SGD needs to continue; replaced as a whole at every commit."""
    x: object
    v: object                 # momentum buffer (the last step), None with ADAM
    mJ: object                # ADAM first moment, None otherwise
    vJ: object                # ADAM second moment, None otherwise
    it: int                   # mini-batch iterations done in total
    epoch: int                # current epoch, 1-based
    k: int                    # mini-batches done in the current epoch
    ids: object               # host permutation of the current epoch (None: not drawn yet)
    rngState: dict            # random generator state after the last draw
    lr: float                 # learning rate of the current epoch
    xOld: object              # iterate at the start of the current epoch
    epochTime: float          # seconds spent in the current epoch (before this commit)
    workUnits: int
    rows: tuple = ()
    objNames: tuple = None    # history names of the objectives (None until the first row)
    valNames: tuple = ()
    bestScore: float = math.inf
    bestRow: int = -1
    xOpt: object = None
    done: bool = False
    stopReason: str = ""
    netState: dict = None     # the objective's getState() after the last completed step


class _Terminated(BaseException):
    """Raised in the main thread by SGD's SIGTERM handler (a graceful stop)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class SGD(Optimizer):
    """Stochastic gradient descent (Meganet.m's ``sgd``), with checkpoints.

    Each epoch draws a random permutation of the ``nEx`` training examples and makes
    ``floor(nEx / miniBatch)`` steps on consecutive mini-batches of it (the remaining
    ``nEx mod miniBatch`` examples are left out of that epoch). A ``miniBatch`` larger
    than ``nEx`` gives one step per epoch on all examples (with a ``UserWarning``). With the gradient
    ``g = dJ(x; batch)`` and the learning rate ``lr`` of the epoch:

    * momentum (``ADAM=False``): ``v = lr g + momentum v``, ``x <- P(x - v)``; with
      ``nesterov=True`` the gradient is taken at ``x - momentum v``;
    * ``ADAM=True``: ``m = b1 m + (1-b1) g``, ``w = b2 w + (1-b2) g^2``,
      ``x <- P(x - lr (m / (1 - b1^t)) / sqrt(w / (1 - b2^t) + eps))`` with
      ``b1 = momentum``, ``b2 = 0.999``, ``eps = 1e-8`` and ``t`` the number of
      mini-batch iterations so far (1, 2, ...). Meganet.m uses the epoch number for
      ``t``, which keeps the bias correction of the first epoch in force for all its
      iterations; ``eps`` inside the square root is Meganet.m's choice.

    After each epoch the training objective is evaluated at the new iterate on at most
    ``2^15`` examples (all of them, called with ``idx=None``, when ``nEx <= 2^15``; else
    the first ``2^15`` of the epoch's permutation), the validation objective ``fval`` (if
    given) on all its examples, and a history row is recorded (printed when ``out > 0``).
    The run stops after ``maxEpochs`` epochs, when the work units (2 per epoch, starting
    at 2) exceed ``maxWorkUnits``, when ``maxTime`` seconds have passed since ``solve`` was
    called (after the mini-batch running at that moment: the epoch ends there, is
    evaluated and recorded; a resumed run starts the next epoch; no epoch starts after
    that moment), or when the loss drops
    below ``lossTol``: the loss is the first history column of the training objective
    (e.g. its misfit without regularisation, as column 7 in Meganet.m), or ``Jc`` when
    the objective reports no history columns.

    Parameters
    ----------
    maxEpochs : int, default 10
    miniBatch : int, default 16
    lossTol : float, default -inf
    out : int, default 0
        Print the history table when ``> 0``.
    learningRate : float or callable, default 0.1
        A positive number, or a function ``lr(epoch)`` of the epoch number, counted from 1
        as in Meganet.m, returning a positive finite number (called once per epoch).
    momentum : float, default 0.9
        In ``[0, 1)``; ``b1`` of ADAM.
    nesterov : bool, default True
    ADAM : bool, default False
        With both ``nesterov`` and ``ADAM`` set, a warning is issued and ADAM is used.
    P : callable, default identity
        Projection applied to every iterate (e.g. :class:`ProjBound`); ``x0`` is
        projected first.
    maxWorkUnits : float, default inf
    maxTime : float, default inf
        Wall-clock budget of one ``solve`` call in seconds (not in Meganet.m). The check
        runs after every mini-batch; on several processes (MPI) the writing process
        decides and the others follow, so all stop after the same mini-batch. The
        evaluation of the last epoch comes on top. A learning-rate function may read the
        clock as well, to spread a schedule over the budget.
    rng : None, int or numpy.random.Generator
        Source of the per-epoch permutations: a seed (a fresh generator from it at every
        ``solve``), a generator (used and advanced), or ``None`` (fresh entropy).
    progress : bool, default True
        Show a ``tqdm`` progress bar over the mini-batches of each epoch (only when
        ``out > 0``).
    checkpoint : str or os.PathLike, optional
        HDF5 file to which the complete state is written (atomically, with a checksum,
        see :mod:`meganet.optim.checkpoint` and ``docs/reliability.md``) after every
        ``checkpointEvery`` epochs, at the end of the run and when the run is
        interrupted (SIGINT, SIGTERM). Its location is checked for writability before
        the first epoch.
    checkpointEvery : int, default 1
        Epochs between checkpoints.
    overwrite : bool, default False
        Let a fresh ``solve`` (without ``resume=True``) replace an existing
        ``checkpoint`` file; by default that is refused with ``FileExistsError``.

    Notes
    -----
    **Objective.** ``fctn(x, idx)`` with ``idx`` a 1-D host array of example indices
    returns ``(Jc, para, dJ)`` (or five values); ``fctn.nData()`` (or ``fctn.Y.shape[0]``)
    gives ``nEx``. See :mod:`meganet.optim` for the full protocol.

    **History** (:class:`History`): ``epoch``, ``Jc`` (training objective after the
    epoch), ``|x-xOld|`` (norm of the change over the epoch), ``lr``, ``TotalWork``,
    ``Time`` (seconds for the epoch), the training objective's columns (``'train ...'``),
    then ``'val Jc'`` and the validation objective's columns (``'val ...'``).
    ``His.stopReason`` is ``'maxEpochs'``, ``'maxWorkUnits'``, ``'maxTime'`` or ``'lossTol'``.

    **xOpt**: the iterate after the epoch with the largest validation accuracy (the
    first validation history column whose name contains ``"acc"``), else the smallest
    validation objective, else (no ``fval``) the smallest training objective ``Jc``.

    **Errors.** A non-finite objective value or gradient raises ``FloatingPointError``
    naming the epoch and the iteration; the checkpoint on disk is left as it was (the
    last good one). (This check costs one device synchronisation per mini-batch.) A
    learning-rate function returning a non-positive or non-finite value raises
    ``ValueError`` naming the epoch and the value.

    **Checkpoint writes.** A write that fails during the run (disk full, folder
    removed) keeps the previous checkpoint, is reported once per ``solve`` with a
    ``RuntimeWarning`` naming the path, and training goes on. All writes go through
    :meth:`_writeCheckpoint`.

    **Interruption and resumption.** With ``checkpoint`` set, on SIGINT
    (``KeyboardInterrupt``, Ctrl-C) and on SIGTERM (what cluster schedulers send before
    killing a job; handled while ``solve`` runs in the main thread) the state after
    the last completed mini-batch is written to ``checkpoint`` (if that write fails the
    previous checkpoint stays), one line saying where it was written and how to resume
    is printed to ``stderr``, and the run stops: ``KeyboardInterrupt`` is re-raised
    after SIGINT, ``SystemExit(143)`` is raised after SIGTERM. A run killed without
    warning (SIGKILL, power loss) loses at most the epochs since the last checkpoint.
    ``solve(..., resume=True)`` or :meth:`resume` continue from the checkpoint, within
    the epoch where it was taken, and reach the same iterates as an uninterrupted run
    with the same seed (the generator state and the network's state outside the
    weights, ``fctn.getState()``, are part of the checkpoint).

    **Verification on resume.** The checkpoint's checksum is verified, and its
    fingerprint (the network's structure, the options that determine the iterates:
    ``miniBatch``, ``learningRate``, ``momentum``, ``nesterov``, ``ADAM``, ``P``, and the
    size of the training data) is compared with the current run: a difference raises
    ``ValueError`` naming each differing entry. ``maxEpochs``, ``maxWorkUnits``, ``maxTime``,
    ``lossTol`` and ``checkpointEvery`` may change (e.g. to train longer).
    """

    name = "sgd"
    beta2 = 0.999
    epsADAM = 1e-8

    def __init__(self, maxEpochs=10, miniBatch=16, lossTol=-math.inf, out=0, learningRate=0.1,
                 momentum=0.9, nesterov=True, ADAM=False, P=_identity, maxWorkUnits=math.inf,
                 rng=None, progress=True, checkpoint=None, checkpointEvery=1, overwrite=False,
                 maxTime=math.inf):
        self.maxEpochs = maxEpochs
        self.miniBatch = miniBatch
        self.lossTol = lossTol
        self.out = out
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.ADAM = ADAM
        self.P = P
        self.maxWorkUnits = maxWorkUnits
        self.rng = rng
        self.progress = progress
        self.checkpoint = checkpoint
        self.checkpointEvery = checkpointEvery
        self.overwrite = overwrite
        self.maxTime = maxTime
        self._checkOptions()

    # -- options -------------------------------------------------------------------------
    def _checkOptions(self):
        o = "SGD"
        self.maxEpochs = checkInt(o, "maxEpochs", self.maxEpochs, 0)
        self.miniBatch = checkInt(o, "miniBatch", self.miniBatch, 1)
        self.lossTol = checkFloat(o, "lossTol", self.lossTol, allowInf=True)
        self.out = checkInt(o, "out", self.out)
        if callable(self.learningRate):
            pass
        else:
            try:
                ok = not isinstance(self.learningRate, (bool, str)) and (
                    math.isfinite(float(self.learningRate)) and float(self.learningRate) > 0)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError("SGD: learningRate must be a positive finite number or a "
                                 f"function of the epoch; got {self.learningRate!r}")
            self.learningRate = float(self.learningRate)
        self.momentum = checkFloat(o, "momentum", self.momentum, 0, 1, highOpen=True)
        self.nesterov = checkBool(o, "nesterov", self.nesterov)
        self.ADAM = checkBool(o, "ADAM", self.ADAM)
        if self.ADAM and self.nesterov:
            warnings.warn("SGD: ADAM and nesterov are both set; using ADAM (nesterov=False)",
                          UserWarning, stacklevel=3)
            self.nesterov = False
        checkCallable(o, "P", self.P)
        self.maxWorkUnits = checkFloat(o, "maxWorkUnits", self.maxWorkUnits, 0, allowInf=True)
        self.maxTime = checkFloat(o, "maxTime", self.maxTime, 0, lowOpen=True, allowInf=True)
        if self.rng is not None and not isinstance(self.rng, numpy.random.Generator):
            self.rng = checkInt(o, "rng", self.rng, 0)
        self.progress = checkBool(o, "progress", self.progress)
        if self.checkpoint is not None:
            if not isinstance(self.checkpoint, (str, os.PathLike)):
                raise TypeError(f"SGD: checkpoint must be a file path; got "
                                f"{type(self.checkpoint).__name__}")
            self.checkpoint = os.fspath(self.checkpoint)
        self.checkpointEvery = checkInt(o, "checkpointEvery", self.checkpointEvery, 1)
        self.overwrite = checkBool(o, "overwrite", self.overwrite)

    def _options(self):
        return {k: getattr(self, k) for k in (
            "maxEpochs", "miniBatch", "lossTol", "out", "learningRate", "momentum", "nesterov",
            "ADAM", "P", "maxWorkUnits", "rng", "progress", "checkpoint", "checkpointEvery",
            "overwrite", "maxTime")}

    def _storedOptions(self):
        lr = self.learningRate
        return {"maxEpochs": self.maxEpochs, "miniBatch": self.miniBatch,
                "lossTol": self.lossTol, "learningRate": lr if not callable(lr) else
                f"callable: {_callableName(lr)}",
                "momentum": self.momentum, "nesterov": self.nesterov, "ADAM": self.ADAM,
                "P": "identity" if self.P is _identity else _callableName(self.P),
                "maxWorkUnits": self.maxWorkUnits, "checkpointEvery": self.checkpointEvery}

    def hisNames(self):
        """Names and formats of SGD's own history columns (Meganet.m's hisNames)."""
        return (["epoch", "Jc", "|x-xOld|", "lr", "TotalWork", "Time"],
                ["%-12d", "%-12.2e", "%-12.2e", "%-12.2e", "%-12d", "%-12.2f"])

    def _lr(self, epoch):
        lr = self.learningRate
        if callable(lr):
            val = lr(epoch)
            try:
                v = hostFloat(val)
            except (TypeError, ValueError):
                raise ValueError(f"SGD: learningRate({epoch}) (epoch {epoch}) returned "
                                 f"{val!r}; it must be a positive finite number") from None
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"SGD: learningRate({epoch}) (epoch {epoch}) returned {v!r}; "
                                 "it must be a positive finite number")
            return v
        return float(lr)

    def _makeRng(self):
        if isinstance(self.rng, numpy.random.Generator):
            return self.rng
        return numpy.random.default_rng(self.rng)

    # -- public entry points -----------------------------------------------------------------
    def solve(self, fctn, x0, fval=None, resume=False):
        """Minimise ``fctn`` by SGD from ``x0``.

        Parameters
        ----------
        fctn : callable
            Training objective (see the class notes).
        x0 : array, shape (n,)
            Starting point (NumPy or device array; the iterates stay on its backend).
        fval : callable, optional
            Validation objective, evaluated after each epoch at ``x`` (or at
            ``[x; para['W']]`` when the training objective reports ``W``).
        resume : bool, default False
            Continue from ``self.checkpoint`` if that file exists (a ``UserWarning`` is
            issued and the run starts from ``x0`` if it does not). The iterate is placed
            on the backend and dtype of ``x0``.

        Returns
        -------
        xc : array, shape (n,)
            The last iterate.
        His : History
            One row per epoch (see the class notes).
        xOpt : array, shape (n,)
            The best iterate (see the class notes).

        Raises
        ------
        FileExistsError
            ``checkpoint`` exists, ``resume`` is False and ``overwrite`` is False.
        OSError
            The checkpoint cannot be written (checked before the first epoch).
        CheckpointError
            ``resume=True`` and the checkpoint file is not a valid meganet checkpoint.
        ValueError
            The checkpoint was written by another network, optimizer or data set.
        """
        self._checkOptions()
        checkVector("SGD", x0)
        state = None
        if resume:
            if self.checkpoint is None:
                raise ValueError("SGD: resume=True needs the checkpoint option (a file path)")
            if os.path.exists(self.checkpoint):
                state = self._loadState(self.checkpoint, like=x0)
            else:
                warnings.warn(f"SGD: no checkpoint {self.checkpoint!r} to resume from; starting "
                              "from x0", UserWarning, stacklevel=2)
        else:
            self._refuseOverwrite(self.checkpoint)
        return self._solve(fctn, x0, fval, state)

    def resume(self, fctn, fval=None, path=None):
        """Continue the run saved in the checkpoint ``path`` (default ``self.checkpoint``).

        The optimizer's options apply (pass the same learning-rate function and projection
        as the interrupted run; ``maxEpochs`` may be raised to train longer). The iterate
        goes to the backend and precision it had when the checkpoint was written. Further
        checkpoints go to ``self.checkpoint`` (set to ``path`` when it is None; another
        existing file is replaced only with ``overwrite=True``).

        Returns ``(xc, His, xOpt)`` as :meth:`solve`, with the history of the whole run.
        """
        self._checkOptions()
        path = self.checkpoint if path is None else os.fspath(path)
        if path is None:
            raise ValueError("SGD.resume: give the checkpoint path (or set the checkpoint option)")
        if self.checkpoint is None:
            self.checkpoint = path
        elif os.path.abspath(self.checkpoint) != os.path.abspath(path):
            self._refuseOverwrite(self.checkpoint)
        state = self._loadState(path, like=None)
        return self._solve(fctn, None, fval, state)

    def _refuseOverwrite(self, path):
        if path is not None and os.path.exists(path) and not os.path.isdir(path) \
                and not self.overwrite:
            raise FileExistsError(
                f"SGD: the checkpoint {path!r} already exists; pass resume=True to solve() "
                "to continue that run, or overwrite=True to SGD to replace it with a new run")

    # -- checkpoint I/O ------------------------------------------------------------------------
    def _writeCheckpoint(self, st, nEx):
        """Write the state ``st`` to ``self.checkpoint`` (the ONLY place that writes one).

        Returns True on success. A failure keeps the previous checkpoint, is reported
        with a ``RuntimeWarning`` once per ``solve`` and returns False. In parallel runs
        only the writing process writes; except when stopping on a signal, the others wait
        for it and share its outcome (:meth:`~meganet.optim.optimizer.Objective.runOnWriter`).
        """
        try:
            self._writeState(st, nEx)
        except Exception as err:  # keep the previous checkpoint, report once, go on
            if not self._warnedWrite:
                self._warnedWrite = True
                warnings.warn(f"SGD: could not write the checkpoint {self.checkpoint!r} "
                              f"({type(err).__name__}: {err}); the previous one is kept and "
                              "training goes on (reported once)", RuntimeWarning, stacklevel=3)
            return False
        self._lastWritten = st
        return True

    def _writeState(self, st, nEx):
        def host(a):
            return None if a is None else toHost(a)
        x = st.x
        names = None
        if st.objNames is not None:
            names = self._recorder.names
        meta = {
            "epoch": st.epoch, "k": st.k, "it": st.it, "lr": st.lr, "epochTime": st.epochTime,
            "workUnits": st.workUnits, "rngState": st.rngState, "nEx": nEx, "n": int(x.shape[0]),
            "useGPU": bool(isDeviceArray(x)), "dtype": str(numpy.dtype(x.dtype)),
            "objNames": None if st.objNames is None else list(st.objNames),
            "valNames": list(st.valNames), "names": names, "nRows": len(st.rows),
            "bestScore": st.bestScore, "bestRow": st.bestRow, "done": st.done,
            "stopReason": st.stopReason, "options": self._storedOptions(),
            "hasIds": st.ids is not None, "fingerprint": self._fingerprint,
        }
        his = numpy.array(st.rows, dtype=float) if st.rows else None
        arrays = {"x": host(x), "v": host(st.v), "mJ": host(st.mJ), "vJ": host(st.vJ),
                  "xOld": host(st.xOld), "xOpt": host(st.xOpt), "ids": st.ids, "his": his}
        self._recorder.obj.runOnWriter(
            lambda: writeCheckpoint(self.checkpoint, arrays, meta, toHostState(st.netState or {})),
            wait=not self._stopping)

    def _loadState(self, path, like):
        arrays, netState, meta = readCheckpoint(path)
        try:
            return self._stateFrom(arrays, netState, meta, like, path)
        except (KeyError, TypeError, AttributeError) as err:
            raise CheckpointError(f"checkpoint: {path!r} is not a valid meganet checkpoint (its "
                                  f"record is incomplete: {type(err).__name__}: {err})") from None

    def _stateFrom(self, arrays, netState, meta, like, path):
        if like is not None:
            if int(meta["n"]) != like.shape[0]:
                raise ValueError(f"SGD: the checkpoint {path!r} holds {meta['n']} weights but x0 "
                                 f"has {like.shape[0]}")
            useGPU, dtype = isDeviceArray(like), numpy.dtype(like.dtype)
        else:
            useGPU, dtype = bool(meta["useGPU"]), numpy.dtype(meta["dtype"])
        precision = "single" if dtype == numpy.float32 else "double"

        def dev(name):
            a = arrays.get(name)
            return None if a is None else asArray(a, useGPU=useGPU, precision=precision)
        his = arrays.get("his")
        rows = tuple(tuple(float(v) for v in r) for r in his) if his is not None else ()
        st = _State(
            x=dev("x"), v=dev("v"), mJ=dev("mJ"), vJ=dev("vJ"), it=int(meta["it"]),
            epoch=int(meta["epoch"]), k=int(meta["k"]),
            ids=arrays["ids"].astype(numpy.int64) if meta["hasIds"] else None,
            rngState=meta["rngState"], lr=float(meta["lr"]), xOld=dev("xOld"),
            epochTime=float(meta["epochTime"]), workUnits=int(meta["workUnits"]), rows=rows,
            objNames=None if meta["objNames"] is None else tuple(meta["objNames"]),
            valNames=tuple(meta["valNames"]), bestScore=float(meta["bestScore"]),
            bestRow=int(meta["bestRow"]), xOpt=dev("xOpt"), done=bool(meta["done"]),
            stopReason=meta["stopReason"], netState=dict(netState))
        if (st.v is None) == (st.mJ is None) or st.x is None or st.xOld is None:
            raise KeyError("x, xOld and either v or mJ/vJ")
        return st, dict(meta["fingerprint"]), path

    def _makeFingerprint(self, obj, nEx):
        """What produced a run: network structure, the options that shape the iterates, data."""
        fp = {}
        net = getattr(obj.fctn, "net", None)
        if net is not None and hasattr(net, "nTheta"):
            fp.update({f"network {k}": v for k, v in describe(net).items()})
        opts = self._storedOptions()
        for k in ("miniBatch", "learningRate", "momentum", "nesterov", "ADAM", "P"):
            fp[f"optimizer {k}"] = opts[k]
        fp["data nEx"] = nEx
        for name in ("Y", "C"):
            a = getattr(obj.fctn, name, None)
            if hasattr(a, "shape") and hasattr(a, "dtype"):
                fp[f"data {name}.shape"] = [int(v) for v in a.shape]
        return fp

    # -- the run ---------------------------------------------------------------------------------
    def _solve(self, fctn, x0, fval, loaded):
        obj = Objective(fctn, "SGD")
        val = Objective(fval, "SGD", "validation objective") if fval is not None else None
        nEx = obj.nData()
        if nEx == 0:
            raise ValueError("SGD: the objective has no training examples (nData() = 0)")
        names, frmt = self.hisNames()
        rng = self._makeRng()
        self._fingerprint = self._makeFingerprint(obj, nEx)
        getState = getattr(fctn, "getState", None)
        hasState = callable(getState) and bool(getState())
        if loaded is None:
            x = self.P(x0)
            xp = getArrayModuleOf(x)
            zeros = xp.zeros_like(x)
            st = _State(x=x, v=None if self.ADAM else zeros, mJ=zeros if self.ADAM else None,
                        vJ=copyArray(zeros) if self.ADAM else None, it=0, epoch=1, k=0, ids=None,
                        rngState=rng.bit_generator.state, lr=math.nan, xOld=x, epochTime=0.0,
                        workUnits=2, xOpt=copyArray(x),
                        netState=getState() if hasState else None)
            resumedAt = None
        else:
            st, stored, path = loaded
            current = self._fingerprint
            for part in ("network ", "data Y.", "data C."):
                # parts that one of the objectives (e.g. a wrapper) does not expose
                if not any(k.startswith(part) for k in stored) or not any(
                        k.startswith(part) for k in current):
                    stored, current = ({k: v for k, v in fp.items() if not k.startswith(part)}
                                       for fp in (stored, current))
            diffs = fingerprintDiff(stored, current)
            if diffs:
                raise ValueError(f"SGD: cannot resume from {path!r}: it was written by another "
                                 "network, optimizer or data set; what differs:\n  " +
                                 "\n  ".join(diffs))
            if st.netState:
                setState = getattr(fctn, "setState", None)
                if not callable(setState):
                    raise ValueError(f"SGD: the checkpoint {path!r} holds network state "
                                     f"{sorted(st.netState)} but the objective has no setState()")
                setState(st.netState)
            rng = _restoreRng(rng, st.rngState)
            resumedAt = (st.epoch, st.k)
        mb = self.miniBatch
        if mb > nEx:
            warnings.warn(f"SGD: miniBatch={mb} is larger than the number of training examples "
                          f"({nEx}); every step uses all {nEx} examples", UserWarning, stacklevel=3)
            mb = nEx
        nBatch = nEx // mb
        title = (f"== sgd (n={st.x.shape[0]}, maxEpochs={self.maxEpochs}, "
                 f"maxWorkUnits={self.maxWorkUnits}, lr={self._lrText()}, momentum="
                 f"{self.momentum:.1e}, ADAM={int(self.ADAM)}, Nesterov={int(self.nesterov)}, "
                 f"miniBatch={self.miniBatch}, lossTol={self.lossTol:.1e}"
                 + (f", maxTime={self.maxTime:g} s" if math.isfinite(self.maxTime) else "") + ") ===")
        rec = Recorder("SGD", names, frmt, obj, val, self.out, title)
        self._recorder = rec
        if rec.out > 0 and resumedAt is not None:
            print(f"== sgd resumed from {self.checkpoint!r} at epoch {resumedAt[0]}, mini-batch "
                  f"{resumedAt[1]} of {nBatch} ===")
        if st.objNames is not None:
            rec.setup(list(st.objNames), list(st.valNames))
        box = [st]
        self._lastWritten = None
        self._warnedWrite = False
        self._stopping = False
        if self.checkpoint is not None:
            checkWritable(self.checkpoint)
        handlers = self._installSignalHandlers()
        try:
            self._loop(box, obj, rec, rng, nEx, mb, nBatch, getState if hasState else None,
                       time.perf_counter() + self.maxTime)
            if self.checkpoint is not None and self._lastWritten is not box[0]:
                self._writeCheckpoint(box[0], nEx)
        except (KeyboardInterrupt, _Terminated) as err:
            self._stopped(box[0], nEx, nBatch, err)
        finally:
            self._restoreSignalHandlers(handlers)
            self._lastWritten = self._recorder = None
        st = box[0]
        His = History(rec.names if rec.names is not None else names, st.rows,
                      rec.frmt if rec.frmt is not None else frmt, stopReason=st.stopReason,
                      optCriterion=rec.criterion, optIndex=st.bestRow, nEx=nEx,
                      nBatchesPerEpoch=nBatch, iterations=st.it)
        xOpt = st.xOpt if st.xOpt is not None else copyArray(st.x)
        return st.x, His, xOpt

    # -- signals -------------------------------------------------------------------------------
    def _installSignalHandlers(self):
        """SIGTERM -> :class:`_Terminated` while solving (main thread, with a checkpoint)."""
        if self.checkpoint is None or threading.current_thread() is not threading.main_thread():
            return None

        def onTerm(signum, frame):
            raise _Terminated(signum)
        old = {}
        for sig in (signal.SIGTERM,):
            old[sig] = signal.signal(sig, onTerm)
        return old

    @staticmethod
    def _restoreSignalHandlers(old):
        for sig, handler in (old or {}).items():
            signal.signal(sig, handler)

    def _stopped(self, st, nEx, nBatch, err):
        """Write the state after the last completed mini-batch, say so, stop."""
        what = "SIGTERM" if isinstance(err, _Terminated) else "SIGINT (KeyboardInterrupt)"
        if self.checkpoint is None:
            raise err
        shield = threading.current_thread() is threading.main_thread()
        old = {}
        if shield:  # a second signal must not interrupt the write
            for sig in (signal.SIGINT, signal.SIGTERM):
                old[sig] = signal.signal(sig, signal.SIG_IGN)
        try:
            self._stopping = True     # other processes may not get here: do not wait for them
            ok = self._lastWritten is st or self._writeCheckpoint(st, nEx)
        finally:
            self._restoreSignalHandlers(old)
        where = (f"epoch {st.epoch} ({st.k} of {nBatch} mini-batches done)"
                 if st.ids is not None else f"the end of epoch {st.epoch - 1}")
        if ok:
            msg = (f"SGD: stopped by {what} at {where}; checkpoint written to "
                   f"{self.checkpoint!r}; to continue, run again with solve(..., resume=True) "
                   "or SGD(...).resume(fctn, fval, path=<checkpoint>)")
        else:
            msg = (f"SGD: stopped by {what} at {where}; the checkpoint could not be written, "
                   f"the previous one in {self.checkpoint!r} (if any) is kept")
        print(msg, file=sys.stderr, flush=True)
        if isinstance(err, _Terminated):
            raise SystemExit(128 + err.signum) from None
        raise err

    def _lrText(self):
        if callable(self.learningRate):
            return f"{self._lr(1):.1e} (epoch 1)"
        return f"{self.learningRate:.1e}"

    def _loop(self, box, obj, rec, rng, nEx, mb, nBatch, getState, deadline=math.inf):
        """Epochs until a stopping rule holds; ``box[0]`` always holds a consistent state.

        ``getState`` (None when the objective has no state) snapshots the network state
        after every step, so that an interruption saves the state that matches ``x``.
        ``deadline`` is the ``time.perf_counter()`` value of the ``maxTime`` budget.
        """
        timed = math.isfinite(deadline)
        outOfTime = False
        mu = self.momentum
        b1, b2, eps = self.momentum, self.beta2, self.epsADAM
        nOpt = len(self.hisNames()[0])
        while not box[0].done:
            st = box[0]
            if st.ids is None:                              # start of a new epoch
                if st.epoch > self.maxEpochs:
                    box[0] = dataclasses.replace(st, stopReason="maxEpochs")
                    break
                if st.workUnits > self.maxWorkUnits:
                    box[0] = dataclasses.replace(st, stopReason="maxWorkUnits")
                    break
                if timed and bool(obj.shareFromWriter(time.perf_counter() >= deadline)):
                    box[0] = dataclasses.replace(st, stopReason="maxTime")
                    break
                lr = self._lr(st.epoch)
                ids = obj.shareFromWriter(rng.permutation(nEx))
                st = dataclasses.replace(st, ids=ids, rngState=rng.bit_generator.state, lr=lr,
                                         xOld=st.x, epochTime=0.0, k=0, stopReason="")
                box[0] = st
            tStart = time.perf_counter()
            lr = st.lr
            bar = self._bar(nBatch, st.k, st.epoch)
            try:
                for k in range(st.k, nBatch):
                    idk = st.ids[k * mb:(k + 1) * mb]
                    x = st.x
                    if self.nesterov and mu > 0:
                        Jk, _, g = obj(x - mu * st.v, idk)[:3]
                    else:
                        Jk, _, g = obj(x, idk)[:3]
                    self._checkFinite(Jk, g, st.epoch, k + 1, nBatch)
                    if self.ADAM:
                        t = st.it + 1
                        mJ = b1 * st.mJ + (1 - b1) * g
                        vJ = b2 * st.vJ + (1 - b2) * (g * g)
                        xp = getArrayModuleOf(x)
                        step = (lr / (1 - b1 ** t)) * mJ / xp.sqrt(vJ / (1 - b2 ** t) + eps)
                        st = dataclasses.replace(st, x=self.P(x - step), mJ=mJ, vJ=vJ, it=t,
                                                 k=k + 1)
                    else:
                        v = lr * g + mu * st.v
                        st = dataclasses.replace(st, x=self.P(x - v), v=v, it=st.it + 1, k=k + 1)
                    if getState is not None:
                        st = dataclasses.replace(st, netState=getState())
                    box[0] = st
                    if bar is not None:
                        bar.update(1)
                    if timed:       # every process stops after the same mini-batch
                        outOfTime = bool(obj.shareFromWriter(time.perf_counter() >= deadline))
                        if outOfTime:
                            break
            finally:
                if bar is not None:
                    bar.close()
            # end of the epoch: evaluate, record, maybe checkpoint
            x = st.x
            idx = None if nEx <= _MAX_EVAL_EXAMPLES else st.ids[:_MAX_EVAL_EXAMPLES]
            Jc, para = obj(x, idx, doDerivative=False)[:2]
            J = hostFloat(Jc)
            if not math.isfinite(J):
                raise FloatingPointError(f"SGD: the training objective is {J} after epoch "
                                         f"{st.epoch} (iteration {st.it})")
            row = rec.makeRow([st.epoch, J, norm(x - st.xOld), lr, st.workUnits, 0.0], x, para)
            row[5] = st.epochTime + time.perf_counter() - tStart   # includes the validation
            score = rec.score(row)
            better = score < st.bestScore
            loss = row[nOpt] if rec.nObj > 0 else J
            done = self.lossTol > -math.inf and loss < self.lossTol
            kDone = st.k
            st = dataclasses.replace(
                st, epoch=st.epoch + 1, k=0, ids=None, workUnits=st.workUnits + 2,
                rows=st.rows + (tuple(row),), objNames=tuple(rec.objNames),
                valNames=tuple(rec.valNames), bestScore=score if better else st.bestScore,
                bestRow=len(st.rows) if better else st.bestRow,
                xOpt=copyArray(x) if better else st.xOpt, epochTime=0.0, done=done,
                stopReason="lossTol" if done else "",
                netState=getState() if getState is not None else st.netState)
            box[0] = st
            rec.printRow(row)
            if done and rec.out > 0:
                print(f"--- sgd reached the loss tolerance {self.lossTol:.2e}: stop ---")
            if (self.checkpoint is not None and not done
                    and (st.epoch - 1) % self.checkpointEvery == 0):
                self._writeCheckpoint(st, nEx)
            if outOfTime and not done:
                box[0] = dataclasses.replace(st, stopReason="maxTime")
                if rec.out > 0:
                    print(f"--- sgd used its time budget of {self.maxTime:.0f} s (epoch "
                          f"{st.epoch - 1} ended after mini-batch {kDone} of {nBatch}): stop ---")
                break

    def _checkFinite(self, Jk, g, epoch, k, nBatch):
        xp = getArrayModuleOf(g)
        okG = xp.all(xp.isfinite(g))
        if isDeviceArray(Jk):
            ok = bool(okG & xp.isfinite(Jk))
            J = float(Jk) if not ok else 0.0
        else:
            J = float(numpy.asarray(Jk))
            ok = bool(okG) and math.isfinite(J)
        if ok:
            return
        where = f"at epoch {epoch}, iteration {k} of {nBatch}"
        if not math.isfinite(J):
            raise FloatingPointError(f"SGD: the objective value of the mini-batch is {J} {where}")
        raise FloatingPointError(f"SGD: the gradient of the mini-batch has non-finite entries "
                                 f"{where}")

    def _bar(self, total, initial, epoch):
        if not (self._recorder.out > 0 and self.progress) or total == 0:
            return None
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, desc=f"epoch {epoch}", leave=False,
                    unit="batch")


def _callableName(f):
    """A description of a function or callable object that is the same in every process."""
    if hasattr(f, "__name__"):
        name = getattr(f, "__qualname__", f.__name__)
        module = getattr(f, "__module__", None)
        return f"{module}.{name}" if module else name
    text = repr(f)
    if " at 0x" not in text:
        return text
    opts = ", ".join(f"{k}={v!r}" for k, v in sorted(vars(f).items()) if not k.startswith("_")
                     and isinstance(v, (int, float, str, bool, type(None))))
    return f"{type(f).__name__}({opts})"


def _restoreRng(rng, state):
    """A generator in the stored state (``rng`` itself when it has the same bit generator)."""
    name = state["bit_generator"]
    if type(rng.bit_generator).__name__ == name:
        rng.bit_generator.state = state
        return rng
    bg = getattr(numpy.random, name)()
    bg.state = state
    return numpy.random.Generator(bg)
