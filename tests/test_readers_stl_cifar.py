"""setupSTL, setupCIFAR10, setupCIFAR100 on tiny files written here in each real layout.

STL-10 stores each image as a column-major 96x96x3 array (MATLAB's order), CIFAR as three
row-major 32x32 planes; the files are built from known images with numpy's own flatten
orders, independently of the readers' reshapes, and must come back exactly: upright (not
transposed or flipped), channels in R, G, B order, labels shifted to 0-based classes.
"""
import os
import pickle
import struct

import numpy as np
import pytest
import scipy.io

import meganet as mg


def markedImages(n, size, rng):
    """Colour images a transpose, a flip or a channel swap cannot leave unchanged."""
    Y = rng.integers(0, 60, size=(n, size, size, 3)).astype(np.uint8)
    Y[:, 0, 0, 0] = 255               # red top-left corner
    Y[:, 0, 1:, 1] = 200              # green top row (not the left column)
    Y[:, 1:, 0, 1] = 0
    Y[:, -1, :, 2] = 150              # blue bottom row
    Y[:, :-1, -1, 2] = 0
    return Y


def labelsCycling(n, nClasses, rng):
    c = np.arange(n) % nClasses
    rng.shuffle(c)
    return c


def stlRows(Y):
    """One row per image: the column-major (MATLAB) flattening of the 96x96x3 array."""
    return np.stack([y.flatten(order="F") for y in Y])


def cifarRows(Y):
    """One row per image: the R, G, B planes, each flattened row by row."""
    return np.stack([np.concatenate([y[:, :, ch].flatten(order="C") for ch in range(3)]) for y in Y])


def writeMat73(path, variables):
    """A MATLAB v7.3 (HDF5) MAT-file: MATLAB's 512-byte header, datasets stored transposed."""
    import h5py
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            f[name] = np.asarray(value).T
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by the test suite. HDF5 schema 1.00 ."
    header = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM"
    with open(path, "r+b") as f:
        f.write(header)


