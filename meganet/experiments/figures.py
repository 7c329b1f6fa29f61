"""Figures of the paper's experiments (matplotlib, the optional ``plot`` extra).

Each function draws one figure, writes it to ``filename`` (PNG by its suffix) when given,
and returns the matplotlib ``Figure``. matplotlib is imported on first use with the
non-interactive ``Agg`` backend when no display backend is active; without it an
``ImportError`` says how to install it.
"""

import numpy

from ..backend import toHost

__all__ = ["plotHistory", "plotConfusionMatrices", "plotPredictions", "plotAccuracyVsSize"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(
            "meganet's figures need matplotlib: pip install 'meganet[plot]' (or pip install matplotlib)"
        ) from err
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, filename):
    fig.tight_layout()
    if filename is not None:
        fig.savefig(filename, dpi=110)
    return fig


def _labels(C, name):
    C = toHost(C)
    if C.ndim == 2:
        return C.argmax(axis=1)
    if C.ndim == 1:
        return C.astype(int)
    raise ValueError(f"{name} must be one-hot (N, nClass) or class indices (N,); got shape {C.shape}")


def plotHistory(His, filename=None, title=None, valLabel="validation"):
    """Training history (the paper's Fig. 2, right): objective and accuracies per epoch.

    Left panel: the training objective ``Jc`` (and the validation loss when recorded),
    logarithmic. Right panel: training and validation accuracy (%).

    Parameters
    ----------
    His : History or dict of str -> History
        One history, or several (e.g. one per network) drawn in the same axes.
    filename : str, optional
    title : str, optional
    valLabel : str
        Name of the held-out set in the legend (e.g. ``'test'`` when the history's validation
        columns were computed on the test set).
    """
    plt = _pyplot()
    runs = His if isinstance(His, dict) else {"": His}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for k, (name, H) in enumerate(runs.items()):
        col = f"C{k}"
        lab = f"{name} " if name else ""
        ep = numpy.asarray(H["epoch"])
        ax1.semilogy(ep, H["Jc"], "-o", color=col, ms=3, label=f"{lab}objective (train)")
        if "val F" in H:
            ax1.semilogy(ep, H["val F"], "--s", color=col, ms=3, label=f"{lab}loss ({valLabel})")
        if "train accuracy" in H:
            ax2.plot(ep, H["train accuracy"], "-o", color=col, ms=3, label=f"{lab}train")
        if "val accuracy" in H:
            ax2.plot(ep, H["val accuracy"], "--s", color=col, ms=3, label=f"{lab}{valLabel}")
    ax1.set_xlabel("epoch")
    ax1.set_title("objective")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.set_title("accuracy")
    from matplotlib.ticker import MaxNLocator
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _finish(fig, filename)


def plotConfusionMatrices(matrices, classNames=None, filename=None):
    """Confusion matrices side by side (the paper's Fig. 3), in percent of each true class.

    Parameters
    ----------
    matrices : dict of str -> (nClass, nClass) array
        Counts per network, ``M[i, j]`` = examples of true class ``j`` predicted as ``i``
        (:func:`~meganet.utils.getConfusionMatrix`); the title shows the accuracy.
    classNames : sequence of str, optional
    filename : str, optional
    """
    plt = _pyplot()
    n = len(matrices)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.4), squeeze=False)
    for ax, (name, M) in zip(axes[0], matrices.items()):
        M = numpy.asarray(M, dtype=float)
        P = 100.0 * M / numpy.maximum(M.sum(axis=0, keepdims=True), 1)
        ax.imshow(P, cmap="Blues", vmin=0, vmax=100)
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                if P[i, j] >= 0.5:
                    ax.text(j, i, f"{P[i, j]:.0f}", ha="center", va="center", fontsize=6,
                            color="white" if P[i, j] > 60 else "black")
        acc = 100.0 * numpy.trace(M) / max(M.sum(), 1)
        ax.set_title(f"{name}: {acc:.1f} %")
        ticks = numpy.arange(M.shape[0])
        names = list(classNames) if classNames is not None else [str(t) for t in ticks]
        ax.set_xticks(ticks)
        ax.set_xticklabels(names, rotation=90, fontsize=7)
        ax.set_yticks(ticks)
        ax.set_yticklabels(names, fontsize=7)
        ax.set_xlabel("true class")
        ax.set_ylabel("predicted class")
    return _finish(fig, filename)


def plotPredictions(Y, P, Ctrue, classNames=None, filename=None, nShow=8):
    """Test images with their predicted class probabilities as bars (the paper's Fig. 1).

    The bar of the true class is green, a wrong top prediction red, the rest grey.

    Parameters
    ----------
    Y : array, shape (N, H, W, C)
        Images (``C`` = 1 or 3; each shown rescaled to [0, 1]).
    P : array, shape (N, nClass)
        Predicted probabilities.
    Ctrue : array, shape (N, nClass) or (N,)
    classNames : sequence of str, optional
    filename : str, optional
    nShow : int
        Number of examples (the first ``nShow``).
    """
    plt = _pyplot()
    Y, P = toHost(Y), toHost(P)
    t = _labels(Ctrue, "Ctrue")
    n = min(int(nShow), Y.shape[0])
    nClass = P.shape[1]
    names = list(classNames) if classNames is not None else [str(k) for k in range(nClass)]
    fig, axes = plt.subplots(
        2, n, figsize=(1.9 * n, 4.6), gridspec_kw={"height_ratios": [1, 1.25]}, squeeze=False
    )
    for k in range(n):
        img = Y[k].astype(float)
        img = (img - img.min()) / max(img.max() - img.min(), 1e-12)
        ax = axes[0, k]
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        ax.set_axis_off()
        ax.set_title(f"true: {names[t[k]]}", fontsize=7)
        ax = axes[1, k]
        cols = ["0.6"] * nClass
        pred = int(P[k].argmax())
        if pred != t[k]:
            cols[pred] = "tab:red"
        cols[t[k]] = "tab:green"
        ax.barh(numpy.arange(nClass), P[k], color=cols)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_yticks(numpy.arange(nClass))
        ax.set_yticklabels(names if k == 0 else [], fontsize=6)
        ax.tick_params(axis="x", labelsize=6)
    return _finish(fig, filename)


def plotAccuracyVsSize(sizes, accuracies, filename=None, xlabel="training images"):
    """Test accuracy against the size of the training set (the paper's Fig. 2, left).

    Parameters
    ----------
    sizes : sequence of int
    accuracies : dict of str -> sequence of float
        Accuracy (%) per network, one per size.
    filename : str, optional
    xlabel : str
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, acc in accuracies.items():
        if len(acc) != len(sizes):
            raise ValueError(f"plotAccuracyVsSize: {name} has {len(acc)} accuracies for {len(sizes)} sizes")
        ax.plot(sizes, acc, "-o", ms=4, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, filename)
