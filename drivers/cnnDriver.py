"""Train a PDE-CNN on an image data set (port of Meganet.m's examples/2018-jmiv/cnnDriver.m).

The experiment of "Deep Neural Networks Motivated by Partial Differential Equations": an
opening convolution, units of a PDE block (parabolic, Hamiltonian or leapfrog, with the
symmetric layer) followed by a 1x1 connector and average pooling, and a softmax
classifier, trained by SGD with weight decay and smoothed total variation in time.

    python drivers/cnnDriver.py                         # the minimal example
    python drivers/cnnDriver.py --dataset fashionmnist --dynamic leapfrog --ntrain 5000 \\
        --nval 1000 --nf 8 16 32 32 --nt 2 --epochs 4

Without STL-10/CIFAR files the minimal example runs on the Fashion-MNIST subset embedded in
the repository and says so.
"""

import argparse
import os
import sys
import time

import numpy as np

import meganet as mg

DATASETS = ("stl10", "cifar10", "cifar100", "fashionmnist", "mnist")
_SETUP = {"stl10": mg.setupSTL, "cifar10": mg.setupCIFAR10, "cifar100": mg.setupCIFAR100,
          "fashionmnist": mg.setupFashionMNIST, "mnist": mg.setupMNIST}


def defaultOptimizer():
    """Meganet.m's default: SGD, momentum 0.9, batch 128, lr 0.1/0.01/0.001/0.0001 for 50/20/20/10 epochs."""
    lr = np.r_[0.1 * np.ones(50), 0.01 * np.ones(20), 0.001 * np.ones(20), 0.0001 * np.ones(10)]
    opt = mg.SGD()
    opt.nesterov = False
    opt.ADAM = False
    opt.miniBatch = 128
    opt.out = 1
    opt.learningRate = lambda epoch: lr[epoch - 1]
    opt.maxEpochs = len(lr)
    return opt


def paperOptimizer():
    """The paper's SGD: momentum 0.9, batch 128, 120 epochs, lr 0.1 / 10 at epochs 60, 80, 100, |x| <= 1."""
    lr = np.r_[0.1 * np.ones(60), 0.01 * np.ones(20), 0.001 * np.ones(20), 0.0001 * np.ones(20)]
    return mg.SGD(maxEpochs=len(lr), miniBatch=128, learningRate=lambda epoch: lr[epoch - 1], momentum=0.9,
                  nesterov=False, ADAM=False, P=mg.ProjBound(-1, 1), out=1)


def jmivOptimizer(nDecay, decayEpochs, epochs=None):
    """SGD of the 2018-jmiv runs: batch 32, momentum 0.9, |x| <= 1, loss tolerance 0.01, learning rate
    0.05 for 40 epochs, then ``0.05 * 1.5^-k`` for ``decayEpochs`` epochs each, ``k = 1..nDecay``.

    ``epochs`` (optional) stops after that many epochs of this schedule.
    """
    lr = np.r_[0.1 * np.ones(40), np.kron(0.1 * 1.5 ** -np.arange(1.0, nDecay + 1), np.ones(decayEpochs))] / 2
    return mg.SGD(maxEpochs=len(lr) if epochs is None else int(epochs), miniBatch=32, lossTol=0.01,
                  momentum=0.9, nesterov=False, ADAM=False, P=mg.ProjBound(-1, 1), out=1,
                  learningRate=lambda epoch: lr[min(epoch, len(lr)) - 1])


