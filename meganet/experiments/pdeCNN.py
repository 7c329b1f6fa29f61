"""The PDE-motivated CNNs of the paper, built as Meganet.m's image drivers build them."""

import numbers

import numpy

from ..activations import reluActivation
from ..backend import checkPrecision, checkUseGPU
from ..integrators import NN, Connector, DoubleHamiltonianNN, LeapFrogNN, Meganet, ResNN
from ..kernels import Conv2D
from ..layers import BatchNormLayer, DoubleLayer, DoubleSymLayer, SingleLayer, TVNormLayer
from ..linops import opDiag, opPool, opTimeDer
from ..regularization import BlockReg, L1Reg, TikhonovReg

__all__ = ["pdeCNN", "initSoftmaxWeights", "PDE_DYNAMICS"]

#: The dynamics of the PDE blocks :func:`pdeCNN` builds.
PDE_DYNAMICS = ("parabolic", "hamiltonian", "leapfrog", "resnet")


def _perUnit(name, v, nUnits, kind):
    """A scalar or one value per unit -> a list of ``nUnits`` values."""
    if isinstance(v, numbers.Number) and not isinstance(v, bool):
        return [kind(v)] * nUnits
    try:
        v = [kind(x) for x in v]
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"pdeCNN: {name} must be a number or one number per unit ({nUnits}); got {v!r}"
        ) from err
    if len(v) != nUnits:
        raise ValueError(f"pdeCNN: {name} needs one value per unit ({nUnits}); got {len(v)} values")
    return v


