"""The driver scripts run and learn (small settings)."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "drivers"))
import EResNN_Peaks  # noqa: E402


@pytest.mark.parametrize("dynamic", ["ResNN", "antiSym-ResNN", "leapfrog", "hamiltonian"])
def test_EResNN_Peaks_learns(dynamic, capsys):
    acc = EResNN_Peaks.main(["--dynamic", dynamic, "--opt", "sgd", "--epochs", "6", "--ntrain", "400",
                             "--nval", "200"])
    out = capsys.readouterr().out
    assert "validation accuracy of the best iterate" in out
    assert acc > 50.0          # 5 classes: chance is 20%


@pytest.mark.parametrize("opt", ["varpro", "lbfgs"])
def test_EResNN_Peaks_varpro(opt, capsys):
    acc = EResNN_Peaks.main(["--opt", opt, "--epochs", "4", "--ntrain", "300", "--nval", "200"])
    assert acc > 40.0


def test_EResNN_Peaks_rejects_unknown_dynamic():
    with pytest.raises(ValueError, match="unknown dynamic"):
        EResNN_Peaks.buildNetwork("parabolic-ish")
