"""Test accuracy of a trained CNN (port of Meganet.m's examples/2018-jmiv/cnnResults.m).

Reads a results file written by ``cnnDriver`` (HDF5), rebuilds the network from the stored
settings, restores the running statistics of its normalization layers, evaluates the final
weights ``xc`` on the test images of the data set it was trained on, prints loss and
accuracy, and stores the predictions (``PLast``: class probabilities, ``CLast``: predicted
classes) and ``pAcc`` = [loss, accuracy] in the file. If the file already holds them for
``ntest`` images, they are loaded instead of recomputed.

    python drivers/cnnResults.py results/fashionmnist-leapfrog.h5 [--ntest 2000]
"""

import argparse
import os
import sys

import numpy as np

import meganet as mg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnnDriver import _SETUP  # noqa: E402

_NORM = {"BatchNormLayer": mg.BatchNormLayer, "BatchNormLayer2": mg.BatchNormLayer2,
         "InstNormLayer": mg.InstNormLayer, "TVNormLayer": mg.TVNormLayer, None: None}


def cnnResults(fname, ntest=None, useGPU=False, precision="single"):
    """Evaluate the weights in ``fname`` on ``ntest`` test images (all if None).

    Returns
    -------
    nex : int
        Number of training examples the weights were trained on.
    hisTest : ndarray, shape (2,)
        Test loss and accuracy (%).
    """
    res = mg.loadResults(fname)
    s = res["settings"]
    for key in ("dataset", "dynamic", "nf", "nt", "h"):
        if key not in s:
            raise ValueError(f"cnnResults: {fname} has no setting {key!r}; it was not written by cnnDriver")
    nex = len(res["arrays"].get("idtrain", ()))
    print(f"---- {fname} ntrain={nex} -----")
    acc = res["accuracy"]
    P = res["arrays"].get("PLast")
    if P is not None and "pAcc" in res["arrays"] and (ntest is None or P.shape[0] == ntest):
        pAcc = res["arrays"]["pAcc"]
        print("load previous evaluations of test loss")
    else:
        Y0, C = _SETUP[s["dataset"]](
            0, ntest, precision=precision, useGPU=useGPU, embedded=s.get("embedded", True)
        )[2:]
        nImg, cin = Y0.shape[1:3], Y0.shape[3]
        if s.get("normalize", True):
            Y0 = mg.normalizeData(Y0, int(np.prod(nImg)) * cin)
        net, _ = mg.pdeCNN(nImg, cin, s["nf"], s["dynamic"], nt=s["nt"], h=s["h"],
                           normLayer=_NORM[s.get("normLayer")],
                           pdeNormLayer=_NORM[s.get("pdeNormLayer", "TVNormLayer")], useGPU=useGPU,
                           precision=precision)
        mg.setNormStates(net, res["normStates"])
        xc = mg.gpuVar(useGPU, precision, res["xc"])
        theta, W = xc[:net.nTheta()], xc[net.nTheta():]
        print("evaluate test loss")
        r = mg.classificationResults(net, theta, W, Y0, C, mg.SoftmaxLoss(), 125)
        pAcc = np.array([r["loss"], r["accuracy"]])
        arrays = dict(res["arrays"], PLast=r["probabilities"], CLast=r["predicted"], pAcc=pAcc)
        acc = dict(acc, test=r["accuracy"], testLoss=r["loss"], ntest=r["nExamples"])
        mg.saveResults(
            fname, res["xc"], res["His"], res["xOpt"], settings=s, accuracy=acc, arrays=arrays, net=net
        )
    print(f"loss={pAcc[0]:1.4f} accuracy={pAcc[1]:1.4f}")
    return nex, pAcc


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("fname", help="results file of cnnDriver (.h5)")
    p.add_argument("--ntest", type=int)
    p.add_argument("--gpu", action="store_true")
    args = p.parse_args(argv)
    return cnnResults(args.fname, args.ntest, args.gpu)


if __name__ == "__main__":
    main()