def py2Pickle(data, labels):
    """A dict ``{'data': uint8 matrix, 'labels': list}`` byte for byte as Python 2's cPickle
    (protocol 2) writes it, as in the distributed CIFAR files: ``str`` keys and array bytes
    (SHORT_BINSTRING / BINSTRING) and NumPy 1's ``numpy.core.multiarray._reconstruct``."""
    def short(b):
        return b"U" + bytes([len(b)]) + b
    data = np.ascontiguousarray(data, dtype=np.uint8)
    shape = b"".join(b"J" + struct.pack("<i", s) for s in data.shape) + b"\x86"
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85" + short(b"b")
             + b"\x87R" + b"(K\x01" + shape
             + b"cnumpy\ndtype\n" + short(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + short(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
             + b"\x89" + b"T" + struct.pack("<i", data.size) + data.tobytes() + b"tb")
    labels = b"](" + b"".join(b"K" + bytes([int(v)]) for v in labels) + b"e"
    return b"\x80\x02}(" + short(b"data") + array + short(b"labels") + labels + b"u."


@pytest.fixture
def noEnv(monkeypatch):
    monkeypatch.delenv(mg.DATA_ENV, raising=False)


# ----------------------------------------------------------------------------------------- STL-10

def writeSTL(folder, fmt, rng, nTrain=20, nTest=10):
    os.makedirs(folder, exist_ok=True)
    sets = {}
    for part, n in (("train", nTrain), ("test", nTest)):
        Y = markedImages(n, 96, rng)
        c = labelsCycling(n, 10, rng)
        y = (c + 1).astype(np.uint8)           # files hold 1..10
        if fmt == "mat":
            scipy.io.savemat(os.path.join(folder, f"stl10-{part}.mat"), {"X": stlRows(Y), "y": y[:, None]})
        elif fmt == "mat-official":
            scipy.io.savemat(os.path.join(folder, f"{part}.mat"),
                             {"X": stlRows(Y), "y": y[:, None], "class_names": np.array(["a", "b"])})
        elif fmt == "mat73":
            writeMat73(os.path.join(folder, f"{part}.mat"), {"X": stlRows(Y), "y": y[:, None]})
        else:
            with open(os.path.join(folder, f"{part}_X.bin"), "wb") as f:
                f.write(stlRows(Y).tobytes())
            with open(os.path.join(folder, f"{part}_y.bin"), "wb") as f:
                f.write(y.tobytes())
        sets[part] = (Y, c)
    return sets


@pytest.mark.parametrize("fmt,sub", [("mat", "STL10"), ("mat-official", "stl10_matlab"),
                                     ("mat73", "stl10_matlab"), ("bin", "stl10_binary")])
def test_setupSTL_reads_each_format_exactly(tmp_path, rng, noEnv, fmt, sub):
    sets = writeSTL(str(tmp_path / sub), fmt, rng)
    Ytr, Ctr, Yte, Cte = mg.setupSTL(data_dir=tmp_path, precision="double")
    assert Ytr.shape == (20, 96, 96, 3) and Ytr.dtype == np.float64 and Ctr.shape == (20, 10)
    np.testing.assert_array_equal(Ytr, sets["train"][0])        # 0..255, upright, RGB
    assert np.all(Ytr[:, 0, 0, 0] == 255) and np.all(Ytr[:, 0, 1:, 1] == 200)
    np.testing.assert_array_equal(Ctr.argmax(1), sets["train"][1])
    np.testing.assert_array_equal(Yte, sets["test"][0])
    _, cte = mg.setupSTL(0, None, data_dir=tmp_path / sub, onehot=False)[2:]
    np.testing.assert_array_equal(cte, sets["test"][1])
    assert mg.datasetFiles("stl10", data_dir=tmp_path)["format"] == ("binary" if fmt == "bin" else "mat")


def test_setupSTL_balanced_subset_and_errors(tmp_path, rng, noEnv):
    sets = writeSTL(str(tmp_path), "bin", rng, nTrain=40, nTest=20)
    Ytr, Ctr, Yte, Cte = mg.setupSTL(20, 10, data_dir=tmp_path, rng=0)
    np.testing.assert_array_equal(Ctr.sum(0), 2)
    np.testing.assert_array_equal(Cte.sum(0), 1)
    with pytest.raises(ValueError, match="nTrain=41 but only 40"):
        mg.setupSTL(41, data_dir=tmp_path)
    # truncated images, labels that do not match, labels out of range
    raw = (tmp_path / "train_X.bin").read_bytes()
    (tmp_path / "train_X.bin").write_bytes(raw[:-5])
    with pytest.raises(mg.DataFileError, match=r"train_X.bin: .*not a whole number of 96x96x3 images"):
        mg.setupSTL(data_dir=tmp_path)
    (tmp_path / "train_X.bin").write_bytes(raw[:-27648])
    with pytest.raises(ValueError, match=r"train_X.bin holds 39 images but .*train_y.bin holds 40 labels"):
        mg.setupSTL(data_dir=tmp_path)
    (tmp_path / "train_X.bin").write_bytes(raw)
    (tmp_path / "test_y.bin").write_bytes(bytes([0] * 20))
    with pytest.raises(mg.DataFileError, match=r"test_y.bin: labels must lie in 1..10; found values 0..0"):
        mg.setupSTL(data_dir=tmp_path)
    os.remove(tmp_path / "test_y.bin")
    with pytest.raises(FileNotFoundError, match=r"binary files incomplete, missing test_y.bin.*stl10_binary"):
        mg.setupSTL(data_dir=tmp_path)


def test_setupSTL_damaged_mat_files(tmp_path, rng, noEnv):
    writeSTL(str(tmp_path), "mat", rng)
    path = tmp_path / "stl10-train.mat"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(mg.DataFileError, match=r"stl10-train.mat: cannot read it as a MAT-file.*to obtain"):
        mg.setupSTL(data_dir=tmp_path)
    scipy.io.savemat(str(path), {"X": np.zeros((2, 27648), np.uint8)})
    with pytest.raises(mg.DataFileError, match=r"lacks the variable\(s\) y"):
        mg.setupSTL(data_dir=tmp_path)
    scipy.io.savemat(str(path), {"X": np.zeros((2, 100), np.uint8), "y": np.ones((2, 1), np.uint8)})
    with pytest.raises(mg.DataFileError, match=r"rows of 27648 = 96x96x3 values, found .* shape \(2, 100\)"):
        mg.setupSTL(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"stl10 data set not found.*stl10_binary.tar.gz"):
        mg.setupSTL(data_dir=tmp_path / "nowhere")


# ----------------------------------------------------------------------------------------- CIFAR

def writeCIFAR10(folder, fmt, rng, perBatch=6, nTest=10):
    os.makedirs(folder, exist_ok=True)
    Ys, cs = [], []
    for name, n in [(f"data_batch_{k}", perBatch) for k in range(1, 6)] + [("test_batch", nTest)]:
        Y = markedImages(n, 32, rng)
        c = labelsCycling(n, 10, rng)
        if fmt == "mat":
            scipy.io.savemat(os.path.join(folder, name + ".mat"),
                             {"data": cifarRows(Y), "labels": c.astype(np.uint8)[:, None],
                              "batch_label": "training batch"})
        elif fmt == "python2":
            with open(os.path.join(folder, name), "wb") as f:
                f.write(py2Pickle(cifarRows(Y), c))
        else:   # the python version: a dict with bytes keys, labels a list
            with open(os.path.join(folder, name), "wb") as f:
                pickle.dump({b"batch_label": b"training batch", b"labels": [int(v) for v in c],
                             b"data": cifarRows(Y), b"filenames": [b"x.png"] * n}, f, protocol=2)
        Ys.append(Y)
        cs.append(c)
    return (np.concatenate(Ys[:5]), np.concatenate(cs[:5])), (Ys[5], cs[5])


@pytest.mark.parametrize("fmt,sub", [("mat", "cifar-10-batches-mat"), ("python", "cifar-10-batches-py"),
                                     ("python2", "cifar-10-batches-py"), ("mat", "CIFAR")])
def test_setupCIFAR10_reads_each_format_exactly(tmp_path, rng, noEnv, fmt, sub):
    (Ytrain, ctrain), (Ytest, ctest) = writeCIFAR10(str(tmp_path / sub), fmt, rng)
    Ytr, Ctr, Yte, Cte = mg.setupCIFAR10(data_dir=tmp_path)
    assert Ytr.shape == (30, 32, 32, 3) and Ytr.dtype == np.float32 and Cte.shape == (10, 10)
    np.testing.assert_array_equal(Ytr, Ytrain)              # batches in order, upright, RGB
    assert np.all(Ytr[:, 0, 0, 0] == 255) and np.all(Ytr[:, -1, :, 2] == 150)
    np.testing.assert_array_equal(Ctr.argmax(1), ctrain)
    np.testing.assert_array_equal(Yte, Ytest)
    np.testing.assert_array_equal(Cte.argmax(1), ctest)
    assert mg.datasetFiles("cifar10", data_dir=tmp_path)["format"] == fmt.rstrip("2")


def test_setupCIFAR10_subsets_and_errors(tmp_path, rng, noEnv):
    writeCIFAR10(str(tmp_path), "python", rng, perBatch=10, nTest=20)
    Ytr, ctr, Yte, cte = mg.setupCIFAR10(20, 10, data_dir=tmp_path, onehot=False, rng=1)
    assert np.bincount(ctr, minlength=10).tolist() == [2] * 10 and Yte.shape == (10, 32, 32, 3)
    # a missing batch is named
    os.remove(tmp_path / "data_batch_3")
    with pytest.raises(FileNotFoundError, match="python files incomplete, missing data_batch_3"):
        mg.setupCIFAR10(data_dir=tmp_path)
    # a truncated pickle, a pickle that is not a dict, one without labels, one that runs code
    path = tmp_path / "data_batch_3"
    full = (tmp_path / "data_batch_2").read_bytes()
    cases = [(full[:-50], "cannot unpickle it"),
             (pickle.dumps([1, 2, 3], protocol=2), "expected a pickled dict, found list"),
             (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8)}, protocol=2), "lacks the entries labels"),
             (pickle.dumps({b"data": os.system}, protocol=2), "refusing to load posix.system"),
             (pickle.dumps({b"data": np.zeros((1, 30), np.uint8), b"labels": [0]}, protocol=5),
              r"rows of 3072 = 32x32x3 values, found an array of shape \(1, 30\)")]
    for data, message in cases:
        path.write_bytes(data)
        with pytest.raises(mg.DataFileError, match=message) as err:
            mg.setupCIFAR10(data_dir=tmp_path)
        assert "data_batch_3" in str(err.value) and "cs.toronto.edu" in str(err.value)


