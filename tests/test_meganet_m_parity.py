"""Parity with Meganet.m itself: its outputs, stored by tests/meganet_m/make_fixtures.m.

The fixtures (tests/meganet_m/fixtures/*.mat) hold Meganet.m's inputs and outputs in its
own layouts (examples last, column-major flattening, ``theta(:)``). Each test builds the
same element here, converts the inputs with the public converters
(``thetaFromMatlab``, ``featuresFromMatlab``, ``matrixFromMatlab``, ``WFromMatlab``) and
compares the outputs to ``TOL`` relative. Where the numbers differ from Meganet.m on
purpose (docs/porting.md lists these), the test asserts the documented difference.

``python tests/meganet_m/parity_table.py`` prints the worst relative error of each case.
"""
import functools
import math
import pathlib

import numpy
import pytest
import scipy.io

import meganet as mg

FIXTURES = pathlib.Path(__file__).parent / "meganet_m" / "fixtures"
TOL = 1e-10


# ------------------------------------------------------------------------------ helpers
@functools.lru_cache(maxsize=None)
def fixture(group):
    """The cases of one fixture file: {name: struct with the case's fields}."""
    d = scipy.io.loadmat(FIXTURES / f"{group}.mat", squeeze_me=False, struct_as_record=False)
    return {k: v[0, 0] for k, v in d.items() if not k.startswith("__")}


def rel(ours, ref):
    """Relative error ``|ours - ref| / |ref|`` (absolute when ``ref`` is 0)."""
    ours = numpy.asarray(ours, dtype=numpy.float64).reshape(-1)
    ref = numpy.asarray(ref, dtype=numpy.float64).reshape(-1)
    assert ours.shape == ref.shape, f"shapes differ: {ours.shape} vs {ref.shape}"
    nref = numpy.linalg.norm(ref)
    err = numpy.linalg.norm(ours - ref)
    return err / nref if nref > 0 else err


def vector(a):
    """A MATLAB column/row vector (or matrix taken column-major) as a 1-D array."""
    return numpy.asarray(a, dtype=numpy.float64).reshape(-1, order="F")


def scalar(a):
    return float(numpy.asarray(a).reshape(-1)[0])


def features(a, sizeFeat):
    """Meganet.m's features ``a`` in our layout.

    Meganet.m returns some products with another shape than its input (e.g. normLayer's
    derivatives come back as ``[-1, nC]`` matrices); MATLAB's ``reshape(a, [], nEx)``
    (column-major) restores the ``(prod(sizeFeat), nEx)`` matrix before converting.
    """
    a = numpy.asarray(a, dtype=numpy.float64)
    return mg.featuresFromMatlab(a.reshape((math.prod(sizeFeat), -1), order="F"), sizeFeat)


def compareElement(el, s):
    """Forward output and the four Jacobian products of ``el`` against Meganet.m's.

    Returns ``{quantity: relative error}``.
    """
    fin, fout = el.sizeFeatIn(), el.sizeFeatOut()
    theta = mg.thetaFromMatlab(el, vector(s.theta))
    dtheta = mg.thetaFromMatlab(el, vector(s.dtheta))
    Y = features(s.Y, fin)
    dY = features(s.dY, fin)
    W = features(s.W, fout)
    Z, tmp = el.forwardProp(theta, Y)
    dZ = el.Jthetamv(dtheta, theta, Y, tmp)
    # without weights, Meganet.m's Jthetamv returns the scalar 0
    dZref = (numpy.zeros(dZ.shape) if el.nTheta() == 0 and numpy.size(s.Jthetamv) == 1
             else features(s.Jthetamv, fout))
    errs = {"Z": rel(Z, features(s.Z, fout)),
            "Jthetamv": rel(dZ, dZref) if el.nTheta() > 0 else numpy.abs(dZ - dZref).max(),
            "JYmv": rel(el.JYmv(dY, theta, Y, tmp), features(s.JYmv, fout))}
    if el.nTheta() > 0:
        errs["JthetaTmv"] = rel(el.JthetaTmv(W, theta, Y, tmp),
                                mg.thetaFromMatlab(el, vector(s.JthetaTmv)))
    errs["JYTmv"] = rel(el.JYTmv(W, theta, Y, tmp), features(s.JYTmv, fin))
    return errs


