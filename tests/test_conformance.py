"""Every element class exported by meganet passes ``checkJacobian``, on both backends.

``REGISTRY`` maps the name of every exported subclass of ``AbstractMeganetElement`` to a
factory of a small default instance (``factory(useGPU)``), or to ``None`` for an abstract
base class. A new element class exported without an entry makes
``test_registry_covers_every_exported_element`` fail: add a small instance here (and the
element's own tests, see docs/extending.md).
"""
import inspect

import numpy as np
import pytest

import meganet as mg
from meganet.element import AbstractMeganetElement

IMG = (4, 4)


def _symLayer(c, useGPU, **kw):
    return mg.DoubleSymLayer(mg.Conv2D(IMG, (3, 3, c, c), useGPU=useGPU), activation=mg.tanhActivation,
                             Bin=mg.opCNNBias(IMG + (c,)), useGPU=useGPU, **kw)


def _denseSym(n, useGPU):
    return mg.DoubleSymLayer(mg.Dense((n, n), useGPU=useGPU), activation=mg.tanhActivation,
                             useGPU=useGPU)


REGISTRY = {
    # abstract bases: not instantiated
    "AbstractMeganetElement": None,
    "AbstractKernel": None,
    "ConvKernel": None,
    "TimeSteppingBlock": None,
    "LayerSteppingBlock": None,
    # kernels
    "Dense": lambda g: mg.Dense((3, 4), useGPU=g),
    "Conv2D": lambda g: mg.Conv2D(IMG, (3, 3, 2, 3), useGPU=g),
    "ConvFFT": lambda g: mg.ConvFFT(IMG, (3, 3, 2, 3), useGPU=g),
    "PDEStencilKernel": lambda g: mg.PDEStencilKernel(IMG, (3, 3, 2, 2), useGPU=g),
    "ScalingKernel": lambda g: mg.ScalingKernel(IMG + (2,), useGPU=g),
    "SparseKernel": lambda g: mg.SparseKernel(np.array([0, 1, 2, 2]), np.array([0, 1, 0, 2]), (3, 3),
                                              useGPU=g),
    # layers
    "SingleLayer": lambda g: mg.SingleLayer(mg.Dense((3, 4), useGPU=g), activation=mg.tanhActivation,
                                            Bin=np.ones((3, 1)), Bout=np.eye(3),
                                            normLayer=mg.TVNormLayer((3,), isWeight=True, useGPU=g),
                                            useGPU=g),
    "DoubleLayer": lambda g: mg.DoubleLayer(mg.Dense((3, 4), useGPU=g), mg.Dense((2, 3), useGPU=g),
                                            Bin1=np.ones((3, 1)), Bout=np.ones((2, 1)), useGPU=g),
    "DoubleSymLayer": lambda g: _symLayer(2, g, normLayer1=mg.TVNormLayer(IMG + (2,), isWeight=True,
                                                                        useGPU=g)),
    "NormLayer": lambda g: mg.NormLayer(IMG + (2,), useGPU=g),
    "BatchNormLayer": lambda g: mg.BatchNormLayer(IMG + (2,), isWeight=True, useGPU=g),
    "BatchNormLayer2": lambda g: mg.BatchNormLayer2(IMG + (2,), isWeight=True, useGPU=g),
    "InstNormLayer": lambda g: mg.InstNormLayer(IMG + (2,), isWeight=True, useGPU=g),
    "TVNormLayer": lambda g: mg.TVNormLayer(IMG + (2,), isWeight=True, useGPU=g),
    "AffineScalingLayer": lambda g: mg.AffineScalingLayer(IMG + (2,), useGPU=g),
    "ReshapeLayer": lambda g: mg.ReshapeLayer(IMG + (2,), (16, 2), useGPU=g),
    # integrators
    "NN": lambda g: mg.NN([mg.SingleLayer(mg.Dense((3, 4), useGPU=g), useGPU=g),
                           mg.SingleLayer(mg.Dense((2, 3), useGPU=g), useGPU=g)]),
    "Connector": lambda g: mg.Connector(np.ones((2, 4)), b=0.5, useGPU=g),
    "Meganet": lambda g: mg.Meganet([mg.ResNN(_denseSym(3, g), 2, 0.1),
                                     mg.NN([mg.SingleLayer(mg.Dense((2, 3), useGPU=g), useGPU=g)])]),
    "ResNN": lambda g: mg.ResNN(_symLayer(2, g), 3, 0.1),
    "ResNNrk4": lambda g: mg.ResNNrk4(_symLayer(2, g), [0.0, 0.1, 0.3]),
    "LeapFrogNN": lambda g: mg.LeapFrogNN(_symLayer(2, g), 3, 0.1),
    "HamiltonianNN": lambda g: mg.HamiltonianNN(mg.tanhActivation, mg.Conv2D(IMG, (3, 3, 2, 2), useGPU=g),
                                                mg.opCNNBias(IMG + (2,)), 3, 0.1),
    "DoubleHamiltonianNN": lambda g: mg.DoubleHamiltonianNN(_symLayer(1, g), _symLayer(1, g), 3, 0.1),
}


def _exportedElements():
    return sorted(name for name in dir(mg)
                  if inspect.isclass(getattr(mg, name))
                  and issubclass(getattr(mg, name), AbstractMeganetElement))


def test_registry_covers_every_exported_element():
    missing = [n for n in _exportedElements() if n not in REGISTRY]
    assert not missing, f"exported elements without a conformance entry in {__file__}: {missing}"
    stale = [n for n in REGISTRY if n not in _exportedElements()]
    assert not stale, f"registry entries that are not exported element classes: {stale}"


@pytest.mark.parametrize("name", [n for n, f in REGISTRY.items() if f is not None])
def test_checkJacobian_of_every_element(name, useGPU):
    el = REGISTRY[name](useGPU)
    assert type(el).__name__ == name
    assert el.useGPU == useGPU and el.precision == "double"
    res = mg.checkJacobian(el, nEx=3, rng=11)
    assert isinstance(res, mg.CheckResult) and res.isOK, res.report()