def pdeCNN(nImg, cin, nf, dynamic="parabolic", nt=3, h=1.0, normLayer=BatchNormLayer,
           pdeNormLayer=TVNormLayer, alpha=(4e-4, 4e-4, 1e-4), eps=1e-3, activation=reluActivation,
           storeInterm=False, useGPU=False, precision="single"):
    """Build a PDE-CNN and the regularizer of its weights (Meganet.m's ``cnnDriver`` network).

    The network, for images of ``nImg`` pixels and ``cin`` channels and widths
    ``nf = [nf_0, ..., nf_U]`` (``U = len(nf) - 1`` units)::

        opening   NN(SingleLayer(Conv2D 3x3 cin -> nf_0, relu, normLayer))
        unit k    PDE block on nf_k channels, nt_k steps of size h_k (below)
                  NN(SingleLayer(Conv2D 1x1 nf_k -> nf_{k+1}, relu, normLayer))
                  Connector(opPool 2)                         (k < U)
                  Connector(opPool over all pixels)           (k = U: one value per channel)

    PDE blocks, all with the symmetric layer
    ``f(Y) = -K^T relu(N(K Y))`` (:class:`~meganet.layers.DoubleSymLayer`, 3x3 conv ``K``,
    ``N = pdeNormLayer``):

    * ``'parabolic'``: :class:`~meganet.integrators.ResNN` (forward Euler,
      ``Y <- Y + h f(Y)``);
    * ``'hamiltonian'``: :class:`~meganet.integrators.DoubleHamiltonianNN` on the two halves
      of the ``nf_k`` channels (``nf_k`` must be even), with the layer on ``nf_k / 2``
      channels (its two uses have their own weights);
    * ``'leapfrog'``: :class:`~meganet.integrators.LeapFrogNN` (second order,
      ``Y_{j+1} = 2 Y_j - Y_{j-1} + h^2 f(Y_j)``);
    * ``'resnet'``: a standard residual network for comparison (``ResNN`` of a
      :class:`~meganet.layers.DoubleLayer` conv-norm-relu-conv-norm, no symmetry).

    The regularizer (a :class:`~meganet.regularization.BlockReg`, one entry per block) is
    Meganet.m's: with ``alpha = (alphaW, alphaTheta, alphaTime)``, the convolution weights
    get weight decay ``0.5 alphaTheta ||K||^2`` (norm-layer scales and shifts are not
    decayed), and the PDE blocks in addition the smoothed total variation in time
    ``alphaTime sum sqrt((D_t theta)^2 + eps)`` (:class:`~meganet.regularization.L1Reg` of
    :class:`~meganet.linops.opTimeDer`; ``alphaTime = 0`` leaves only the weight decay).
    ``alphaW`` is the weight decay of the classifier, which the caller builds
    (``TikhonovReg(opEye(nW), alpha[0])``); it is not used here.

    Parameters
    ----------
    nImg : (int, int)
        Image size ``(H, W)``; ``H`` and ``W`` must be divisible by ``2^(U-1)`` and the
        last level square.
    cin : int
        Input channels.
    nf : sequence of int
        Widths ``nf_0 .. nf_U`` (at least two entries).
    dynamic : {'parabolic', 'hamiltonian', 'leapfrog', 'resnet'}
    nt : int or sequence of int
        Time steps per PDE block (one value for all units or one per unit).
    h : float or sequence of float
        Step size per PDE block.
    normLayer : class or None
        Normalization of the opening and connector layers, called as
        ``normLayer((H, W, C), isWeight=True)`` (e.g. ``BatchNormLayer``,
        ``BatchNormLayer2``, ``InstNormLayer``; ``None``: no normalization).
    pdeNormLayer : class or None
        Normalization inside the symmetric layer (``TVNormLayer`` as Meganet.m's drivers,
        ``InstNormLayer`` as the paper; ``None``: none).
    alpha : (float, float, float)
        ``(alphaW, alphaTheta, alphaTime)``.
    eps : float
        Smoothing of the total variation in time.
    activation : callable
        Activation of all layers (ReLU).
    storeInterm : bool
        Let the PDE layers keep ``K Y`` for the backward sweep (more memory, less work).
    useGPU, precision :
        Backend of all elements and regularizers.

    Returns
    -------
    net : Meganet
        ``net.sizeFeatIn() == (H, W, cin)``, ``net.sizeFeatOut() == (1, 1, nf_U)``.
    pRegTheta : BlockReg
        Regularizer of ``theta`` (``net.nTheta()`` entries).

    Examples
    --------
    >>> import meganet as mg
    >>> net, pRegTheta = mg.pdeCNN((28, 28), 1, [8, 16, 32, 32], 'leapfrog', nt=2)
    >>> net.sizeFeatOut()
    (1, 1, 32)
    """
    useGPU = checkUseGPU(useGPU)
    precision = checkPrecision(precision)
    if dynamic not in PDE_DYNAMICS:
        raise ValueError(f"pdeCNN: unknown dynamic {dynamic!r}; choose one of {PDE_DYNAMICS}")
    try:
        nImg = tuple(int(v) for v in nImg)
    except TypeError as err:
        raise TypeError(f"pdeCNN: nImg must be (H, W); got {nImg!r}") from err
    if len(nImg) != 2 or min(nImg) < 1:
        raise ValueError(f"pdeCNN: nImg must be two positive integers (H, W); got {nImg}")
    nf = [int(v) for v in nf]
    if len(nf) < 2 or min(nf) < 1:
        raise ValueError(
            f"pdeCNN: nf must hold at least two positive widths (opening and one unit); got {nf}"
        )
    nUnits = len(nf) - 1
    nt = _perUnit("nt", nt, nUnits, int)
    h = _perUnit("h", h, nUnits, float)
    if len(alpha) != 3:
        raise ValueError(f"pdeCNN: alpha must be (alphaW, alphaTheta, alphaTime); got {alpha!r}")
    scale = 2 ** (nUnits - 1)
    if nImg[0] % scale or nImg[1] % scale:
        raise ValueError(
            f"pdeCNN: with {nUnits} units the image size {nImg} must be divisible by "
            f"2^{nUnits - 1} = {scale} (one 2x pooling between units)"
        )
    last = (nImg[0] // scale, nImg[1] // scale)
    if last[0] != last[1]:
        raise ValueError(f"pdeCNN: the last unit averages over square images; got {last}")
    if dynamic == "hamiltonian" and any(v % 2 for v in nf[:-1]):
        raise ValueError(
            f"pdeCNN: the Hamiltonian blocks split the channels in two halves; the "
            f"widths nf[:-1] must be even; got {nf}"
        )
    kw = dict(useGPU=useGPU, precision=precision)
    alphaTheta, alphaTime = float(alpha[1]), float(alpha[2])

    def norm(cls, n, c):
        return None if cls is None else cls((n[0], n[1], c), isWeight=True, **kw)

    def mask(kernels, norms, reps=1):
        """1 on the kernel weights, 0 on the norm-layer weights, per step (Meganet.m's regD)."""
        one = numpy.concatenate(
            [numpy.ones(k.nTheta()) for k in kernels]
            + [numpy.zeros(0 if n is None else n.nTheta()) for n in norms]
        )
        return numpy.tile(one, reps)

    def convBlock(nImgc, sK, cls):
        K = Conv2D(nImgc, sK, **kw)
        nL = norm(cls, nImgc, sK[3])
        layer = SingleLayer(K, activation=activation, normLayer=nL)
        return NN([layer], **kw), TikhonovReg(opDiag(mask([K], [nL]), **kw), alphaTheta, **kw)

    blocks, regs = [], []
    block, reg = convBlock(nImg, (3, 3, cin, nf[0]), normLayer)
    blocks.append(block)
    regs.append(reg)
    for k in range(nUnits):
        nImgc = (nImg[0] // 2**k, nImg[1] // 2**k)
        if dynamic == "hamiltonian":
            c = nf[k] // 2
            K = Conv2D(nImgc, (3, 3, c, c), **kw)
            nL = norm(pdeNormLayer, nImgc, c)
            layer = DoubleSymLayer(K, activation=activation, normLayer1=nL, storeInterm=storeInterm)
            block = DoubleHamiltonianNN(layer, layer, nt[k], h[k], **kw)
            regD = mask([K], [nL], 1)
            regD = numpy.tile(numpy.concatenate([regD, regD]), nt[k])
        elif dynamic == "resnet":
            K1 = Conv2D(nImgc, (3, 3, nf[k], nf[k]), **kw)
            K2 = Conv2D(nImgc, (3, 3, nf[k], nf[k]), **kw)
            nL1, nL2 = norm(normLayer, nImgc, nf[k]), norm(normLayer, nImgc, nf[k])
            layer = DoubleLayer(
                K1, K2, activation1=activation, activation2=activation, normLayer1=nL1, normLayer2=nL2
            )
            block = ResNN(layer, nt[k], h[k], **kw)
            regD = mask([K1, K2], [nL1, nL2], nt[k])
        else:
            K = Conv2D(nImgc, (3, 3, nf[k], nf[k]), **kw)
            nL = norm(pdeNormLayer, nImgc, nf[k])
            layer = DoubleSymLayer(K, activation=activation, normLayer1=nL, storeInterm=storeInterm)
            integrator = ResNN if dynamic == "parabolic" else LeapFrogNN
            block = integrator(layer, nt[k], h[k], **kw)
            regD = mask([K], [nL], nt[k])
        blocks.append(block)
        B2 = opDiag(regD, **kw)
        if alphaTime > 0 and nt[k] > 1:
            regs.append(
                L1Reg(opTimeDer(block.nTheta(), nt[k], h[k], **kw), (alphaTime, alphaTheta), B2=B2, eps=eps,
                      **kw)
            )
        else:
            regs.append(TikhonovReg(B2, alphaTheta, **kw))

        block, reg = convBlock(nImgc, (1, 1, nf[k], nf[k + 1]), normLayer)
        blocks.append(block)
        regs.append(reg)

        pool = 2 if k < nUnits - 1 else nImgc[0]
        blocks.append(Connector(opPool((nImgc[0], nImgc[1], nf[k + 1]), pool, **kw)))
        regs.append(None)
    net = Meganet(blocks, **kw)
    sizes = [b.nTheta() for b in blocks]
    return net, BlockReg(regs, sizes=sizes, **kw)


def initSoftmaxWeights(nClass, nFeat, rng=None, precision="single"):
    """Initial classifier weights as Meganet.m's drivers draw them.

    ``W = clip(0.1 randn(nClass, nFeat + 1), -0.2, 0.2)`` (the last column is the bias), as
    the flat C-order vector :class:`~meganet.loss.SoftmaxLoss` expects.

    Parameters
    ----------
    nClass, nFeat : int
        Classes and features (``prod(net.sizeFeatOut())``).
    rng : None, int or numpy.random.Generator
    precision : {'single', 'double'}

    Returns
    -------
    W : ndarray, shape ``(nClass * (nFeat + 1),)`` (host array)
    """
    precision = checkPrecision(precision)
    rng = numpy.random.default_rng(rng)
    W = numpy.clip(0.1 * rng.standard_normal((int(nClass), int(nFeat) + 1)), -0.2, 0.2)
    return W.reshape(-1).astype(numpy.float32 if precision == "single" else numpy.float64)