def matrix(s, name, rowSize=None, colSize=None):
    return mg.matrixFromMatlab(numpy.asarray(getattr(s, name), dtype=numpy.float64),
                               rowSize, colSize)


# ------------------------------------------------------------------------------ builders
# Each builder makes the element of the fixture case of the same name (the sizes and
# options of make_fixtures.m); it gets the case's struct for the explicit matrices.
def tvw(shape):
    return mg.TVNormLayer(shape, isWeight=True)


def smallMeganet():
    b1 = mg.NN([mg.SingleLayer(mg.ConvFFT((4, 4), (3, 3, 1, 2)), activation=mg.reluActivation,
                               Bin=mg.opCNNBias((4, 4, 2)), normLayer=tvw((4, 4, 2)))])
    b2 = mg.ResNN(mg.DoubleSymLayer(mg.ConvFFT((4, 4), (3, 3, 2, 2)),
                                    activation=mg.reluActivation, Bin=mg.opCNNBias((4, 4, 2)),
                                    normLayer1=tvw((4, 4, 2))), 2, 0.5)
    b3 = mg.Connector(mg.opPool((4, 4, 2), 2))
    b4 = mg.NN([mg.SingleLayer(mg.ConvFFT((2, 2), (1, 1, 2, 3)), activation=mg.tanhActivation,
                               Bin=mg.opCNNBias((2, 2, 3)))])
    return mg.Meganet([b1, b2, b3, b4])


def denseSingle():
    return mg.SingleLayer(mg.Dense((4, 4)), activation=mg.tanhActivation, Bout=numpy.ones((4, 1)))