def writeCIFAR100(folder, fmt, rng, nTrain=30, nTest=20):
    os.makedirs(folder, exist_ok=True)
    sets = {}
    for part, n in (("train", nTrain), ("test", nTest)):
        Y = markedImages(n, 32, rng)
        fine = labelsCycling(n, 100, rng)
        coarse = fine // 5
        if fmt == "mat":
            scipy.io.savemat(os.path.join(folder, f"cifar100-{part}.mat"),
                             {"data": cifarRows(Y), "fine_labels": fine.astype(np.uint8)[:, None],
                              "coarse_labels": coarse.astype(np.uint8)[:, None]})
        else:
            with open(os.path.join(folder, part), "wb") as f:
                pickle.dump({b"data": cifarRows(Y), b"fine_labels": [int(v) for v in fine],
                             b"coarse_labels": [int(v) for v in coarse]}, f, protocol=2)
        sets[part] = (Y, fine, coarse)
    return sets


@pytest.mark.parametrize("fmt,sub", [("mat", "CIFAR"), ("python", "cifar-100-python")])
def test_setupCIFAR100_reads_each_format_exactly(tmp_path, rng, noEnv, fmt, sub):
    sets = writeCIFAR100(str(tmp_path / sub), fmt, rng)
    Ytr, Ctr, Yte, Cte = mg.setupCIFAR100(data_dir=tmp_path)
    assert Ytr.shape == (30, 32, 32, 3) and Ctr.shape == (30, 100) and Cte.shape == (20, 100)
    np.testing.assert_array_equal(Ytr, sets["train"][0])
    np.testing.assert_array_equal(Ctr.argmax(1), sets["train"][1])
    np.testing.assert_array_equal(Yte, sets["test"][0])
    Ytr, ctr, Yte, cte = mg.setupCIFAR100(data_dir=tmp_path, labels="coarse", onehot=False)
    np.testing.assert_array_equal(ctr, sets["train"][2])
    np.testing.assert_array_equal(cte, sets["test"][2])
    _, Ctr, _, _ = mg.setupCIFAR100(None, 0, data_dir=tmp_path, labels="coarse")
    assert Ctr.shape == (30, 20)
    with pytest.raises(ValueError, match="labels must be 'fine' or 'coarse'; got 'medium'"):
        mg.setupCIFAR100(data_dir=tmp_path, labels="medium")