def jmivRuns(
    dataset, passes, nf, nt, opt, augment, alpha, useGPU, precision, resDir=None, dynamics=None, **kw
):
    """Run ``cnnDriver`` for each ``(ntrain, nval)`` of ``passes`` and each dynamic.

    Returns ``{(dynamic, ntrain): (xc, His, xOptAcc)}``; with ``resDir`` each run writes
    ``<resDir>/cnnDriver-<dynamic>-<dataset>-<ntrain>.h5``. Without the data set's files the
    runs use the embedded Fashion-MNIST subset (at most three units for 28x28 images).
    """
    data = availableDataset(dataset, kw.get("data_dir"))
    if data != dataset:
        nf = list(nf)[:4]
        dataset = data
    out = {}
    for ntrain, nval in passes:
        for dynamic in dynamics or ("parabolic", "leapfrog", "hamiltonian"):
            resFile = (
                None if resDir is None else os.path.join(resDir, f"cnnDriver-{dynamic}-{dataset}-{ntrain}")
            )
            out[dynamic, ntrain] = cnnDriver(dataset, dynamic, ntrain, nval, nf, nt, 1.0, useGPU, precision,
                                             opt, augment, alpha, mg.BatchNormLayer2, resFile, **kw)
    return out


def runMain(run, description, argv=None):
    """Command line of runSTL10, runCIFAR10, runCIFAR100: shorten the runs by options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, help="stop the learning-rate schedule after this many epochs")
    p.add_argument("--ntrain", type=int, nargs="+", help="training images of each pass")
    p.add_argument("--nval", type=int, nargs="+", help="validation images of each pass")
    p.add_argument("--gpu", action="store_true")
    p.add_argument("--precision", default="single", choices=["single", "double"])
    p.add_argument("--res-dir", help="write one results file per run into this folder")
    p.add_argument("--seed", type=int, default=0)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    kw = {}
    if args.ntrain is not None:
        kw["ntrain"] = tuple(args.ntrain)
        kw["nval"] = tuple(args.nval) if args.nval is not None else (0,) * len(args.ntrain)
    return run(
        args.epochs, useGPU=args.gpu, precision=args.precision, resDir=args.res_dir, rng=args.seed,
        mpi=args.mpi, **kw
    )


def stl10Experiment(
    dynamic, widths, normalize, ntrain, nval, nf0, nt, useGPU, precision, opt, resFile, instNorm=False, **kw
):
    """The STL-10 experiment of the paper (shared by EParabolic_STL10, EHamiltonian_STL10, ELeapfrog_STL10).

    Widths ``nf0 * widths``, ``nt`` steps of size 1 per PDE block, batch normalization in the
    opening and connector layers, TV normalization (instance normalization with
    ``instNorm=True``, as the paper) in the PDE blocks, weight decay 5e-4, smoothed total
    variation in time 3e-4 (eps 1e-3), no augmentation, :func:`paperOptimizer` by default.
    Without STL-10 files it runs on the embedded Fashion-MNIST subset with three units
    (28 x 28 images cannot be halved three times).

    Meganet.m's inputs: ``ntrain``, ``nval`` (examples for training and validation, drawn from
    the 5,000 STL-10 training images), ``nf0`` (width of the first layer; the others are
    multiples), ``nt`` (time steps per PDE block), ``useGPU``, ``precision``, ``opt`` (the
    optimizer), ``resFile`` (results file or None). Outputs: ``xc`` (final weights), ``His``
    (history), ``xOpt`` (weights with the best validation accuracy).
    """
    if opt is None:
        opt = paperOptimizer()
    nf = [int(nf0 * w) for w in widths]
    dataset = availableDataset("stl10", kw.get("data_dir"))
    if dataset != "stl10":
        nf = nf[:4]
        mg.DriverMPI().print(f"28x28 images: three units, widths {nf}")
    pdeNormLayer = mg.InstNormLayer if instNorm else mg.TVNormLayer
    return cnnDriver(dataset, dynamic, ntrain, nval, nf, nt, 1.0, useGPU, precision, opt, False, (5e-4, 5e-4,
                     3e-4), mg.BatchNormLayer, resFile, pdeNormLayer=pdeNormLayer, normalize=normalize, **kw)


def stl10Main(driver, description, minimal, argv=None):
    """Command line of the three STL-10 drivers; no arguments run Meganet.m's minimal example."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ntrain", type=int, help="training images (max 5000 - nval); none: the minimal example")
    p.add_argument("--nval", type=int, default=1000)
    p.add_argument("--nf0", type=int, default=16)
    p.add_argument("--nt", type=int, default=3)
    p.add_argument("--gpu", action="store_true")
    p.add_argument("--precision", default="single", choices=["single", "double"])
    p.add_argument("--epochs", type=int,
                   help="epochs of SGD at learning rate --lr (default: the paper's 120-epoch schedule)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument(
        "--instnorm", action="store_true", help="instance normalization in the PDE blocks (the paper)"
    )
    p.add_argument("--res-file")
    p.add_argument("--seed", type=int, default=0)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    if args.ntrain is None:
        return minimal()
    opt = None
    if args.epochs is not None:
        opt = mg.SGD(maxEpochs=args.epochs, miniBatch=128, learningRate=args.lr, nesterov=False, out=1,
                     P=mg.ProjBound(-1, 1))
    return driver(args.ntrain, args.nval, args.nf0, args.nt, args.gpu, args.precision, opt, args.res_file,
                  instNorm=args.instnorm, rng=args.seed, mpi=args.mpi)


