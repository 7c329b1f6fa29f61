"""Every public name of every sub-package is available from the top-level package."""
import importlib

import pytest

import meganet as mg

SUBPACKAGES = ["activations", "kernels", "layers", "integrators", "linops", "loss", "regularization",
               "optim", "objectives", "data", "augmentation", "viewers", "utils", "experiments"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_names_are_reexported(name):
    sub = importlib.import_module(f"meganet.{name}")
    assert getattr(mg, name) is sub
    assert sub.__all__, f"meganet.{name} declares no public names"
    for public in sub.__all__:
        assert getattr(mg, public) is getattr(sub, public), f"mg.{public} is not meganet.{name}.{public}"


def test_no_public_name_is_shadowed_between_subpackages():
    seen = {}
    for name in SUBPACKAGES:
        for public in importlib.import_module(f"meganet.{name}").__all__:
            assert public not in seen, f"{public} is exported by both {seen.get(public)} and {name}"
            seen[public] = name
