"""Where the image data sets are found: the search order shared by every reader.

A data set is looked for, in this order, in

1. the ``data_dir`` argument of the reader (only there, when it is given),
2. the folder named by the environment variable ``MEGANET_DATA``,
3. the repository's ``data/`` folder (next to the ``meganet`` package of an editable
   install or a source checkout; it ships a class-balanced subset of Fashion-MNIST in
   ``data/fashion-mnist``),
4. ``/usr/share/datasets``, where Debian's dataset packages install their files
   (``apt-get install dataset-fashion-mnist`` gives ``/usr/share/datasets/fashion-mnist``).

Each of these is a *root*: the files may lie in the root itself or in one of the usual
sub-folders of the data set (``fashion-mnist``, ``MNIST``, ``STL10``, ``stl10_binary``,
``CIFAR``, ``cifar-10-batches-py``, ...; :data:`DATASETS` lists them). A folder counts only
if it holds a complete set of files in one of the data set's formats; the first such folder
wins. With ``embedded=False`` the subset shipped in the repository is skipped, so only a
full copy of Fashion-MNIST is accepted.
"""
import os

__all__ = ["DATA_ENV", "SYSTEM_DATA_DIR", "DATASETS", "findDataset", "datasetFiles", "embeddedDataDir",
           "dataSearchPath", "classNames"]

DATA_ENV = "MEGANET_DATA"
SYSTEM_DATA_DIR = "/usr/share/datasets"


def _idx(prefix, kind):
    """Accepted names of one IDX file: official, Meganet.m's, each gzipped or not."""
    names = [f"{prefix}-{kind}-ubyte", f"{prefix}.{kind}-ubyte"]
    return tuple(n + ".gz" for n in names) + tuple(names)


_IDX_FORMAT = {
    "trainImages": _idx("train-images", "idx3"),
    "trainLabels": _idx("train-labels", "idx1"),
    "testImages": _idx("t10k-images", "idx3"),
    "testLabels": _idx("t10k-labels", "idx1"),
}

#: For each data set: the sub-folders of a root that are searched (``""`` is the root itself),
#: the formats with the file roles each needs (each role lists accepted names, first match
#: wins), the class names (label k is ``classes[k]``) and how to obtain the data.
DATASETS = {
    "fashion-mnist": {
        "folders": ("fashion-mnist", "fashion_mnist", "FashionMNIST", "FASHION-MNIST", ""),
        "formats": {"idx": _IDX_FORMAT},
        "classes": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                    "Bag", "Ankle boot"),
        "obtain": ("install the Debian package (apt-get install dataset-fashion-mnist, which puts the "
                   "files in /usr/share/datasets/fashion-mnist), or download train-images-idx3-ubyte.gz, "
                   "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                   "from https://github.com/zalandoresearch/fashion-mnist into a folder and pass it as "
                   "data_dir (or set MEGANET_DATA)"),
    },
    "mnist": {
        "folders": ("mnist", "MNIST", ""),
        "formats": {"idx": _IDX_FORMAT},
        "classes": tuple(str(k) for k in range(10)),
        "obtain": ("download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                   "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                   "(http://yann.lecun.com/exdb/mnist/) "
                   "into a folder and pass it as data_dir (or set MEGANET_DATA)"),
    },
    "stl10": {
        "folders": ("STL10", "stl10", "stl10_matlab", "stl10_binary", "STL10/stl10_matlab",
                    "STL10/stl10_binary", "stl10/stl10_binary", ""),
        "formats": {
            "mat": {"train": ("stl10-train.mat", "train.mat"), "test": ("stl10-test.mat", "test.mat")},
            "binary": {"trainX": ("train_X.bin",), "trainY": ("train_y.bin",),
                       "testX": ("test_X.bin",), "testY": ("test_y.bin",)},
        },
        "classes": ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"),
        "obtain": ("download stl10_matlab.tar.gz (train.mat, test.mat) or stl10_binary.tar.gz "
                   "(train_X.bin, train_y.bin, test_X.bin, test_y.bin) from "
                   "https://cs.stanford.edu/~acoates/stl10/, unpack it into a folder and pass it as "
                   "data_dir (or set MEGANET_DATA)"),
    },
    "cifar10": {
        "folders": ("CIFAR", "cifar10", "CIFAR10", "cifar-10-batches-mat", "cifar-10-batches-py",
                    "CIFAR/cifar-10-batches-mat", "CIFAR/cifar-10-batches-py", ""),
        "formats": {
            "mat": dict({f"batch{k}": (f"data_batch_{k}.mat",) for k in range(1, 6)},
                        test=("test_batch.mat",)),
            "python": dict({f"batch{k}": (f"data_batch_{k}",) for k in range(1, 6)},
                           test=("test_batch",)),
        },
        "classes": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "obtain": ("download cifar-10-matlab.tar.gz or cifar-10-python.tar.gz from "
                   "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it into a folder and pass it as "
                   "data_dir (or set MEGANET_DATA)"),
    },
    "cifar100": {
        "folders": ("CIFAR", "cifar100", "CIFAR100", "cifar-100-matlab", "cifar-100-python",
                    "CIFAR/cifar-100-matlab", "CIFAR/cifar-100-python", ""),
        "formats": {
            "mat": {"train": ("cifar100-train.mat", "train.mat"), "test": ("cifar100-test.mat", "test.mat")},
            "python": {"train": ("train",), "test": ("test",)},
        },
        "classes": None,   # 100 fine / 20 coarse names: in the data set's meta file
        "obtain": ("download cifar-100-matlab.tar.gz or cifar-100-python.tar.gz from "
                   "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it into a folder and pass it as "
                   "data_dir (or set MEGANET_DATA)"),
    },
}