BUILDERS = {
    "kernels": {
        "convFFT": lambda s: mg.ConvFFT((5, 6), (3, 3, 2, 3)),
        "dense": lambda s: mg.Dense((4, 3)),
        "denseAntiSym": lambda s: mg.getDenseAntiSym((4, 4)),
    },
    "layers": {
        "singleLayer_dense": lambda s: mg.SingleLayer(
            mg.Dense((5, 4)), activation=mg.tanhActivation,
            Bin=matrix(s, "Bin", (5,)), Bout=matrix(s, "Bout", (5,))),
        "singleLayer_conv": lambda s: mg.SingleLayer(
            mg.ConvFFT((4, 5), (3, 3, 2, 3)), activation=mg.reluActivation,
            Bin=mg.opCNNBias((4, 5, 3)), normLayer=tvw((4, 5, 3))),
        "singleLayer_conv_batchNorm": lambda s: mg.SingleLayer(
            mg.ConvFFT((4, 5), (3, 3, 2, 3)), activation=mg.reluActivation,
            normLayer=mg.BatchNormLayer((4, 5, 3, 3), isWeight=True)),
        "doubleLayer_dense": lambda s: mg.DoubleLayer(
            mg.Dense((5, 4)), mg.Dense((3, 5)), activation1=mg.tanhActivation,
            activation2=mg.reluActivation, Bin1=matrix(s, "Bin1", (5,)),
            Bin2=matrix(s, "Bin2", (3,)), Bout=matrix(s, "Bout", (3,))),
        "doubleLayer_conv": lambda s: mg.DoubleLayer(
            mg.ConvFFT((4, 5), (3, 3, 2, 3)), mg.ConvFFT((4, 5), (3, 3, 3, 2)),
            Bin1=mg.opCNNBias((4, 5, 3)), Bin2=mg.opCNNBias((4, 5, 2)),
            normLayer1=tvw((4, 5, 3)), normLayer2=tvw((4, 5, 2))),
        "doubleSymLayer_dense": lambda s: mg.DoubleSymLayer(
            mg.Dense((5, 4)), activation=mg.tanhActivation,
            Bin=matrix(s, "Bin", (5,)), Bout=matrix(s, "Bout", (4,))),
        "doubleSymLayer_conv": lambda s: mg.DoubleSymLayer(
            mg.ConvFFT((4, 5), (3, 3, 3, 3)), activation=mg.reluActivation,
            Bin=mg.opCNNBias((4, 5, 3)), normLayer1=tvw((4, 5, 3))),
    },
    "normlayers": {
        # Meganet.m's calling form with the number of examples as a 4th entry
        "batchNormLayer": lambda s: mg.BatchNormLayer((3, 4, 2, 4), isWeight=True),
        "batchNormLayer2": lambda s: mg.BatchNormLayer2((3, 4, 2), isWeight=True),
        "instNormLayer": lambda s: mg.InstNormLayer((3, 4, 2), isWeight=True),
        "tvNormLayer": lambda s: tvw((3, 4, 2)),
        "tvNormLayer_noWeight": lambda s: mg.TVNormLayer((3, 4, 2)),
        "affineScalingLayer": lambda s: mg.AffineScalingLayer((6, 4)),
        "normLayer": lambda s: mg.NormLayer((12, 2)),
        "normLayer_nEx": lambda s: mg.NormLayer((12, 2)),
    },
    "integrators": {
        "ResNN": lambda s: mg.ResNN(denseSingle(), 3, 0.1),
        "ResNN_conv": lambda s: mg.ResNN(mg.DoubleSymLayer(
            mg.ConvFFT((4, 4), (3, 3, 2, 2)), activation=mg.reluActivation,
            Bin=mg.opCNNBias((4, 4, 2)), normLayer1=tvw((4, 4, 2))), 2, 0.5),
        "ResNN_timeBasis": lambda s: mg.ResNN(denseSingle(), 4, 0.25,
                                              A=numpy.asarray(s.A, dtype=numpy.float64)),
        "ResNNrk4": lambda s: mg.ResNNrk4(denseSingle(), numpy.linspace(0, 1, 4)),
        "HamiltonianNN": lambda s: mg.HamiltonianNN(mg.tanhActivation, mg.Dense((4, 4)),
                                                    numpy.ones((4, 1)), 3, 0.2),
        "DoubleHamiltonianNN": lambda s: mg.DoubleHamiltonianNN(
            mg.DoubleSymLayer(mg.Dense((3, 2)), activation=mg.tanhActivation,
                              Bin=numpy.ones((3, 1))),
            mg.DoubleSymLayer(mg.Dense((3, 2)), activation=mg.tanhActivation,
                              Bin=numpy.ones((3, 1))), 3, 0.2),
        "LeapFrogNN": lambda s: mg.LeapFrogNN(mg.DoubleSymLayer(
            mg.Dense((5, 4)), activation=mg.tanhActivation, Bin=numpy.ones((5, 1))), 3, 0.3),
    },
    "networks": {
        "NN": lambda s: mg.NN([
            mg.SingleLayer(mg.Dense((5, 4)), Bout=numpy.ones((5, 1))),
            mg.SingleLayer(mg.Dense((3, 5)), activation=mg.reluActivation)]),
        "connector": lambda s: mg.Connector(matrix(s, "K", (3,), (4,)),
                                            vector(s.b)),
        "connector_image": lambda s: mg.Connector(matrix(s, "K", (6,), (4, 4, 2)), vector(s.b),
                                                  sizeFeatIn=(4, 4, 2)),
        "Meganet": lambda s: smallMeganet(),
        "NN_reshape": lambda s: mg.NN([
            mg.SingleLayer(mg.ConvFFT((4, 4), (3, 3, 1, 2)), activation=mg.reluActivation),
            mg.ReshapeLayer((4, 4, 2), (32,)),
            mg.SingleLayer(mg.Dense((3, 32)), activation=mg.tanhActivation)]),
        "NN_reshape_perm": lambda s: mg.NN([
            mg.SingleLayer(mg.ConvFFT((4, 4), (3, 3, 1, 2)), activation=mg.reluActivation),
            mg.ReshapeLayer((4, 4, 2), (32,), perm=(2, 0, 1)),
            mg.SingleLayer(mg.Dense((5, 32)), activation=mg.tanhActivation)]),
    },
}