def test_setupCIFAR100_labels_out_of_range(tmp_path, rng, noEnv):
    writeCIFAR100(str(tmp_path), "mat", rng)
    scipy.io.savemat(str(tmp_path / "cifar100-test.mat"),
                     {"data": np.zeros((2, 3072), np.uint8), "fine_labels": np.array([[0], [100]], np.uint8),
                      "coarse_labels": np.array([[0], [1]], np.uint8)})
    with pytest.raises(mg.DataFileError,
                       match=r"cifar100-test.mat: labels must lie in 0..99; found values 0..100"):
        mg.setupCIFAR100(data_dir=tmp_path)


def test_readers_find_data_through_MEGANET_DATA(tmp_path, rng, monkeypatch):
    writeCIFAR10(str(tmp_path / "CIFAR"), "mat", rng)
    writeCIFAR100(str(tmp_path / "CIFAR"), "mat", rng)
    writeSTL(str(tmp_path / "STL10"), "mat", rng)
    monkeypatch.setenv(mg.DATA_ENV, str(tmp_path))
    assert mg.findDataset("cifar10") == str(tmp_path / "CIFAR")
    assert mg.findDataset("cifar-100") == str(tmp_path / "CIFAR")
    assert mg.findDataset("stl") == str(tmp_path / "STL10")
    assert mg.setupCIFAR10(3, 2, rng=0)[0].shape == (3, 32, 32, 3)
    assert mg.setupCIFAR100(3, 2, rng=0)[1].shape == (3, 100)
    assert mg.setupSTL(3, 2, rng=0)[2].shape == (2, 96, 96, 3)


def test_every_reader_takes_the_same_keywords():
    import inspect
    common = ["nTrain", "nTest", "data_dir", "precision", "useGPU", "onehot", "rng", "embedded"]
    for setup in (mg.setupMNIST, mg.setupFashionMNIST, mg.setupSTL, mg.setupCIFAR10, mg.setupCIFAR100):
        params = inspect.signature(setup).parameters
        assert list(params)[:len(common)] == common, setup.__name__
        assert params["nTrain"].default is None and params["precision"].default == "single"
        assert params["embedded"].default is True and params["onehot"].default is True
    with pytest.raises(ValueError, match="embedded must be True or False; got 0"):
        mg.setupCIFAR10(data_dir="/nonexistent", embedded=0)
