"""The code examples of the documentation run as they are."""
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def _pythonBlocks(name):
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


@pytest.mark.parametrize("name", ["extending.md", "porting.md"])
def test_examples_run(name, monkeypatch):
    monkeypatch.chdir(DOCS.parent)     # paths in the examples are relative to the repository
    blocks = _pythonBlocks(name)
    assert blocks, f"docs/{name} has no python examples"
    namespace = {"__name__": f"docs_{name.replace('.', '_')}"}
    for code in blocks:      # the blocks build on each other, in order
        exec(compile(code, f"docs/{name}", "exec"), namespace)