ELEMENT_CASES = [(g, c) for g, cases in BUILDERS.items() for c in cases]

# Where Meganet.m's value is not the one to match (the test asserts the difference):
# DoubleHamiltonianNN.JYTmv of Meganet.m is not the adjoint of its JYMv.
# normLayer built with the number of examples in nData: Meganet.m's JYmv/JYTmv then
# treat the batch as one example and pair the wrong entries.
KNOWN = {("integrators", "DoubleHamiltonianNN"): {"JYTmv"},
         ("normlayers", "normLayer_nEx"): {"JYmv", "JYTmv"}}


def elementErrors(group, case):
    s = fixture(group)[case]
    el = BUILDERS[group][case](s)
    return el, s, compareElement(el, s)


# ------------------------------------------------------------------------------ elements
@pytest.mark.parametrize("group,case", ELEMENT_CASES, ids=[f"{g}-{c}" for g, c in ELEMENT_CASES])
def test_element_matches_meganet_m(group, case):
    el, s, errs = elementErrors(group, case)
    for q, e in errs.items():
        if q in KNOWN.get((group, case), ()):
            continue
        assert e < TOL, f"{group}/{case} {q}: relative error {e:.2e} vs Meganet.m"


def doubleHamiltonianAdjointError():
    """Our DoubleHamiltonianNN.JYTmv against the transpose of Meganet.m's JYmv (the
    Jacobian built column by column from Meganet.m's JYmv, stored in the fixture)."""
    el, s, errs = elementErrors("integrators", "DoubleHamiltonianNN")
    theta = mg.thetaFromMatlab(el, vector(s.theta))
    Y = mg.featuresFromMatlab(s.Y, el.sizeFeatIn())
    W = mg.featuresFromMatlab(s.W, el.sizeFeatOut())
    Z, tmp = el.forwardProp(theta, Y)
    return rel(el.JYTmv(W, theta, Y, tmp), features(s.JYTmv_fromJYmv, el.sizeFeatIn()))


def test_doubleHamiltonian_JYTmv_is_the_adjoint_where_meganet_m_is_not():
    """Meganet.m's DoubleHamiltonianNN.JYTmv assigns an update to the wrong variable.

    Its JYTmv differs from the transpose of its own JYmv; ours equals that transpose.
    """
    el, s, errs = elementErrors("integrators", "DoubleHamiltonianNN")
    assert doubleHamiltonianAdjointError() < TOL
    ref = features(s.JYTmv_fromJYmv, el.sizeFeatIn())
    assert rel(features(s.JYTmv, el.sizeFeatIn()), ref) > 1e-3
    assert errs["JYTmv"] > 1e-3


def conv2dInteriorErrors():
    """Our Conv2D (zero padding) against Meganet.m's convFFT (periodic) where the 3x3
    stencil does not reach the boundary (Meganet.m's convMCN needs MatConvNet)."""
    s = fixture("kernels")["convFFT"]
    K = mg.Conv2D((5, 6), (3, 3, 2, 3))
    theta = mg.thetaFromMatlab(K, vector(s.theta))
    dtheta = mg.thetaFromMatlab(K, vector(s.dtheta))
    Y = mg.featuresFromMatlab(s.Y, K.sizeFeatIn())
    dY = mg.featuresFromMatlab(s.dY, K.sizeFeatIn())
    inner = (slice(None), slice(1, -1), slice(1, -1))
    errs = {}
    for q, ours, ref in [("Z", K.Amv(theta, Y), s.Z),
                         ("Jthetamv", K.Jthetamv(dtheta, theta, Y), s.Jthetamv),
                         ("JYmv", K.Amv(theta, dY), s.JYmv)]:
        ref = features(ref, K.sizeFeatOut())
        errs[q] = rel(ours[inner], ref[inner])
    return errs


def test_conv2d_matches_convFFT_on_interior_pixels():
    for q, e in conv2dInteriorErrors().items():
        assert e < TOL, f"Conv2D vs convFFT {q}: relative error {e:.2e}"


