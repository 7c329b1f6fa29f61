"""Where the peak memory of one training step of the STL-10 network comes from.

Runs one training step (``forwardProp``, softmax loss, ``JTmv``; the network of
:mod:`stl10net`) under :mod:`tracemalloc` (NumPy reports its data allocations to it) and
prints

* the peak of the traced memory during the step,
* the call stack at the moment the peak was reached (seen at the return of a Python or C
  function: temporaries inside one NumPy call are not resolved), and
* the arrays alive at that moment, grouped by the line that allocated them (most recent
  frame first), largest first.

A first run finds the peak, a second identical run takes the snapshot when the traced
memory reaches it again. The sizes are those of the arrays, without the allocator's and
the interpreter's overhead; the resident-set measurement of ``train_step_vs_torch.py``
(fresh process per model) gives the numbers comparable with PyTorch.

``--prototype-lean-normalization`` replaces, in this process only, the adjoint (``JTmv``)
of the mean/variance normalization layers (batch and instance normalization) by a version
that allocates only its result (weight gradient and means by ``einsum``, the rest in place
on the result): a prototype of a proposed change of ``meganet/layers/_normalize.py``, to
show the peak the network would have with it (see ``docs/performance.md``).

Usage::

    python benchmarks/memory_profile.py [--dynamics hamiltonian] [--batch 8] [--top 15]
        [--storeInputs needed|all] [--keepTmp] [--storeInterm] [--prototype-lean-normalization]
"""
import argparse
import os
import sys
import tracemalloc

import benchutil  # noqa: F401,I001 (sets the thread count before NumPy starts)

import numpy  # noqa: E402

from stl10net import DYNAMICS, STL10Spec  # noqa: E402


def _ours(filename):
    return "meganet" in filename or "benchmarks" in filename


def _stack(frame):
    out = []
    while frame is not None:
        co = frame.f_code
        if _ours(co.co_filename):
            out.append(f"{os.path.basename(co.co_filename)}:{frame.f_lineno} {co.co_name}")
        frame = frame.f_back
    return out


class PeakWatcher:
    """A profile hook: the traced memory at every function return, the stack at its maximum
    and, once ``target`` is set, a snapshot when the memory reaches it."""

    def __init__(self):
        self.best, self.stack, self.target, self.snapshot = 0, [], None, None

    def __call__(self, frame, event, arg):
        if event not in ("return", "c_return"):
            return
        cur = tracemalloc.get_traced_memory()[0]
        if self.target is None:
            if cur > self.best:
                self.best, self.stack = cur, _stack(frame)
        elif self.snapshot is None and cur >= self.target:
            self.snapshot = tracemalloc.take_snapshot()

    def run(self, fun):
        tracemalloc.start(16)
        sys.setprofile(self)
        try:
            fun()
        finally:
            sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak


def leanNormalizationAdjoint():
    """Prototype: the mean/variance normalizations' ``JTmv`` allocating only its result (NumPy)."""
    from meganet.element import _validated
    from meganet.layers import _normalize

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        Zhat, den = self._batchState(Y, tmp)
        N, C = W.shape[0], W.shape[-1]
        W3, Z3 = W.reshape(N, -1, C), Zhat.reshape(N, -1, C)
        dth = dY = None
        if doDerivative[0]:
            if self.isWeight:
                sub = "npc,npc->c" if reduceDim else "npc,npc->nc"
                dth = numpy.concatenate([numpy.einsum(sub, W3, Z3),
                                         W3.sum(axis=(0, 1) if reduceDim else 1)], axis=-1)
            else:
                dth = numpy.zeros((0,) if reduceDim else (N, 0), dtype=W.dtype)
        if doDerivative[1]:
            R = W * self.split(theta)[0] if self.isWeight else W.copy()
            axes = self._axes(W.ndim)
            R -= R.mean(axis=axes, keepdims=True)
            if axes == (0,):           # over the examples
                mZR = numpy.einsum("n...,n...->...", Zhat, R)[None] / N
            else:                      # over the pixels of each example (and the examples)
                m = numpy.einsum("npc,npc->nc", Z3, R.reshape(N, -1, C))
                m = m.sum(axis=0, keepdims=True) if 0 in axes else m
                cnt = R.size // (C * (1 if 0 in axes else N))
                mZR = (m / cnt).reshape((m.shape[0],) + (1,) * (W.ndim - 2) + (C,))
            for n in range(N):
                R[n] -= Zhat[n] * mZR[n if mZR.shape[0] > 1 else 0]
            R /= den
            dY = R
        return dth, dY

    _normalize.MeanVarNormalization.JTmv = _validated(JTmv, "JTmv")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dynamics", default="hamiltonian", choices=DYNAMICS)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--top", type=int, default=15, help="allocation sites to list")
    p.add_argument("--storeInputs", default="needed", choices=["needed", "all"])
    p.add_argument("--keepTmp", action="store_true")
    p.add_argument("--storeInterm", action="store_true")
    p.add_argument("--prototype-lean-normalization", dest="lean", action="store_true")
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    a = p.parse_args(argv)
    if a.lean:
        leanNormalizationAdjoint()
    spec = STL10Spec(a.dynamics, storeInterm=a.storeInterm, storeInputs=a.storeInputs,
                     keepTmp=a.keepTmp)
    theta, W = spec.initWeights()
    spec.meganetStep(theta, W, *spec.data(2))()          # one-time allocations
    step = spec.meganetStep(theta, W, *spec.data(a.batch))
    unit = a.batch * spec.nImg[0] * spec.nImg[1] * spec.nf[1] * 4 / 2 ** 20
    watch = PeakWatcher()
    peak = watch.run(step)
    print(f"{a.dynamics}, batch {a.batch}, storeInputs={a.storeInputs}, keepTmp={a.keepTmp}, "
          f"storeInterm={a.storeInterm}" + (", prototype lean normalization" if a.lean else ""))
    print(f"tracemalloc peak of the step: {peak / 2 ** 20:.1f} MiB (at function returns "
          f"{watch.best / 2 ** 20:.1f} MiB); one {spec.nImg[0]}x{spec.nImg[1]}x{spec.nf[1]} "
          f"array of the batch = {unit:.2f} MiB")
    print("stack at the peak (innermost first):\n  " + "\n  ".join(watch.stack))
    watch.target = 0.999 * watch.best
    watch.run(step)
    if watch.snapshot is None:
        print("(the second run did not reach the peak again)")
        return
    snap = watch.snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snap.statistics("traceback")
    print(f"alive at the peak: {sum(s.size for s in stats) / 2 ** 20:.1f} MiB; largest by "
          "allocation site (MiB, count, innermost frame first):")
    for s in stats[:a.top]:
        frames = [f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(s.traceback)
                  if _ours(f.filename)]
        print(f"{s.size / 2 ** 20:8.2f} {s.count:4d}  " + " < ".join(frames[:6]))


if __name__ == "__main__":
    main()
