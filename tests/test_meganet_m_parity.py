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
        "Meganet": lambda s: smallMeganet(),
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


def test_doubleHamiltonian_JYTmv_is_the_adjoint_where_meganet_m_is_not():
    """Meganet.m's DoubleHamiltonianNN.JYTmv assigns an update to the wrong variable.

    Its JYTmv differs from the transpose of its own JYmv (built column by column in the
    fixture); ours equals that transpose.
    """
    el, s, errs = elementErrors("integrators", "DoubleHamiltonianNN")
    fin = el.sizeFeatIn()
    ref = mg.featuresFromMatlab(s.JYTmv_fromJYmv, fin)
    theta = mg.thetaFromMatlab(el, vector(s.theta))
    Y = mg.featuresFromMatlab(s.Y, fin)
    W = mg.featuresFromMatlab(s.W, el.sizeFeatOut())
    Z, tmp = el.forwardProp(theta, Y)
    assert rel(el.JYTmv(W, theta, Y, tmp), ref) < TOL
    assert rel(mg.featuresFromMatlab(s.JYTmv, fin), ref) > 1e-3
    assert errs["JYTmv"] > 1e-3


def test_conv2d_matches_convFFT_on_interior_pixels():
    """Meganet.m's convMCN needs MatConvNet; its convFFT is periodic, our Conv2D pads
    with zeros: the two agree where the 3x3 stencil does not reach the boundary."""
    s = fixture("kernels")["convFFT"]
    K = mg.Conv2D((5, 6), (3, 3, 2, 3))
    theta = mg.thetaFromMatlab(K, vector(s.theta))
    dtheta = mg.thetaFromMatlab(K, vector(s.dtheta))
    Y = mg.featuresFromMatlab(s.Y, K.sizeFeatIn())
    dY = mg.featuresFromMatlab(s.dY, K.sizeFeatIn())
    inner = (slice(None), slice(1, -1), slice(1, -1))
    for ours, ref in [(K.Amv(theta, Y), s.Z), (K.Jthetamv(dtheta, theta, Y), s.Jthetamv),
                      (K.Amv(theta, dY), s.JYmv)]:
        ref = mg.featuresFromMatlab(ref, K.sizeFeatOut())
        assert rel(ours[inner], ref[inner]) < TOL


def test_normLayer_with_nEx_in_nData_differs_from_meganet_m_derivative():
    """Meganet.m's ``normLayer([nPix nC nEx])`` (as its docs say to call it) computes
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
