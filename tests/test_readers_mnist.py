"""IDX readers, setupMNIST / setupFashionMNIST, the search order and the embedded default data.

The IDX files are written here byte by byte (big-endian header, row-major values), so the
reader is checked against the format, not against itself.
"""
import gzip
import os
import struct

import numpy as np
import pytest

import meganet as mg


def idxImagesBytes(images):
    n, r, c = images.shape
    return struct.pack(">IIII", 2051, n, r, c) + images.astype(np.uint8).tobytes()


def idxLabelsBytes(labels):
    return struct.pack(">II", 2049, labels.size) + labels.astype(np.uint8).tobytes()


def asymmetricImages(n, rng):
    """Images with a marker in the top-left corner and a bar along the top row: a transpose or
    a flip moves them."""
    Y = rng.integers(0, 100, size=(n, 28, 28)).astype(np.uint8)
    Y[:, 0, :] = 200          # top row bright
    Y[:, 0, 0] = 255          # top-left corner brightest
    Y[:, 5:, 0] = 0           # left column dark below row 5
    return Y


def writeIdxSet(folder, nTrain, nTest, rng, gz=True, names="official"):
    os.makedirs(folder, exist_ok=True)
    sets = {}
    for part, n in (("train", nTrain), ("t10k", nTest)):
        Y = asymmetricImages(n, rng)
        c = np.arange(n) % 10
        rng.shuffle(c)
        sep = "-" if names == "official" or part == "t10k" else "."
        for kind, payload in (("images-idx3", idxImagesBytes(Y)), ("labels-idx1", idxLabelsBytes(c))):
            name = f"{part}-{kind.split('-')[0]}{sep}{kind.split('-')[1]}-ubyte"
            path = os.path.join(folder, name + (".gz" if gz else ""))
            with open(path, "wb") as f:
                f.write(gzip.compress(payload) if gz else payload)
        sets[part] = (Y, c)
    return sets