_ALIASES = {"fashionmnist": "fashion-mnist", "fashion_mnist": "fashion-mnist", "stl": "stl10",
            "stl-10": "stl10", "cifar-10": "cifar10", "cifar-100": "cifar100"}


def _canonical(name):
    if not isinstance(name, str):
        raise ValueError(f"dataset name must be a string, one of {sorted(DATASETS)}; got {name!r}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    return key


def embeddedDataDir():
    """The repository's ``data/`` folder, or ``None`` when meganet is not run from a checkout.

    It is the ``data`` folder next to the ``meganet`` package, accepted only if that parent
    folder is a source tree of meganet (it holds ``setup.cfg`` or ``pyproject.toml``).
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = os.path.dirname(root)
    data = os.path.join(root, "data")
    source = any(os.path.isfile(os.path.join(root, f)) for f in ("setup.cfg", "pyproject.toml"))
    return data if source and os.path.isdir(data) else None


def dataSearchPath(data_dir=None):
    """The roots searched, in order, as ``(root, source)`` pairs.

    ``source`` is ``'data_dir'``, ``'MEGANET_DATA'``, ``'repository'`` or ``'system'``.
    With ``data_dir`` given, it is the only root.
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise ValueError(f"data_dir must be a folder path (str or os.PathLike); got {data_dir!r}")
        return [(os.fspath(data_dir), "data_dir")]
    roots = []
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append((env, DATA_ENV))
    repo = embeddedDataDir()
    if repo is not None:
        roots.append((repo, "repository"))
    roots.append((SYSTEM_DATA_DIR, "system"))
    return roots


def _firstExisting(folder, names):
    for n in names:
        p = os.path.join(folder, n)
        if os.path.isfile(p):
            return p
    return None


def _isEmbedded(folder, source):
    return source == "repository" and os.path.basename(os.path.normpath(folder)) == "fashion-mnist"


def datasetFiles(name, data_dir=None, embedded=True):
    """Locate a data set and describe what will be read.

    Parameters
    ----------
    name : str
        ``'fashion-mnist'``, ``'mnist'``, ``'stl10'``, ``'cifar10'`` or ``'cifar100'``
        (``'fashionmnist'``, ``'stl'``, ``'cifar-10'``, ... are accepted too).
    data_dir : str or os.PathLike, optional
        Look only here (the folder itself or its usual sub-folders).
    embedded : bool
        Accept the subset of Fashion-MNIST shipped in the repository's ``data/fashion-mnist``.

    Returns
    -------
    info : dict
        ``name`` (canonical), ``folder`` (where the files are), ``format`` (``'idx'``,
        ``'mat'``, ``'binary'`` or ``'python'``), ``files`` (role -> path), ``source``
        (``'data_dir'``, ``'MEGANET_DATA'``, ``'repository'`` or ``'system'``) and
        ``embedded`` (True for the shipped subset).

    Raises
    ------
    FileNotFoundError
        If no searched folder holds a complete set of files; the message lists every folder
        searched, the files missing from incomplete ones, and how to obtain the data set.
    """
    key = _canonical(name)
    if not isinstance(embedded, bool):
        raise ValueError(f"embedded must be True or False; got {embedded!r}")
    spec = DATASETS[key]
    looked, partial = [], []
    for root, source in dataSearchPath(data_dir):
        for sub in spec["folders"]:
            folder = os.path.normpath(os.path.join(root, sub))
            if folder in looked:
                continue
            looked.append(folder)
            if not os.path.isdir(folder):
                continue
            if not embedded and _isEmbedded(folder, source):
                partial.append(f"{folder}: skipped (the embedded subset; embedded=False)")
                continue
            for fmt, roles in spec["formats"].items():
                files = {role: _firstExisting(folder, names) for role, names in roles.items()}
                missing = [names[0] for role, names in roles.items() if files[role] is None]
                if not missing:
                    return {"name": key, "folder": folder, "format": fmt, "files": files, "source": source,
                            "embedded": _isEmbedded(folder, source)}
                if len(missing) < len(roles):
                    partial.append(f"{folder}: {fmt} files incomplete, missing {', '.join(missing)}")
    needed = "; or ".join(f"{fmt}: " + ", ".join(names[0] for names in roles.values())
                          for fmt, roles in spec["formats"].items())
    msg = (f"{key} data set not found. Needed ({needed}). Looked in: " + ", ".join(looked) + ". ")
    if partial:
        msg += "Incomplete: " + "; ".join(partial) + ". "
    msg += f"To obtain it, {spec['obtain']}."
    raise FileNotFoundError(msg)


def findDataset(name, data_dir=None, embedded=True):
    """The folder a reader would read data set ``name`` from (see :func:`datasetFiles`).

    Returns
    -------
    folder : str

    Examples
    --------
    >>> import meganet as mg
    >>> folder = mg.findDataset('fashion-mnist')         # doctest: +SKIP
    """
    return datasetFiles(name, data_dir=data_dir, embedded=embedded)["folder"]


def classNames(name):
    """Names of the classes of data set ``name``: label ``k`` (one-hot column ``k``) is
    ``classNames(name)[k]``.

    CIFAR-100's 100 fine and 20 coarse names are stored in its meta file and not listed here
    (a ``ValueError`` says so).
    """
    key = _canonical(name)
    names = DATASETS[key]["classes"]
    if names is None:
        raise ValueError(f"class names of {key} are stored in its meta file (meta / cifar100-meta.mat), "
                         "not built in")
    return list(names)
