"""The abstract element: defaults, recursion guard, operators, validation of user elements."""
import numpy as np
import pytest

import meganet as mg
from helpers import assertElementDerivatives


class ScaleShift(mg.AbstractMeganetElement):
    """A user element: Z = theta[0] * Y**2 + theta[1], implementing only Jmv and JTmv."""

    def __init__(self, n, **kw):
        super().__init__(**kw)
        self.n = n

    def nTheta(self):
        return 2

    def sizeFeatIn(self):
        return (self.n,)

    def sizeFeatOut(self):
        return (self.n,)

    def initTheta(self, rng=None):
        return self.asArray(np.array([1.0, 0.0]))

    def forwardProp(self, theta, Y, doDerivative=True):
        return theta[0] * Y ** 2 + theta[1], None

    def Jmv(self, dtheta, dY, theta, Y, tmp=None):
        dZ = self.xp.zeros_like(Y)
        if dtheta is not None:
            dZ = dZ + dtheta[0] * Y ** 2 + dtheta[1]
        if dY is not None:
            dZ = dZ + 2 * theta[0] * Y * dY
        return dZ

    def JTmv(self, W, theta, Y, tmp=None, doDerivative=(True, True), reduceDim=True):
        dth = None
        if doDerivative[0]:
            per = self.xp.stack([(W * Y ** 2).sum(axis=1), W.sum(axis=1)], axis=1)
            dth = per.sum(axis=0) if reduceDim else per
        dY = 2 * theta[0] * Y * W if doDerivative[1] else None
        return dth, dY


class SplitDerivatives(ScaleShift):
    """The same map through the other pair of methods (Jthetamv/JYmv, JthetaTmv/JYTmv)."""

    Jmv = mg.AbstractMeganetElement.Jmv
    JTmv = mg.AbstractMeganetElement.JTmv

    def Jthetamv(self, dtheta, theta, Y, tmp=None):
        return dtheta[0] * Y ** 2 + dtheta[1]

    def JYmv(self, dY, theta, Y, tmp=None):
        return 2 * theta[0] * Y * dY

    def JthetaTmv(self, W, theta, Y, tmp=None, reduceDim=True):
        per = self.xp.stack([(W * Y ** 2).sum(axis=1), W.sum(axis=1)], axis=1)
        return per.sum(axis=0) if reduceDim else per

    def JYTmv(self, W, theta, Y, tmp=None):
        return 2 * theta[0] * Y * W


class Incomplete(ScaleShift):
    Jmv = mg.AbstractMeganetElement.Jmv
    JTmv = mg.AbstractMeganetElement.JTmv


@pytest.mark.parametrize("cls", [ScaleShift, SplitDerivatives])
def test_user_element_defaults_and_checks(cls, useGPU):
    el = cls(4, useGPU=useGPU)
    assertElementDerivatives(el, nEx=3)
    assert el.numelFeatIn() == 4 and el.numelFeatOut() == 4
    th = el.initTheta()
    Y = el.asArray(np.ones((2, 4)))
    assert el.split(th)[0] is th
    Z, J = el.linearizeY(th, Y)
    assert J.m == (2, 4) and J.n == (2, 4)
    Z, Jt = el.linearizeTheta(th, Y)
    assert Jt.n == (2,)
    np.testing.assert_allclose(mg.toHost(el.Jmv(None, None, th, Y)), 0)
    assert el.prolongateWeights(th) is th and el.restrictConvStencils(th) is th
    assert "ScaleShift" in repr(el) or "SplitDerivatives" in repr(el)


def test_missing_derivatives_are_reported():
    el = Incomplete(3)
    th = el.initTheta()
    Y = np.ones((2, 3))
    with pytest.raises(NotImplementedError, match="must implement Jmv, or both Jthetamv and JYmv"):
        el.JYmv(Y, th, Y)
    with pytest.raises(NotImplementedError, match="must implement JTmv, or both JthetaTmv and JYTmv"):
        el.JYTmv(Y, th, Y)

    class Bare(mg.AbstractMeganetElement):
        pass
    with pytest.raises(NotImplementedError, match="Bare must provide nTheta"):
        Bare().nTheta()


def test_user_element_inputs_are_validated():
    el = ScaleShift(3)
    th = el.initTheta()
    with pytest.raises(ValueError, match=r"ScaleShift.forwardProp: Y must have shape"):
        el.forwardProp(th, np.ones((2, 4)))
    with pytest.raises(TypeError, match="ScaleShift.JTmv: W must be a numpy"):
        el.JYTmv([[1.0, 2.0, 3.0]], th, np.ones((1, 3)))
    with pytest.raises(ValueError, match="ScaleShift.Jmv: dtheta must be a flat 1-D array of length nTheta=2"):
        el.Jmv(np.ones(3), None, th, np.ones((1, 3)))