@pytest.fixture
def noEnv(monkeypatch):
    monkeypatch.delenv(mg.DATA_ENV, raising=False)


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_loadMNIST_reads_idx_exactly(tmp_path, rng, gz):
    sets = writeIdxSet(str(tmp_path), 30, 10, rng, gz=gz)
    suffix = ".gz" if gz else ""
    Y = mg.loadMNISTImages(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert Y.shape == (30, 28, 28) and Y.dtype == np.float64
    np.testing.assert_allclose(Y, sets["train"][0] / 255.0, rtol=0, atol=1e-15)
    # upright: the bright bar is the first row, not the first column
    assert np.all(Y[:, 0, :] >= 200 / 255 - 1e-12) and np.all(Y[:, 5:, 0] == 0)
    Yraw = mg.loadMNISTImages(str(tmp_path / f"train-images-idx3-ubyte{suffix}"), raw=True)
    assert Yraw.dtype == np.uint8
    np.testing.assert_array_equal(Yraw, sets["train"][0])
    c = mg.loadMNISTLabels(tmp_path / f"t10k-labels-idx1-ubyte{suffix}")
    assert c.dtype == np.int64
    np.testing.assert_array_equal(c, sets["t10k"][1])


def test_setupFashionMNIST_all_examples_in_file_order(tmp_path, rng, noEnv):
    sets = writeIdxSet(str(tmp_path / "fashion-mnist"), 40, 20, rng)
    Ytr, Ctr, Yte, Cte = mg.setupFashionMNIST(data_dir=tmp_path)
    assert Ytr.shape == (40, 28, 28, 1) and Ytr.dtype == np.float32
    assert Ctr.shape == (40, 10) and Ctr.dtype == np.float32
    assert Yte.shape == (20, 28, 28, 1) and Cte.shape == (20, 10)
    np.testing.assert_allclose(Ytr[..., 0], sets["train"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(Ctr.argmax(1), sets["train"][1])
    np.testing.assert_array_equal(Ctr.sum(1), 1)
    np.testing.assert_array_equal(Cte.argmax(1), sets["t10k"][1])
    Ytr, ctr, _, cte = mg.setupFashionMNIST(data_dir=tmp_path / "fashion-mnist", onehot=False,
                                            precision="double")
    assert Ytr.dtype == np.float64 and ctr.dtype == np.int64
    np.testing.assert_array_equal(ctr, sets["train"][1])


def test_setupMNIST_accepts_meganet_m_file_names_uncompressed(tmp_path, rng, noEnv):
    sets = writeIdxSet(str(tmp_path), 20, 10, rng, gz=False, names="meganet")
    assert os.path.isfile(tmp_path / "train-images.idx3-ubyte")
    Ytr, Ctr, Yte, Cte = mg.setupMNIST(data_dir=tmp_path)
    np.testing.assert_array_equal(Ctr.argmax(1), sets["train"][1])
    np.testing.assert_allclose(Yte[..., 0], sets["t10k"][0] / 255.0, rtol=1e-6)


def test_subsets_are_class_balanced_and_reproducible(tmp_path, rng, noEnv):
    sets = writeIdxSet(str(tmp_path), 200, 100, rng)
    Ytr, Ctr, Yte, Cte = mg.setupFashionMNIST(50, 30, data_dir=tmp_path, rng=3)
    assert Ytr.shape == (50, 28, 28, 1) and Yte.shape == (30, 28, 28, 1)
    np.testing.assert_array_equal(Ctr.sum(0), 5)
    np.testing.assert_array_equal(Cte.sum(0), 3)
    # every selected image is a training image with its own label
    full = sets["train"][0].reshape(200, -1).astype(np.float32) / 255
    for y, c in zip(Ytr.reshape(50, -1), Ctr.argmax(1)):
        hit = np.flatnonzero(np.all(np.abs(full - y) < 1e-6, axis=1))
        assert hit.size >= 1 and c in sets["train"][1][hit]
    again = mg.setupFashionMNIST(50, 30, data_dir=tmp_path, rng=3)
    np.testing.assert_array_equal(again[0], Ytr)
    other = mg.setupFashionMNIST(50, 30, data_dir=tmp_path, rng=4)
    assert not np.array_equal(other[0], Ytr)
    # 0 examples: empty arrays of the right shape
    Ytr, Ctr, Yte, Cte = mg.setupFashionMNIST(0, 10, data_dir=tmp_path, rng=0)
    assert Ytr.shape == (0, 28, 28, 1) and Ctr.shape == (0, 10) and Yte.shape == (10, 28, 28, 1)


def test_balancedSubset_with_unequal_classes():
    from meganet.data._readerUtils import balancedSubset
    labels = np.array([0] * 10 + [1] * 2 + [2] * 5)
    idx = balancedSubset(labels, 9, rng=0)
    assert np.bincount(labels[idx], minlength=3).tolist() == [4, 2, 3]
    assert len(set(idx.tolist())) == 9
    np.testing.assert_array_equal(balancedSubset(labels, 17, rng=0), np.arange(17))


def test_setup_on_the_device_backend(tmp_path, rng, noEnv, device):
    writeIdxSet(str(tmp_path), 20, 10, rng)
    Ytr, Ctr, Yte, Cte = mg.setupFashionMNIST(data_dir=tmp_path, useGPU=True)
    assert mg.backend.isDeviceArray(Ytr) and mg.backend.isDeviceArray(Cte)
    assert mg.toHost(Ytr).shape == (20, 28, 28, 1)


def test_more_examples_than_available_is_an_error(tmp_path, rng, noEnv):
    writeIdxSet(str(tmp_path), 20, 10, rng)
    with pytest.raises(ValueError, match=r"nTrain=21 but only 20 examples are available in .*train-images"):
        mg.setupFashionMNIST(21, data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"nTest=11 but only 10"):
        mg.setupFashionMNIST(5, 11, data_dir=tmp_path)
    with pytest.raises(ValueError, match="nTrain must be None .* or a non-negative integer; got -1"):
        mg.setupFashionMNIST(-1, data_dir=tmp_path)
    with pytest.raises(ValueError, match="nTest must be None .* got 2.5"):
        mg.setupFashionMNIST(2, 2.5, data_dir=tmp_path)
    with pytest.raises(ValueError, match="precision must be 'single' or 'double'"):
        mg.setupFashionMNIST(2, 2, data_dir=tmp_path, precision="half")
    with pytest.raises(ValueError, match="onehot must be True or False"):
        mg.setupFashionMNIST(2, 2, data_dir=tmp_path, onehot="yes")


def test_missing_files_name_the_file_the_folders_and_how_to_get_them(tmp_path, rng, noEnv, monkeypatch):
    with pytest.raises(FileNotFoundError) as err:
        mg.setupFashionMNIST(data_dir=tmp_path)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    # an incomplete folder is reported with what it lacks
    writeIdxSet(str(tmp_path), 20, 10, rng)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match=r"incomplete, missing t10k-labels-idx1-ubyte.gz"):
        mg.setupFashionMNIST(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="file not found"):
        mg.loadMNISTImages(tmp_path / "nothing-here.gz")


@pytest.mark.parametrize("damage", ["truncated", "extra", "magic", "badgzip", "cutgzip", "short", "notgzip"])
def test_corrupt_files_are_reported(tmp_path, rng, noEnv, damage):
    sets = writeIdxSet(str(tmp_path), 20, 10, rng, gz=damage in ("badgzip", "cutgzip", "notgzip"))
    name = "train-images-idx3-ubyte" + (".gz" if damage in ("badgzip", "cutgzip", "notgzip") else "")
    path = tmp_path / name
    payload = idxImagesBytes(sets["train"][0])
    data = {"truncated": payload[:-7], "extra": payload + b"\x00", "magic": b"\x00\x00\x08\x01" + payload[4:],
            "badgzip": b"\x1f\x8b" + b"not really gzip data at all",
            "cutgzip": gzip.compress(payload)[:-100], "short": payload[:9], "notgzip": payload}[damage]
    path.write_bytes(data)
    expected = {"truncated": "header announces 20x28x28 = 15680 values but the file holds 15673",
                "extra": "holds 15681", "magic": "bad magic number 2049, expected 2051",
                "badgzip": "cannot decompress", "cutgzip": "cannot decompress",
                "short": "shorter than the 16-byte IDX header", "notgzip": "not gzip data"}[damage]
    with pytest.raises(mg.DataFileError, match=expected) as err:
        mg.setupFashionMNIST(data_dir=tmp_path)
    assert str(path) in str(err.value) and "to obtain a good copy" in str(err.value)


def test_bad_labels_and_mismatched_files(tmp_path, rng, noEnv):
    writeIdxSet(str(tmp_path), 20, 10, rng, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idxLabelsBytes(np.array([3] * 19 + [10])))
    with pytest.raises(mg.DataFileError, match=r"labels must lie in 0..9; found values 3..10"):
        mg.setupFashionMNIST(data_dir=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idxLabelsBytes(np.zeros(19)))
    with pytest.raises(ValueError, match="holds 20 images but .* holds 19 labels"):
        mg.setupFashionMNIST(data_dir=tmp_path)


def test_search_order(tmp_path, rng, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    writeIdxSet(str(a / "fashion-mnist"), 20, 10, rng)
    writeIdxSet(str(b / "FashionMNIST"), 30, 10, rng)
    monkeypatch.setenv(mg.DATA_ENV, str(b))
    # the environment variable comes before the repository and the system folder
    assert mg.findDataset("fashion-mnist") == str(b / "FashionMNIST")
    info = mg.datasetFiles("fashionmnist")
    assert info["source"] == mg.DATA_ENV and info["format"] == "idx" and not info["embedded"]
    assert mg.setupFashionMNIST(onehot=False)[0].shape[0] == 30
    # data_dir wins, and only data_dir is searched when it is given
    assert mg.findDataset("fashion-mnist", data_dir=a) == str(a / "fashion-mnist")
    with pytest.raises(FileNotFoundError):
        mg.findDataset("fashion-mnist", data_dir=tmp_path / "empty")
    roots = mg.dataSearchPath()
    assert roots[0] == (str(b), mg.DATA_ENV) and roots[-1] == ("/usr/share/datasets", "system")
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        mg.findDataset("svhn")


def test_embedded_default_is_found_from_the_repository(monkeypatch):
    monkeypatch.delenv(mg.DATA_ENV, raising=False)
    repo = mg.embeddedDataDir()
    assert repo is not None and os.path.isfile(os.path.join(repo, "README.md"))
    info = mg.datasetFiles("fashion-mnist")
    assert info["source"] == "repository" and info["embedded"]
    assert info["folder"] == os.path.join(repo, "fashion-mnist")
    # class-balanced, as documented in data/README.md
    for role, n in (("trainLabels", 12000), ("testLabels", 2000)):
        c = mg.loadMNISTLabels(info["files"][role])
        assert np.bincount(c, minlength=10).tolist() == [n // 10] * 10
    Ytr, Ctr, Yte, Cte = mg.setupFashionMNIST(100, 50, rng=0)
    assert Ytr.shape == (100, 28, 28, 1) and 0 <= Ytr.min() and Ytr.max() <= 1
    np.testing.assert_array_equal(Ctr.sum(0), 10)
    # embedded=False skips the subset and says so when no full copy is around
    monkeypatch.setattr("meganet.data.dataPaths.SYSTEM_DATA_DIR", "/nonexistent-datasets")
    with pytest.raises(FileNotFoundError, match="skipped \\(the embedded subset; embedded=False\\)"):
        mg.setupFashionMNIST(embedded=False)


def test_embedded_data_matches_the_full_set_when_installed(monkeypatch):
    """The shipped files are exactly what data/make_default_data.py makes from the full set."""
    monkeypatch.delenv(mg.DATA_ENV, raising=False)
    try:
        full = mg.datasetFiles("fashion-mnist", embedded=False)
    except FileNotFoundError:
        pytest.skip("full Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    sub = mg.datasetFiles("fashion-mnist")
    for part in ("train", "test"):
        cFull = mg.loadMNISTLabels(full["files"][part + "Labels"])
        cSub = mg.loadMNISTLabels(sub["files"][part + "Labels"])
        per = cSub.size // 10
        keep = np.sort(np.concatenate([np.flatnonzero(cFull == k)[:per] for k in range(10)]))
        np.testing.assert_array_equal(cSub, cFull[keep])
        YFull = mg.loadMNISTImages(full["files"][part + "Images"], raw=True)
        YSub = mg.loadMNISTImages(sub["files"][part + "Images"], raw=True)
        np.testing.assert_array_equal(YSub, YFull[keep])


def test_classNames():
    assert mg.classNames("fashion-mnist")[9] == "Ankle boot"
    assert mg.classNames("cifar10")[1] == "automobile" and len(mg.classNames("stl10")) == 10
    with pytest.raises(ValueError, match="meta file"):
        mg.classNames("cifar100")


def test_make_default_data_script(tmp_path, rng, noEnv):
    """data/make_default_data.py: the first n/10 of each class, in file order, readable by the readers."""
    import subprocess
    import sys
    script = os.path.join(mg.embeddedDataDir(), "make_default_data.py")
    sets = writeIdxSet(str(tmp_path / "full"), 60, 40, rng)
    out = tmp_path / "subset"
    run = subprocess.run([sys.executable, script, "--source", str(tmp_path / "full"), "--out", str(out),
                          "--ntrain", "30", "--ntest", "20"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "train-images-idx3-ubyte.gz      30 examples" in run.stdout
    Ytr, ctr, Yte, cte = mg.setupFashionMNIST(data_dir=out, onehot=False)
    for (Y, c), (Yfull, cfull), per in ((Ytr, ctr), sets["train"], 3), ((Yte, cte), sets["t10k"], 2):
        keep = np.sort(np.concatenate([np.flatnonzero(cfull == k)[:per] for k in range(10)]))
        np.testing.assert_array_equal(c, cfull[keep])
        np.testing.assert_allclose(Y[..., 0], Yfull[keep] / 255.0, rtol=1e-6)
    # deterministic bytes: a second run writes identical files
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    subprocess.run([sys.executable, script, "--source", str(tmp_path / "full"), "--out", str(out),
                    "--ntrain", "30", "--ntest", "20"], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    bad = subprocess.run([sys.executable, script, "--source", str(tmp_path / "full"), "--out", str(out),
                          "--ntrain", "35"], capture_output=True, text=True)
    assert bad.returncode != 0 and "multiples of 10" in bad.stderr
