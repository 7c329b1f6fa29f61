"""The driver scripts run and learn (small settings)."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "drivers"))
import EResNN_Peaks  # noqa: E402,F401


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


# ------------------------------------------------------------------ image drivers (embedded data)
import numpy as np  # noqa: E402

import meganet as mg  # noqa: E402
import cnnDriver  # noqa: E402
import cnnResults  # noqa: E402
import runFashionMNIST  # noqa: E402

TINY = dict(runFashionMNIST.SETTINGS, nf=[2, 4, 4], nt=1, h=1.0, learningRate=[0.05], epochs=1, miniBatch=16,
            historySubset=32)


def _sgd(epochs=1, batch=16):
    return mg.SGD(maxEpochs=epochs, miniBatch=batch, learningRate=0.05, nesterov=False, out=1, progress=False)


@pytest.mark.parametrize("dynamic", ["parabolic", "hamiltonian", "leapfrog", "resnet"])
def test_cnnDriver_trains_saves_and_cnnResults_reads(dynamic, tmp_path, capsys):
    res = str(tmp_path / f"run-{dynamic}")
    xc, His, xOpt, info = cnnDriver.cnnDriver("fashionmnist", dynamic, 48, 16, [2, 4, 4], 1, 1.0, False,
                                              "single", _sgd(), None, None, None, res, ntest=40, rng=0,
                                              mat=True, full_output=True)
    out = capsys.readouterr().out
    assert "embedded in the repository" in out and "test accuracy of the final weights" in out
    assert xc.shape == xOpt.shape and His.nRows == 1
    assert [f[-3:] for f in info["files"]] == [".h5", "mat"]
    saved = mg.loadResults(res + ".h5")
    np.testing.assert_array_equal(saved["xc"], xc)
    assert saved["settings"]["dynamic"] == dynamic and saved["accuracy"]["ntest"] == 40
    # cnnResults rebuilds the network, restores its running statistics and gets the same accuracy
    nex, pAcc = cnnResults.cnnResults(res + ".h5", 40)
    assert nex == 48
    # the test images are drawn again (same balanced subset sizes); all 2000 would match exactly, 40 need
    # only be a valid accuracy
    assert 0 <= pAcc[1] <= 100
    assert "PLast" in mg.loadResults(res + ".h5")["arrays"]
    assert cnnResults.cnnResults(res + ".h5", 40)[1][1] == pAcc[1]          # loaded, not recomputed
    assert "load previous evaluations" in capsys.readouterr().out


@pytest.mark.slow
def test_cnnResults_on_all_test_images_reproduces_the_driver(tmp_path):
    res = str(tmp_path / "run")
    xc, His, xOpt, info = cnnDriver.cnnDriver("fashionmnist", "leapfrog", 48, 0, [2, 4, 4], 1, 1.0, False,
                                              "single", _sgd(), False, None, None, res, ntest=None, rng=0,
                                              full_output=True)
    nex, pAcc = cnnResults.cnnResults(res + ".h5")
    assert pAcc[1] == pytest.approx(info["test"]["accuracy"], abs=1e-9)


def test_cnnDriver_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset"):
        cnnDriver.cnnDriver("imagenet", "parabolic", 10, 0)
    with pytest.raises(ValueError, match="unknown dynamic"):
        cnnDriver.cnnDriver("fashionmnist", "wave", 10, 0)


def test_runFashionMNIST_tiny(tmp_path, capsys):
    res = runFashionMNIST.runFashionMNIST(False, ("parabolic", "leapfrog"), 1, str(tmp_path), True, 64, 40, 0,
                                          settings=TINY, jobs=1)
    out = capsys.readouterr().out
    for d in ("parabolic", "leapfrog"):
        assert f"{d}: test accuracy" in out and "(40 test images," in out
        assert (tmp_path / f"fashionmnist-{d}.h5").exists()
    if pytest.importorskip("matplotlib"):
        assert (tmp_path / "fashionmnist-confusion.png").exists()
    assert set(res) == {"parabolic", "leapfrog"}


def test_runFashionMNIST_validation_split_and_schedule_options(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runFashionMNIST, "SETTINGS", TINY)
    res = runFashionMNIST.main(["--nval", "24", "--ntrain", "48", "--epochs", "2", "--dynamics", "parabolic",
                                "--jobs", "1", "--out", str(tmp_path), "--lr", "0.03", "--nesterov", "1"])
    out = capsys.readouterr().out
    assert "parabolic: validation accuracy" in out and "(24 validation images," in out
    assert "test accuracy" not in out                  # the test images are not touched
    r = res["parabolic"]
    assert r["test"] is None and r["His"].nRows == 2
    np.testing.assert_allclose(r["His"]["lr"], mg.CosineSchedule(0.03, 2).rates(), rtol=1e-6)
    assert "train / val / test): 48 / 24 / 0" in out


def test_runFashionMNIST_learningRate_setting():
    s = dict(runFashionMNIST.SETTINGS)
    # the recipe of make run: 5 epochs of a cosine decay from 0.05, Nesterov momentum; --epochs stretches it
    assert runFashionMNIST.defaultEpochs(s) == 5 and s["nesterov"] is True and s["miniBatch"] == 64
    np.testing.assert_allclose(runFashionMNIST.learningRate(s, 5).rates(),
                               [0.0488, 0.0397, 0.025, 0.0103, 0.0012], atol=1e-4)
    r7 = runFashionMNIST.learningRate(s, 7).rates()
    assert len(r7) == 7 and r7[0] < 0.05 and r7[-1] < 0.001 and r7 == sorted(r7, reverse=True)
    assert runFashionMNIST.learningRate(dict(s, learningRate=0.04), 5).rates() == mg.CosineSchedule(0.04, 5).rates()
    assert runFashionMNIST.learningRate(dict(s, learningRate=[0.05, 0.01]), 4).rates() == [0.05, 0.05, 0.01, 0.01]
    with pytest.raises(ValueError, match="nval must be >= 0"):
        runFashionMNIST.runFashionMNIST(nval=-1, outDir=None)


@pytest.mark.slow
def test_runFashionMNIST_parallel_matches_sequential(tmp_path):
    run = runFashionMNIST.runFashionMNIST
    a = run(False, ("hamiltonian",), 1, None, False, 64, 40, 0, settings=TINY, jobs=1)
    b = run(False, ("hamiltonian",), 1, str(tmp_path), False, 64, 40, 0, settings=TINY, jobs=2)
    assert a["hamiltonian"]["test"]["accuracy"] == pytest.approx(b["hamiltonian"]["test"]["accuracy"])
    assert (tmp_path / "fashionmnist-hamiltonian.log").read_text().count("test accuracy") == 1


@pytest.mark.parametrize("name", ["EParabolic_STL10", "EHamiltonian_STL10", "ELeapfrog_STL10"])
def test_STL10_drivers_tiny(name, capsys):
    mod = __import__(name)
    xc, His, xOpt = getattr(mod, name)(32, 16, 2, 1, False, "single", _sgd(), None, rng=0)
    out = capsys.readouterr().out
    assert "stl10 is not installed" in out and "three units" in out
    assert His.nRows == 1 and np.all(np.isfinite(xc))


@pytest.mark.slow
def test_PNAS_l1_tiny(capsys):
    import EParabolic_CIFAR10_PNAS_l1 as m
    xc, His, xOpt = m.EParabolic_CIFAR10_PNAS_l1(32, True, ntest=20, resFile="", historySubset=16)
    assert His.nRows == 2


@pytest.mark.slow
def test_tf_drivers_tiny(capsys):
    import ECNN_CIFAR10_tf
    import ECNN_MNIST_tf
    import EResNN_MNIST_tf
    for f, args in ((ECNN_MNIST_tf.main, ["--epochs", "1", "--ntrain", "64", "--nval", "16"]),
                    (ECNN_CIFAR10_tf.main, ["--epochs", "1", "--ntrain", "64", "--nval", "16"]),
                    (EResNN_MNIST_tf.main, ["--epochs", "1", "--ntrain", "64", "--ntest", "20"])):
        xOpt, His = f(args)
        assert His.nRows == 1 and np.all(np.isfinite(xOpt))
    assert "accuracy after 1 epochs" in capsys.readouterr().out


@pytest.mark.parametrize("name, args", [
    ("EResNN_Circle", ["--maxWorkUnits", "20", "--ntrain", "100", "--nval", "50"]),
    ("EResNN_Circle3", ["--maxWorkUnits", "20", "--ntrain", "100", "--nval", "50"]),
])
def test_circle_drivers_tiny(name, args):
    acc = __import__(name).main(args)
    assert 0 <= acc <= 100


@pytest.mark.parametrize("name", ["EResNN_SwissRollResNN", "EResNN_SwissRollAntiSym", "EResNN_SwissRollHam"])
def test_swissroll_drivers_multilevel(name, capsys):
    accs = __import__(name).main(["--minLevel", "2", "--maxLevel", "3", "--maxIter", "2"])
    assert len(accs) == 2
    out = capsys.readouterr().out
    assert "level 2: nt = 4" in out and "level 3: nt = 8" in out        # prolongated to twice the steps


@pytest.mark.slow
@pytest.mark.parametrize("name", ["runSTL10", "runCIFAR10", "runCIFAR100"])
def test_run_scripts_tiny(name, capsys):
    out = __import__(name).main(["--epochs", "1", "--ntrain", "32", "--nval", "16"])
    assert len(out) == 3


@pytest.mark.slow
def test_testCNNDriver_and_minimal_cnnDriver(capsys):
    import testCNNDriver
    out = testCNNDriver.main(["--epochs", "1", "--ntrain", "20", "--nval", "10", "--datasets", "cifar10"])
    assert len(out) == 3
    cnnDriver.minimalExample(epochs=1, ntrain=50, nval=20)


@pytest.mark.slow
def test_accuracyVsTrainingSize_tiny(tmp_path, monkeypatch):
    import accuracyVsTrainingSize as a
    monkeypatch.setattr(runFashionMNIST, "SETTINGS", TINY)
    sizes, acc = a.accuracyVsTrainingSize((0.005, 0.01), ("parabolic",), 1, False, str(tmp_path), 40, 1)
    assert sizes == [60, 120] and len(acc["parabolic"]) == 2