def availableDataset(dataset, data_dir=None):
    """``dataset`` if its files are found, else ``'fashionmnist'`` (the embedded subset), with a message."""
    try:
        mg.datasetFiles(dataset, data_dir=data_dir)
        return dataset
    except FileNotFoundError as err:
        mg.DriverMPI().print(
            f"{dataset} is not installed ({str(err).split('. ')[0]}); running on the Fashion-MNIST "
            f"subset embedded in the repository instead"
        )
        return "fashionmnist"


def cnnDriver(dataset="cifar10", dynamic="parabolic", ntrain=40000, nval=10000, nf=(32, 64, 112, 112), nt=3,
              h=1.0, useGPU=False, precision="single", opt=None, augment=None, alpha=(4e-4, 4e-4, 1e-4),
              normLayer=mg.BatchNormLayer2, resFile=None, *, ntest=0, data_dir=None, embedded=True, rng=None,
              miniBatchSize=125, historySubset=None, mat=False, full_output=False,
              pdeNormLayer=mg.TVNormLayer, normalize=True, eps=1e-3, wrapObjective=None, mpi=None, crop=4):
    """Train a PDE-CNN (Meganet.m's ``cnnDriver``); arguments in Meganet.m's order.

    Parameters
    ----------
    dataset : {'stl10', 'cifar10', 'cifar100', 'fashionmnist', 'mnist'}
    dynamic : {'parabolic', 'hamiltonian', 'leapfrog', 'resnet'}
    ntrain, nval : int
        Training and validation examples, both drawn from the training set (``ntrain=None``:
        all of it minus ``nval``).
    nf : sequence of int
        Widths: opening layer and one per unit.
    nt : int or sequence of int
        Time steps per PDE block.
    h : float or sequence of float
        Step size.
    useGPU, precision :
        Backend.
    opt : SGD, optional
        Default :func:`defaultOptimizer`.
    augment : callable or None, optional
        ``Y -> Y`` applied to each training mini-batch; default (``None``)
        ``randomCrop(randomFlip(Y, 0.5), crop)`` with this rank's generator
        (:meth:`~meganet.DriverMPI.augmentRng`); ``False``: no augmentation.
    alpha : (float, float, float)
        Weight decay of the classifier, weight decay of the convolutions, total variation in
        time of the PDE blocks.
    normLayer : class, None or False
        Normalization of the opening and connector layers (None: ``BatchNormLayer2``,
        False: none).
    resFile : str or None
        Results file (HDF5, ``.h5`` appended unless present); ``None``: nothing written.

    Other Parameters
    ----------------
    ntest : int or None
        Test examples (0: none, None: all) on which the final weights ``xc`` are evaluated. When
        ``nval == 0`` the history's validation columns are computed on them (they are then
        test curves, not used to choose the reported weights).
    data_dir, embedded :
        Passed to the data reader (``embedded=False`` refuses the embedded subset).
    rng : None, int or numpy.random.Generator
        Seed of everything random (split, initial weights, mini-batches, augmentation).
    miniBatchSize : int
        Chunk size of the objective evaluations (memory only).
    historySubset : int, optional
        Estimate the training columns of the history on this many examples
        (:class:`~meganet.HistorySubset`); default all.
    mat : bool
        Also write a ``.mat`` file.
    pdeNormLayer : class or None
        Normalization inside the PDE blocks (``TVNormLayer`` as Meganet.m, ``InstNormLayer``
        as the paper).
    normalize : bool
        Normalize each image to zero mean and unit standard deviation (``normalizeData``).
    eps : float
        Smoothing of the total variation in time.
    wrapObjective : callable, optional
        ``fctn -> fctn`` applied to the training objective (e.g. to report progress).
    crop : int
        Padding of the random crop of the default augmentation.
    mpi : None, bool or DriverMPI
        Data-parallel training over MPI (:class:`~meganet.DriverMPI`; None: when started by
        ``mpiexec``/``srun``). Every rank draws the same split and initial weights and its
        own augmentation; only rank 0 prints and writes ``resFile``.
    full_output : bool
        Also return ``info`` (dict: ``net``, ``Ytest``, ``Ctest``, ``test`` (the
        :func:`~meganet.classificationResults` of ``xc`` on the test set, or None), ``time``,
        ``settings``, ``files``).

    Returns
    -------
    xc : ndarray
        Weights ``[theta; W]`` after the last epoch (host array).
    His : History
    xOptAcc : ndarray
        Weights with the best validation accuracy.
    info : dict
        Only with ``full_output=True``.
    """
    par = mg.DriverMPI.of(mpi)
    rng = par.rng(rng)
    augmentRng = par.augmentRng(rng)
    normLayer = mg.BatchNormLayer2 if normLayer is None else (None if normLayer is False else normLayer)
    alpha = (4e-4, 4e-4, 1e-4) if alpha is None else alpha
    if opt is None:
        opt = defaultOptimizer()
    if dataset not in DATASETS:
        raise ValueError(f"cnnDriver: unknown dataset {dataset!r}; choose one of {DATASETS}")
    if dynamic not in mg.PDE_DYNAMICS:
        raise ValueError(f"cnnDriver: unknown dynamic {dynamic!r}; choose one of {mg.PDE_DYNAMICS}")
    if augment is None:

        def augment(Y):
            return mg.randomCrop(mg.randomFlip(Y, 0.5, augmentRng), crop, augmentRng)

    elif augment is False:
        augment = None

    # %% data: ntrain + nval examples of the training set, split at random
    setup = _SETUP[dataset]
    info = mg.datasetFiles(dataset, data_dir=data_dir, embedded=embedded)
    nTrainAll = None if ntrain is None else ntrain + nval
    Y0, C, Ytest, Ctest = setup(
        nTrainAll, ntest, data_dir=data_dir, precision=precision, rng=rng, embedded=embedded
    )
    if ntrain is None:
        ntrain = Y0.shape[0] - nval
    ntest = Ytest.shape[0]
    nImg = Y0.shape[1:3]
    cin = Y0.shape[3]
    if normalize:
        Y0 = mg.normalizeData(Y0, int(np.prod(nImg)) * cin)
        if ntest > 0:
            Ytest = mg.normalizeData(Ytest, int(np.prod(nImg)) * cin)

    ids = rng.permutation(ntrain + nval)
    idtrain, idval = ids[:ntrain], ids[ntrain:ntrain + nval]
    Ytrain, Ctrain = Y0[idtrain], C[idtrain]
    Yval, Cval = Y0[idval], C[idval]
    Ytrain, Ctrain, Yval, Cval, Ytest, Ctest = mg.gpuVar(
        useGPU, precision, Ytrain, Ctrain, Yval, Cval, Ytest, Ctest
    )

    # %% network: opening layer, units of PDE block + connector + pooling
    net, pRegTh = mg.pdeCNN(nImg, cin, nf, dynamic, nt=nt, h=h, normLayer=normLayer,
                            pdeNormLayer=pdeNormLayer, alpha=alpha, eps=eps, useGPU=useGPU,
                            precision=precision)
    pLoss = mg.SoftmaxLoss()
    nClass = C.shape[1]
    theta = net.initTheta(rng=rng)
    W = mg.initSoftmaxWeights(nClass, net.numelFeatOut(), rng=rng, precision=precision)
    RegOpW = mg.opEye(W.size, useGPU=useGPU, precision=precision)
    pRegW = mg.TikhonovReg(RegOpW, alpha[0], useGPU=useGPU, precision=precision)

    # %% objective functions for training and validation
    fctn = mg.DnnBatchObjFctn(
        net, pRegTh, pLoss, pRegW, Ytrain, Ctrain, batchSize=miniBatchSize, dataAugment=augment
    )
    if historySubset is not None:
        fctn = mg.HistorySubset(fctn, historySubset, rng=rng)
    if wrapObjective is not None:
        fctn = wrapObjective(fctn)
    fctn = par.wrap(fctn)
    if nval > 0:
        fval = mg.DnnBatchObjFctn(net, None, pLoss, None, Yval, Cval, batchSize=miniBatchSize)
    elif ntest > 0:
        fval = mg.DnnBatchObjFctn(net, None, pLoss, None, Ytest, Ctest, batchSize=miniBatchSize)
    else:
        fval = None
    fval = par.wrap(fval)
    writing = mg.isWritingRank(fctn)
    say = print if writing else (lambda *args: None)
    if opt.rng is None:
        opt.rng = rng

    # %% learning
    x0 = np.concatenate([mg.toHost(theta), W])
    x0 = mg.gpuVar(useGPU, precision, x0)
    name = (
        "the Fashion-MNIST subset embedded in the repository"
        if info.get("embedded")
        else f"{dataset} from {info['folder']}"
    )
    say(f"------- cnnDriver: {dynamic} CNN for {dataset} ----------")
    say(f"data:                                 {name}")
    say(
        f"no. of examples (train / val / test): {Ytrain.shape[0]} / {Yval.shape[0]} / {Ytest.shape[0]}"
        + (" (validation columns of the history: test set)" if nval == 0 and ntest > 0 else "")
    )
    say(f"no. of time steps:                    {nt}")
    say(f"time step size (h):                   {h}")
    say(f"no. of channels:                      {list(nf)}")
    say(f"no. of weights:                       {net.nTheta()} + {W.size}")
    say(f"augmentation:                         {'on' if augment is not None else 'off'}")
    say(f"reg 1: weight decay for W:            {alpha[0]:1.2e}")
    say(f"reg 2: weight decay for theta:        {alpha[1]:1.2e}")
    say(f"reg 3: smoothness of theta:           {alpha[2]:1.2e}")
    say(f"normlayer:                            {getattr(normLayer, '__name__', normLayer)}")
    say(f"normlayer of the PDE blocks:          {getattr(pdeNormLayer, '__name__', pdeNormLayer)}")
    say(f"resfile:                              {resFile}")
    t0 = time.perf_counter()
    xc, His, xOptAcc = opt.solve(fctn, x0, fval)
    elapsed = time.perf_counter() - t0
    say(f"time = {elapsed:.1f} s")
    xc, xOptAcc = mg.toHost(xc), mg.toHost(xOptAcc)

    # %% test accuracy of the final weights
    testRes = None
    if ntest > 0:
        thc, Wc = np.split(xc, [net.nTheta()])
        testRes = mg.classificationResults(net, thc, Wc, Ytest, Ctest, pLoss, miniBatchSize)
        say(f"test accuracy of the final weights:   {testRes['accuracy']:.2f} % ({ntest} images)")

    settings = dict(dataset=dataset, data=name, dynamic=dynamic, ntrain=int(ntrain), nval=int(nval),
                    ntest=int(ntest), nf=list(nf), nt=nt, h=h, precision=precision, alpha=list(alpha),
                    normLayer=normLayer, pdeNormLayer=pdeNormLayer, normalize=normalize,
                    embedded=bool(info.get("embedded")), augment=augment is not None, miniBatch=opt.miniBatch,
                    maxEpochs=opt.maxEpochs, momentum=opt.momentum, time=elapsed,
                    learningRate=[float(v) for v in His["lr"]] if "lr" in His else None)
    files = []
    if resFile is not None and writing:
        if not resFile.endswith((".h5", ".hdf5")):
            resFile = resFile + ".h5"
        arrays = {"idtrain": idtrain, "idval": idval}
        accuracy = {}
        if testRes is not None:
            arrays.update(Ptest=testRes["probabilities"], labelsTest=testRes["labels"],
                          confusionTest=testRes["confusion"])
            accuracy = {"test": testRes["accuracy"], "testLoss": testRes["loss"], "ntest": ntest}
        files = mg.saveResults(
            resFile, xc, His, xOptAcc, settings=settings, accuracy=accuracy, arrays=arrays, mat=mat, net=net
        )
    if full_output:
        return (
            xc,
            His,
            xOptAcc,
            dict(
                net=net, Ytest=Ytest, Ctest=Ctest, test=testRes, time=elapsed, settings=settings, files=files
            ),
        )
    return xc, His, xOptAcc


