"""Print the worst relative error of each case compared with Meganet.m.

Usage: python tests/meganet_m/parity_table.py   (from the repository root)

The comparisons are those of tests/test_meganet_m_parity.py (the same functions).
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import test_meganet_m_parity as P  # noqa: E402


def rows():
    for group, case in P.ELEMENT_CASES:
        el, s, errs = P.elementErrors(group, case)
        known = P.KNOWN.get((group, case), set())
        checked = {q: e for q, e in errs.items() if q not in known}
        yield f"{group}/{case}", checked, sorted(known)
    yield "normlayers/batchNormLayer2 running statistics", P.batchNorm2RunningErrors(), []
    yield "kernels/Conv2D vs convFFT (interior pixels)", P.conv2dInteriorErrors(), []
    yield "integrators/DoubleHamiltonianNN JYTmv vs transpose of Meganet.m's JYmv", \
        {"JYTmv": P.doubleHamiltonianAdjointError()}, []
    ops = {}
    for (op, q), e in P.linopErrors().items():
        ops.setdefault(op, {})[q] = e
    for op, errs in ops.items():
        yield f"linops/{op}", errs, []
    for name in P.LOSSES:
        yield f"losses/{name}", P.lossErrors(name), []
    for name in ["tikhonovReg", "l2Reg", "l1Reg", "blockReg"]:
        yield f"regularizers/{name}", P.regularizerErrors(name), []
    for case in ["oneChunk", "twoChunks", "subset"]:
        yield f"dnnBatchObjFctn/{case}", P.objectiveErrors(case), []
    for case in ["momentum", "nesterov", "adamOneBatch", "adamTwoBatches"]:
        yield f"sgd/{case}", P.sgdErrors(case), []


def main():
    print("| case | compared | worst relative error |")
    print("| --- | --- | --- |")
    worst = 0.0
    for name, errs, known in rows():
        e = max(errs.values())
        worst = max(worst, e)
        what = ", ".join(errs)
        if known:
            what += f" (not {', '.join(known)}: documented Meganet.m difference)"
        print(f"| {name} | {what} | {e:.1e} |")
    print(f"\nworst over all cases: {worst:.1e} (tolerance {P.TOL:.0e})")
    return 0 if worst < P.TOL else 1


if __name__ == "__main__":
    sys.exit(main())