def test_normLayer_with_nEx_in_nData_differs_from_meganet_m_derivative():
    """Meganet.m's ``normLayer([nPix nC nEx])`` (as its help says to call it) computes
    ``nex = numel(dY) / prod(nData) = 1`` in JYmv and normalizes the wrong entries
    together: its JYmv is not the derivative of its own forward map. Ours is (checked
    with Meganet.m's forward map at ``Y +- h dY``, stored in the fixture)."""
    el, s, errs = elementErrors("normlayers", "normLayer_nEx")
    fd = features((numpy.asarray(s.Zplus) - numpy.asarray(s.Zminus)) / (2 * scalar(s.h)),
                  el.sizeFeatOut())
    Y = mg.featuresFromMatlab(s.Y, el.sizeFeatIn())
    dY = mg.featuresFromMatlab(s.dY, el.sizeFeatIn())
    Z, tmp = el.forwardProp(numpy.zeros(0), Y)
    assert rel(el.JYmv(dY, numpy.zeros(0), Y, tmp), fd) < 1e-7
    assert rel(features(s.JYmv, el.sizeFeatOut()), fd) > 1e-2
    assert errs["JYmv"] > 1e-2


def batchNorm2RunningErrors():
    """BatchNormLayer2's running statistics after one training pass, and its evaluation
    output (running statistics, no update), against Meganet.m's."""
    s = fixture("normlayers")["batchNormLayer2"]
    el = BUILDERS["normlayers"]["batchNormLayer2"](s)
    theta = mg.thetaFromMatlab(el, vector(s.theta))
    Y = mg.featuresFromMatlab(s.Y, el.sizeFeatIn())
    el.forwardProp(theta, Y)
    errs = {"runningMean": rel(el.runningMean, vector(s.runningMean)),
            "runningVar": rel(el.runningVar, vector(s.runningVar))}
    Z, _ = el.forwardProp(theta, Y, doDerivative=False)
    errs["Z (evaluation)"] = rel(Z, features(s.Zeval, el.sizeFeatOut()))
    errs["runningMean (unchanged by evaluation)"] = rel(el.runningMean,
                                                        vector(s.runningMeanEval))
    return errs


def test_batchNormLayer2_running_statistics_match_meganet_m():
    for q, e in batchNorm2RunningErrors().items():
        assert e < TOL, f"batchNormLayer2 {q}: relative error {e:.2e}"


# ------------------------------------------------------------------------------ operators
def linopErrors():
    """opCNNBias, opPool and opTimeDer: ``A x`` and ``A^T z`` against Meganet.m's."""
    f = fixture("linops")
    errs = {}
    s = f["opCNNBias"]
    A = mg.opCNNBias((4, 5, 3))
    # A theta: one bias per channel broadcast over the pixels (Meganet.m: a 1x1x3 array)
    errs["opCNNBias", "Ax"] = rel(numpy.broadcast_to(A @ vector(s.x), (4, 5, 3))[0, 0],
                                  vector(s.Ax))
    # the adjoint of a batch: Meganet.m returns one column per example, ours their sum
    z = mg.featuresFromMatlab(s.z, (4, 5, 3))
    errs["opCNNBias", "ATz (sum of Meganet.m's columns)"] = rel(
        A.ATmv(z), numpy.asarray(s.ATz).sum(axis=1))
    s = f["opPool"]
    A = mg.opPool((4, 4, 2), 2)
    errs["opPool", "Ax"] = rel(A @ mg.featuresFromMatlab(s.x, (4, 4, 2)),
                               mg.featuresFromMatlab(s.Ax, (2, 2, 2)))
    errs["opPool", "ATz"] = rel(A.ATmv(mg.featuresFromMatlab(s.z, (2, 2, 2))),
                                mg.featuresFromMatlab(s.ATz, (4, 4, 2)))
    s = f["opTimeDer"]
    A = mg.opTimeDer(12, 4, 0.5)
    errs["opTimeDer", "Ax"] = rel(A @ vector(s.x), vector(s.Ax))
    errs["opTimeDer", "ATz"] = rel(A.ATmv(vector(s.z)), vector(s.ATz))
    return errs


