"""Package structure: private modules stay private, no import cycles, one validation module."""
import ast
import pathlib

import numpy as np
import pytest

import meganet as mg
from meganet.element import AbstractMeganetElement

ROOT = pathlib.Path(mg.__file__).parent


def _modules():
    """``{dotted name: path}`` of every module of the package."""
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports(name):
    """``(module, imported name or None)`` for every import statement of module ``name``,
    including imports inside functions."""
    path = MODULES[name]
    isPackage = path.name == "__init__.py"
    here = name.split(".") if isPackage else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            mod = ".".join(base + (node.module.split(".") if node.module else []))
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                yield (full, None) if full in MODULES else (mod, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def _subpackage(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (ROOT / parts[1]).is_dir()) else None


def test_no_private_import_across_subpackages():
    bad = []
    for name in MODULES:
        for mod, attr in _imports(name):
            if not mod.startswith("meganet.") or mod not in MODULES:
                continue
            if _subpackage(mod) in (None, _subpackage(name)):
                continue
            if any(part.startswith("_") for part in mod.split(".")[1:]) or (attr or "").startswith("_"):
                bad.append(f"{name} imports {mod}{'.' + attr if attr else ''}")
    assert not bad, "private names imported from another sub-package:\n" + "\n".join(bad)


def test_no_private_name_imported_from_another_module_of_a_subpackage():
    bad = [f"{name} imports {mod}.{attr}" for name in MODULES for mod, attr in _imports(name)
           if mod in MODULES and attr and attr.startswith("_") and not attr.startswith("__")
           and not name.startswith("meganet.regularization")]  # l1Reg builds on l2Reg's base
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {name: {mod for mod, _ in _imports(name) if mod in MODULES and MODULES[mod].name != "__init__.py"}
             for name in MODULES if MODULES[name].name != "__init__.py"}
    state, stack, cycles = {}, [], []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in graph.get(v, ()):
            if state.get(w) == "open":
                cycles.append(stack[stack.index(w):] + [w])
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = "done"

    for v in graph:
        if v not in state:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("helper", ["isInt", "_isInt", "_isArray", "checkFlag", "_checkFlag",
                                    "checkPositive", "checkNt", "checkH", "checkBool",
                                    "_checkNonneg", "checkState", "resolveBackend"])
def test_validators_are_defined_once(helper):
    homes = [name for name, path in MODULES.items()
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.FunctionDef) and node.name == helper
             and node.col_offset == 0]
    assert len(homes) <= 1, f"{helper} is defined in {homes}"


# ---------------------------------------------------------------------- validation at the boundary
def _resnn(nt=3):
    layer = mg.DoubleSymLayer(mg.Dense((3, 4)), activation=mg.tanhActivation, Bin=np.eye(3))
    return mg.ResNN(layer, nt, 0.1)


def _countValidations(monkeypatch):
    calls = []
    original = AbstractMeganetElement._validateArgs

    def counting(self, methodName, vals, nullable=False):
        calls.append((type(self).__name__, methodName))
        return original(self, methodName, vals, nullable)

    monkeypatch.setattr(AbstractMeganetElement, "_validateArgs", counting)
    return calls


def test_nested_calls_are_not_validated_again(monkeypatch):
    net = _resnn()
    th = net.initTheta(rng=0)
    Y = np.random.default_rng(1).standard_normal((5, 4))
    calls = _countValidations(monkeypatch)
    Z, tmp = net.forwardProp(th, Y)
    net.JTmv(Z, th, Y, tmp)
    net.JthetaTmv(Z, th, Y, tmp)     # the default JthetaTmv calls JTmv: still one validation
    assert calls == [("ResNN", "forwardProp"), ("ResNN", "JTmv"), ("ResNN", "JTmv")]


def test_boundary_validation_keeps_clear_messages():
    net = _resnn()
    th = net.initTheta(rng=0)
    with pytest.raises(ValueError, match=r"ResNN.forwardProp: Y must have shape \(N,\) \+ sizeFeatIn"):
        net.forwardProp(th, np.zeros((2, 5)))
    with pytest.raises(TypeError, match=r"ResNN.forwardProp: theta must have dtype float64"):
        net.forwardProp(th.astype(np.float32), np.zeros((2, 4)))
    bad = th.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="theta contains non-finite values"):
        net.forwardProp(bad, np.zeros((2, 4)))


def test_validation_switch_and_context_manager(monkeypatch):
    net = _resnn()
    th = net.initTheta(rng=0)
    Y = np.zeros((2, 4))
    assert mg.getValidation() is True
    calls = _countValidations(monkeypatch)
    with mg.validation(False):
        assert mg.getValidation() is False
        net.forwardProp(th, Y)
    assert mg.getValidation() is True and calls == []
    previous = mg.setValidation(False)
    try:
        assert previous is True
        bad = th.copy()
        bad[0] = np.inf
        with np.errstate(invalid="ignore"):
            net.forwardProp(bad, Y)   # no check: non-finite theta passes
    finally:
        mg.setValidation(previous)
    with pytest.raises(ValueError, match="setValidation: flag must be True/False"):
        mg.setValidation("no")


def test_validation_after_an_error_still_happens():
    net = _resnn()
    th = net.initTheta(rng=0)
    with pytest.raises(ValueError):
        net.forwardProp(th, np.zeros((2, 5)))
    with pytest.raises(ValueError):  # the failed call left no nesting state behind
        net.forwardProp(th, np.zeros((2, 5)))


def test_storeInterm_is_a_protocol_keyword():
    rng = np.random.default_rng(0)
    K = mg.Dense((3, 3))
    layer = mg.SingleLayer(K, activation=mg.tanhActivation)
    Y = rng.standard_normal((2, 3))
    th = layer.initTheta(rng=1)
    assert layer.forwardProp(th, Y)[1] is None
    assert layer.forwardProp(th, Y, storeInterm=True)[1] is not None
    # elements without the option accept and ignore the keyword
    Z, _ = K.forwardProp(K.initTheta(rng=2), Y, storeInterm=True)
    np.testing.assert_allclose(Z, K.forwardProp(K.initTheta(rng=2), Y)[0])
    net = mg.ResNN(layer, 2, 0.1)
    _, tmp = net.forwardProp(net.initTheta(rng=3), Y, storeInterm=True)
    assert all(rec.tmp is not None for rec in tmp)
