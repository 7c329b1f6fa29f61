"""Train-step time of the STL-10 network for two checkouts of meganet, alternating processes.

Each round runs, for every checkout in turn, a fresh process that imports meganet and
``benchmarks/stl10net.py`` from that checkout, runs one untimed step on 2 examples and one
on the batch, then times ``--repeat`` steps; reported is the best time per checkout and the
ratio. Alternating fresh processes spreads the background load over both versions (on a
shared machine single runs still differ by tens of percent: use several rounds).

Usage (e.g. the code before a change, exported with ``git archive``)::

    mkdir /tmp/before && git archive <commit> meganet benchmarks | tar -x -C /tmp/before
    python benchmarks/train_step_versions.py /tmp/before . [--dynamics ...] [--batch 32]
        [--rounds 2] [--repeat 1] [--threads 2]
"""
import argparse
import os
import subprocess
import sys

import benchutil  # noqa: I001 (sets the thread count)

from stl10net import DYNAMICS  # noqa: E402

CHILD = r"""
import os, sys, time
root, dyn, N, rep = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path[:0] = [os.path.join(root, "benchmarks"), root]
import benchutil
import meganet
if not os.path.abspath(meganet.__file__).startswith(root):
    sys.exit(f"meganet imported from {meganet.__file__}, not from {root}")
from stl10net import STL10Spec
spec = STL10Spec(dyn)
theta, W = spec.initWeights()
spec.meganetStep(theta, W, *spec.data(2))()
step = spec.meganetStep(theta, W, *spec.data(N))
step()
ts = []
for _ in range(rep):
    t0 = time.perf_counter(); step(); ts.append(time.perf_counter() - t0)
print(min(ts))
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("first", help="checkout (directory with meganet/ and benchmarks/)")
    p.add_argument("second")
    p.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=benchutil.THREADS)
    a = p.parse_args(argv)
    roots = [os.path.abspath(a.first), os.path.abspath(a.second)]
    env = dict(benchutil.childEnv(), PYTHONDONTWRITEBYTECODE="1")
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    print(benchutil.machine() + f"; batch {a.batch}, best of {a.rounds} rounds x {a.repeat}")
    for dyn in a.dynamics:
        best = [float("inf"), float("inf")]
        for r in range(a.rounds):
            for k, root in enumerate(roots):
                out = subprocess.run([sys.executable, "-c", CHILD, root, dyn, str(a.batch),
                                      str(a.repeat)], env=env, capture_output=True, text=True,
                                     cwd=os.path.dirname(root))
                if out.returncode:
                    sys.exit(out.stderr)
                t = float(out.stdout.split()[-1])
                best[k] = min(best[k], t)
                print(f"  {dyn} round {r} {root}: {t:.3f} s", flush=True)
        print(f"{dyn}: first {best[0]:.3f} s, second {best[1]:.3f} s, second / first "
              f"{best[1] / best[0]:.3f}", flush=True)


if __name__ == "__main__":
    main()