def test_linops_match_meganet_m():
    for k, e in linopErrors().items():
        assert e < TOL, f"{k}: relative error {e:.2e}"


def test_opCNNBias_adjoint_sums_over_the_batch():
    """Documented difference: Meganet.m's opCNNBias' applied to a batch keeps one column
    per example; ours sums them (the adjoint of broadcasting one bias to every example)."""
    s = fixture("linops")["opCNNBias"]
    assert numpy.asarray(s.ATz).shape == (3, 3)
    A = mg.opCNNBias((4, 5, 3))
    assert A.ATmv(mg.featuresFromMatlab(s.z, (4, 5, 3))).shape == (3,)


# ------------------------------------------------------------------------------ losses
LOSSES = {"softmaxLoss": mg.SoftmaxLoss, "regressionLoss": mg.RegressionLoss}


def lossErrors(name):
    s = fixture("losses")[name]
    loss = LOSSES[name]()
    nf = numpy.asarray(s.Y).shape[0]
    Wconv = functools.partial(mg.WFromMatlab, sizeFeat=(nf,), addBias=True)
    W = Wconv(vector(s.W))
    Y = mg.featuresFromMatlab(s.Y, (nf,))
    C = numpy.ascontiguousarray(numpy.asarray(s.C, dtype=numpy.float64).T)
    F, para, dWF, d2WF, dYF, d2YF = loss.getMisfit(W, Y, C)
    para_m = vector(s.para)
    errs = {"F": rel(F, scalar(s.F)),
            "dWF": rel(dWF, Wconv(vector(s.dWF))),
            "dYF": rel(dYF, features(vector(s.dYF), (nf,))),
            "d2WF v": rel(d2WF @ Wconv(vector(s.vW)), Wconv(vector(s.d2WF_vW))),
            "d2YF v": rel(d2YF @ features(vector(s.vY), (nf,)),
                          features(vector(s.d2YF_vY), (nf,)))}
    N = Y.shape[0]
    if name == "regressionLoss":
        # documented difference: Meganet.m's para holds the mean loss, ours the sum
        errs["para (ours = N x Meganet.m's mean)"] = rel(
            numpy.asarray(para)[[0, 1]], [N * para_m[0], para_m[1]])
    else:
        errs["para"] = rel(para, para_m)
    return errs


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_meganet_m(name):
    for q, e in lossErrors(name).items():
        assert e < TOL, f"{name} {q}: relative error {e:.2e}"


# ------------------------------------------------------------------------------ regularizers
def regularizers(s):
    f = fixture("regularizers")
    xref = vector(f["tikhonovReg"].xref)
    D = vector(f["l2Reg"].D)
    return {
        "tikhonovReg": mg.TikhonovReg(mg.opTimeDer(24, 4, 0.5), alpha=0.3, xref=xref),
        "l2Reg": mg.L2Reg(mg.opTimeDer(24, 4, 0.5), alpha=(0.3, 0.2), xref=xref,
                          B2=mg.opDiag(D)),
        "l1Reg": mg.L1Reg(mg.opTimeDer(24, 4, 0.5), alpha=(0.3, 0.2), xref=xref,
                          B2=mg.opDiag(D)),
        # xref=None: Meganet.m's l1Reg(B, alpha, [], ...) of the fixture
        "blockReg": mg.BlockReg([mg.TikhonovReg(mg.opTimeDer(12, 4, 1.0), alpha=0.1),
                                 mg.L1Reg(mg.opTimeDer(12, 4, 1.0), alpha=(0.3, 0.2), xref=None,
                                          B2=mg.opEye(12))]),
    }


def regularizerErrors(name):
    s = fixture("regularizers")[name]
    R = regularizers(s)[name]
    # the regularizers act on the flat theta of a block with nt steps, per-step chunks
    # contiguous: the same order in Meganet.m and here
    Sc, para, dS, d2S = R.regularizer(vector(s.x))
    return {"S": rel(Sc, scalar(s.Sc)), "dS": rel(dS, vector(s.dS)),
            "d2S v": rel(d2S @ vector(s.v), vector(s.d2S_v))}