def minimalExample(epochs=4, ntrain=100, nval=100):
    """Meganet.m's ``cnnDriver()`` without arguments (CIFAR-100, or the embedded data if absent)."""
    opt = mg.SGD(learningRate=1e-1, maxEpochs=epochs, out=1, miniBatch=100 if ntrain >= 100 else ntrain)
    dataset = availableDataset("cifar100")
    nf = [32, 64, 112, 112] if dataset == "cifar100" else [32, 64, 112]
    return cnnDriver(dataset, "parabolic", ntrain, nval, nf, 3, 0.1, False, "single", opt, False, None,
                     mg.BatchNormLayer2, None)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", choices=DATASETS)
    p.add_argument("--dynamic", default="parabolic", choices=mg.PDE_DYNAMICS)
    p.add_argument("--ntrain", type=int, default=40000)
    p.add_argument("--nval", type=int, default=10000)
    p.add_argument("--ntest", type=int, default=0)
    p.add_argument("--nf", type=int, nargs="+", default=[32, 64, 112, 112])
    p.add_argument("--nt", type=int, default=3)
    p.add_argument("--h", type=float, default=1.0)
    p.add_argument("--gpu", action="store_true")
    p.add_argument("--precision", default="single", choices=["single", "double"])
    p.add_argument("--epochs", type=int,
                   help="epochs of SGD with the learning rate --lr (default: Meganet.m's 100-epoch schedule)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--alpha", type=float, nargs=3, default=[4e-4, 4e-4, 1e-4])
    p.add_argument("--data-dir")
    p.add_argument("--res-file")
    p.add_argument("--mat", action="store_true", help="also write a .mat file")
    p.add_argument("--seed", type=int, default=0)
    mg.DriverMPI.addArgument(p)
    args = p.parse_args(argv)
    if args.dataset is None:
        xc, His, xOpt = minimalExample()
        return His
    opt = defaultOptimizer()
    if args.epochs is not None:
        opt = mg.SGD(maxEpochs=args.epochs, miniBatch=args.batch, learningRate=args.lr, nesterov=False, out=1,
                     P=mg.ProjBound(-1, 1))
    xc, His, xOpt = cnnDriver(args.dataset, args.dynamic, args.ntrain, args.nval, args.nf, args.nt, args.h,
                              args.gpu, args.precision, opt, False if args.no_augment else None,
                              tuple(args.alpha), mg.BatchNormLayer2, args.res_file, ntest=args.ntest,
                              data_dir=args.data_dir, rng=args.seed, mat=args.mat, mpi=args.mpi)
    return His


if __name__ == "__main__":
    main()
    sys.exit(0)
