"""Problems shared by the 2-rank script (run_ranks.py) and the serial references (test_mpi.py).

Small PDE-CNNs on synthetic images, built identically in every process from fixed seeds.
"""
import numpy as np

import meganet as mg

NIMG = (6, 6)


def network(batchNorm=False, useGPU=False):
    """Opening convolution layer + a 2-step ResNN of DoubleSymLayers (per-example layers).

    With ``batchNorm`` the opening layer normalizes with a BatchNormLayer (batch statistics).
    """
    kw = dict(useGPU=useGPU, precision="double")
    nl = mg.BatchNormLayer((NIMG[0], NIMG[1], 4), **kw) if batchNorm else None
    opening = mg.SingleLayer(mg.Conv2D(NIMG, (3, 3, 2, 4), **kw), activation=mg.reluActivation,
                             normLayer=nl)
    layer = mg.DoubleSymLayer(mg.Conv2D(NIMG, (3, 3, 4, 4), **kw), activation=mg.tanhActivation,
                              Bin=mg.opCNNBias(NIMG + (4,)))
    return mg.Meganet([mg.NN([opening]), mg.ResNN(layer, 2, 0.5)])


def data(nEx, seed, nClass=3):
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((nEx,) + NIMG + (2,))
    labels = (Y[:, :3, :, 0].mean(axis=(1, 2)) > 0).astype(int) + (Y[:, 3:, :, 1].mean(axis=(1, 2)) > 0)
    C = np.eye(nClass)[labels % nClass]
    return Y, C


def objective(kind="batch", batchNorm=False, nEx=40, seed=1, Y=None, C=None, useGPU=False):
    """(fctn, x0) of a DnnBatchObjFctn ('batch', chunks of 5) or DnnObjFctn ('full')."""
    net = network(batchNorm, useGPU)
    if Y is None:
        Y, C = data(nEx, seed)
    loss = mg.SoftmaxLoss()
    nW = C.shape[1] * (net.numelFeatOut() + 1)
    pRegTh = mg.TikhonovReg(mg.opEye(net.nTheta()), alpha=1e-3)
    pRegW = mg.TikhonovReg(mg.opEye(nW), alpha=1e-3)
    if kind == "batch":
        fctn = mg.DnnBatchObjFctn(net, pRegTh, loss, pRegW, Y, C, batchSize=5)
    else:
        fctn = mg.DnnObjFctn(net, pRegTh, loss, pRegW, Y, C)
    rng = np.random.default_rng(7)
    th = mg.toHost(net.initTheta(rng=3))
    x0 = np.concatenate([th, 0.1 * rng.standard_normal(nW)])
    return fctn, mg.asArray(x0, useGPU=useGPU)


def validation(useGPU=False):
    Y, C = data(16, 2)
    net = network(False, useGPU)
    return mg.DnnObjFctn(net, None, mg.SoftmaxLoss(), None, Y, C)


def classProblem():
    """(ClassObjFctn, W0): the classifier weights for fixed features."""
    rng = np.random.default_rng(4)
    Y = rng.standard_normal((30, 8))
    C = np.eye(3)[rng.integers(0, 3, 30)]
    fctn = mg.ClassObjFctn(mg.SoftmaxLoss(), mg.TikhonovReg(mg.opEye(27), alpha=1e-2), Y, C)
    return fctn, 0.1 * rng.standard_normal(27)


def sgd(maxEpochs, **kw):
    opts = dict(maxEpochs=maxEpochs, miniBatch=8, learningRate=0.05, momentum=0.9, nesterov=True,
                rng=11, out=0, progress=False)
    opts.update(kw)
    return mg.SGD(**opts)


def deterministic():
    """Name -> deterministic optimizer (a few iterations each)."""
    return {"SD": mg.SD(maxIter=4), "NLCG": mg.NLCG(maxIter=4), "LBFGS": mg.LBFGS(maxIter=5),
            "Newton": mg.Newton(maxIter=3), "TRNewton": mg.TRNewton(maxIter=3)}


def historyWithoutTime(His):
    """The history matrix without its 'Time' column (which differs between runs)."""
    keep = [j for j, n in enumerate(His.names) if n != "Time"]
    return np.asarray(His.his)[:, keep]