@pytest.mark.parametrize("name", ["tikhonovReg", "l2Reg", "l1Reg", "blockReg"])
def test_regularizer_matches_meganet_m(name):
    for q, e in regularizerErrors(name).items():
        assert e < TOL, f"{name} {q}: relative error {e:.2e}"


# ------------------------------------------------------------------------------ objective
def objectiveSetup(s, batchSize):
    """The objective of make_fixtures.m's objective_setup, here; and x converters."""
    net = smallMeganet()
    nth = net.nTheta()
    fout = net.sizeFeatOut()
    D = mg.thetaFromMatlab(net, vector(s.DTheta))    # a diagonal over theta's entries
    pRegTh = mg.TikhonovReg(mg.opDiag(D), alpha=1e-2)
    nW = 3 * (math.prod(fout) + 1)
    pRegW = mg.TikhonovReg(mg.opEye(nW), alpha=1e-3)
    Y = mg.featuresFromMatlab(s.Y, net.sizeFeatIn())
    C = numpy.ascontiguousarray(numpy.asarray(s.C, dtype=numpy.float64).T)
    fctn = mg.DnnBatchObjFctn(net, pRegTh, mg.SoftmaxLoss(), pRegW, Y, C, batchSize=batchSize)

    def xFromMatlab(x_m):
        x_m = vector(x_m)
        return numpy.concatenate([mg.thetaFromMatlab(net, x_m[:nth]),
                                  mg.WFromMatlab(x_m[nth:], fout, True)])
    return fctn, xFromMatlab, nth


def objectiveErrors(case):
    s = fixture("objective")[case]
    fctn, xconv, nth = objectiveSetup(s, int(scalar(s.batchSize)))
    idx = None if numpy.size(s.idx) == 0 else vector(s.idx).astype(int) - 1
    Jc, para, dJ, H, PC = fctn(xconv(s.x), idx)
    errs = {"J": rel(Jc, scalar(s.Jc)), "F": rel(para["F"], scalar(s.F)),
            "R(theta)": rel(para["Rtheta"], scalar(s.Rth)), "R(W)": rel(para["RW"], scalar(s.RW)),
            "dJ": rel(dJ, xconv(s.dJ))}
    Hv, Hv_m = H @ xconv(s.v), xconv(s.Hv)
    if case == "twoChunks":
        # documented difference: Meganet.m's Gauss-Newton Hessian of theta comes from its
        # last chunk only; ours sums all chunks, i.e. equals the one-chunk Hessian
        Hv_m = xconv(fixture("objective")["oneChunk"].Hv)
        errs["Hv (vs Meganet.m with one chunk)"] = rel(Hv, Hv_m)
        errs["Hv W-block (vs Meganet.m with two chunks)"] = rel(Hv[nth:], xconv(s.Hv)[nth:])
    else:
        errs["Hv"] = rel(Hv, Hv_m)
    return errs


@pytest.mark.parametrize("case", ["oneChunk", "twoChunks", "subset"])
def test_dnnBatchObjFctn_matches_meganet_m(case):
    for q, e in objectiveErrors(case).items():
        assert e < TOL, f"dnnBatchObjFctn {case} {q}: relative error {e:.2e}"


def test_dnnBatchObjFctn_meganet_m_hessian_uses_the_last_chunk_only():
    """Meganet.m's Hessian of theta with two chunks differs from its one-chunk Hessian
    (it keeps the last chunk's Gauss-Newton term); the W block and the gradient agree."""
    f = fixture("objective")
    one, two = f["oneChunk"], f["twoChunks"]
    _, xconv, nth = objectiveSetup(one, 10)
    Hv1, Hv2 = xconv(one.Hv), xconv(two.Hv)
    assert rel(Hv2[:nth], Hv1[:nth]) > 1e-3
    assert rel(Hv2[nth:], Hv1[nth:]) < TOL
    assert rel(vector(two.dJ), vector(one.dJ)) < TOL


# ------------------------------------------------------------------------------ sgd
class FixedOrder(numpy.random.Generator):
    """A generator whose ``permutation`` hands out given permutations in turn (the
    per-epoch example orders that Meganet.m's sgd used, stored in the fixture)."""

    def __init__(self, perms):
        super().__init__(numpy.random.PCG64(0))
        self._perms = [numpy.asarray(p, dtype=numpy.int64) for p in perms]

    def permutation(self, x):
        p = self._perms.pop(0)
        assert p.size == x, f"the stored permutation has {p.size} entries; SGD asked for {x}"
        return p.copy()


def sgdRun(case):
    s = fixture("sgd")[case]
    fctn, xconv, nth = objectiveSetup(s, 100)
    perms = numpy.asarray(s.perms, dtype=numpy.int64) - 1
    opt = mg.SGD(maxEpochs=int(scalar(s.maxEpochs)), miniBatch=int(scalar(s.miniBatch)),
                 learningRate=scalar(s.learningRate), momentum=scalar(s.momentum),
                 nesterov=bool(scalar(s.nesterov)), ADAM=bool(scalar(s.ADAM)),
                 rng=FixedOrder(perms), progress=False)
    x, His, _ = opt.solve(fctn, xconv(s.x0))
    return s, fctn, xconv, perms, x, His


def adamReference(fctn, x, perms, miniBatch, lr, beta1, epochBias):
    """ADAM as Meganet.m's sgd writes it; ``epochBias``: bias correction with the epoch
    count (Meganet.m) instead of the iteration count (meganet)."""
    m = numpy.zeros_like(x)
    v = numpy.zeros_like(x)
    t = 0
    for epoch, p in enumerate(perms, start=1):
        for k in range(len(p) // miniBatch):
            t += 1
            g = fctn(x, p[k * miniBatch:(k + 1) * miniBatch])[2]
            m = beta1 * m + (1 - beta1) * g
            v = 0.999 * v + 0.001 * g * g
            c = epoch if epochBias else t
            x = x - lr * (m / (1 - beta1 ** c)) / numpy.sqrt(v / (1 - 0.999 ** c) + 1e-8)
    return x


def sgdErrors(case):
    s, fctn, xconv, perms, x, His = sgdRun(case)
    his_m = numpy.asarray(s.his)
    his = numpy.asarray(His.his)
    errs = {}
    if case == "adamTwoBatches":
        # documented difference: Meganet.m's ADAM corrects the bias with the epoch count.
        # Its iterate is reproduced by the reference loop with that correction; ours is
        # the same loop with the iteration count.
        args = (fctn, xconv(s.x0), perms, int(scalar(s.miniBatch)), scalar(s.learningRate),
                scalar(s.momentum))
        errs["x (Meganet.m's formula vs Meganet.m)"] = rel(adamReference(*args, True), xconv(s.x))
        errs["x (ours vs iteration-count formula)"] = rel(x, adamReference(*args, False))
        return errs
    errs["x"] = rel(x, xconv(s.x))
    # His: epoch, J, |x - xOld|, lr, work units (Meganet.m's column 6 is the time), then
    # the objective's loss, accuracy, R(theta), alpha, R(W), alpha
    cols = [0, 1, 2, 3, 4] + list(range(6, his_m.shape[1]))
    names = [His.names[j] for j in cols]
    errs["His (" + ", ".join(names) + ")"] = rel(his[:, cols], his_m[:, cols])
    return errs


@pytest.mark.parametrize("case", ["momentum", "nesterov", "adamOneBatch", "adamTwoBatches"])
def test_sgd_matches_meganet_m(case):
    for q, e in sgdErrors(case).items():
        assert e < TOL, f"sgd {case} {q}: relative error {e:.2e}"


def test_sgd_adam_bias_correction_differs_from_meganet_m():
    """With two mini-batches per epoch, our ADAM iterate differs from Meganet.m's (the
    bias correction uses the iteration count here, the epoch count there)."""
    s, fctn, xconv, perms, x, His = sgdRun("adamTwoBatches")
    assert rel(x, xconv(s.x)) > 1e-4
