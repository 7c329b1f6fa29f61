"""The paper's STL-10 network, built in meganet and, with the same weights, in PyTorch.

Architecture (Ruthotto & Haber, section "Experiments"; Meganet.m's
``examples/EParabolic_STL10.m``, ``EHamiltonian_STL10.m``, ``ELeapfrog_STL10.m``):

* opening: 3 x 3 convolution ``3 -> nf[0]``, batch normalization (scale and shift; as
  Meganet.m's ``batchNormLayer``: statistics over the examples, per pixel and channel), ReLU;
* four units ``k = 0 .. 3`` on images of ``96 / 2^k`` pixels, each
    - a PDE block with ``nt`` steps of size ``h`` whose layer is the symmetric layer
      ``F(Y) = -K^T relu(N(K Y))`` (3 x 3 ``K``, ``N`` instance normalization with scale
      and shift; ``pdeNorm='tv'`` uses Meganet.m's drivers' ``tvNormLayer`` instead):
      ``ResNN`` (parabolic, ``nf[k]`` channels), ``DoubleHamiltonianNN`` (Hamiltonian, two
      layers on ``nf[k] / 2`` channels each) or ``LeapFrogNN`` (second order, ``nf[k]``);
    - a connector: 1 x 1 convolution ``nf[k] -> nf[k+1]``, batch normalization, ReLU;
    - 2 x 2 average pooling (the last unit: the average over all pixels);
* a linear classifier with bias and the softmax cross-entropy loss.

``storeInterm=True`` makes the symmetric layers keep their intermediates for the
derivatives (``DoubleSymLayer(storeInterm=True)``; memory for speed: the parabolic block's
JTmv then does not recompute the layers' forward passes). Meganet.m's drivers and the
default keep them not. ``storeInputs`` and ``keepTmp`` are the options of ``NN`` and
``Meganet`` (default: keep only the inputs JTmv reads and release them as JTmv consumes
them; ``storeInputs='all', keepTmp=True`` is Meganet.m's ``tmp``).

Channels ``nf = nf0 * (1, 2, 4, 8, 16)`` (parabolic) and ``nf0 * (1, 4, 8, 16, 16)``
(Hamiltonian, leapfrog), as Meganet.m's drivers; ``nf0 = 16`` gives the paper's widths.

The PyTorch model (NCHW) reads its weights from meganet's flat ``theta``, in meganet's
order, so that both compute the same function; :meth:`STL10Pair.torchGradient` returns
PyTorch's gradient in meganet's layout for the comparison.
"""
import numpy

import meganet as mg

WIDTHS = {"parabolic": (1, 2, 4, 8, 16), "hamiltonian": (1, 4, 8, 16, 16),
          "leapfrog": (1, 4, 8, 16, 16)}
DYNAMICS = tuple(WIDTHS)
NCLASS = 10


def convFlops(nImg, sK):
    """Multiply-adds times two of one application of a same-size convolution, per example."""
    return 2 * nImg[0] * nImg[1] * int(numpy.prod(sK))


class STL10Spec:
    """The layer sizes of the network, and the meganet network built from them.

    ``self.params`` lists the weights in meganet's order as ``(kind, shape)`` with kind
    ``'conv'`` (stencils ``(k1, k2, cin, cout)``) or ``'scale'``/``'shift'`` (``(C,)``);
    ``self.convs`` lists ``(nImg, sK, uses)``: every convolution weight and how many
    convolutions with it one forward pass computes.
    """

    def __init__(self, dynamics, nImg=(96, 96), cin=3, nf0=16, nt=3, h=1.0, pdeNorm="inst",
                 precision="single", storeInterm=False, storeInputs="needed", keepTmp=False):
        if dynamics not in WIDTHS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}; got {dynamics!r}")
        if pdeNorm not in ("inst", "tv", None):
            raise ValueError(f"pdeNorm must be 'inst', 'tv' or None; got {pdeNorm!r}")
        self.dynamics, self.nImg, self.cin, self.nt, self.h = dynamics, tuple(nImg), cin, nt, h
        self.pdeNorm, self.precision, self.storeInterm = pdeNorm, precision, storeInterm
        self.chainOptions = {"storeInputs": storeInputs, "keepTmp": keepTmp}
        self.nf = tuple(nf0 * m for m in WIDTHS[dynamics])
        self.params, self.convs = [], []
        self.net = self._build()
        n = sum(int(numpy.prod(s)) for _, s in self.params)
        if n != self.net.nTheta():
            raise RuntimeError(f"weight layout of {n} entries does not match nTheta={self.net.nTheta()}")

    # ------------------------------------------------------------------ meganet
    def _conv(self, nImg, sK, uses):
        self.params.append(("conv", sK))
        self.convs.append((nImg, sK, uses))
        return mg.Conv2D(nImg, sK, precision=self.precision)

    def _scaleShift(self, C):
        self.params += [("scale", (C,)), ("shift", (C,))]

    def _singleLayer(self, nImg, sK):
        K = self._conv(nImg, sK, 1)
        self._scaleShift(sK[3])
        nL = mg.BatchNormLayer(nImg + (sK[3],), isWeight=True, precision=self.precision)
        return mg.NN([mg.SingleLayer(K, activation=mg.reluActivation, normLayer=nL)], **self.chainOptions)

    def _symLayer(self, nImg, c, uses):
        K = self._conv(nImg, (3, 3, c, c), uses)
        nL = None
        if self.pdeNorm is not None:
            self._scaleShift(c)
            Norm = mg.InstNormLayer if self.pdeNorm == "inst" else mg.TVNormLayer
            nL = Norm(nImg + (c,), isWeight=True, precision=self.precision)
        return mg.DoubleSymLayer(K, activation=mg.reluActivation, normLayer1=nL,
                                 storeInterm=self.storeInterm)

    def _pdeBlock(self, nImg, c):
        start = len(self.params)
        if self.dynamics == "hamiltonian":
            layer = self._symLayer(nImg, c // 2, 2 * self.nt)      # K and K^T per step
            self._symLayer(nImg, c // 2, 2 * self.nt)              # layout of the second layer
            self.params[start:] = self.params[start:] * self.nt
            return mg.DoubleHamiltonianNN(layer, layer, self.nt, self.h)
        layer = self._symLayer(nImg, c, 2 * self.nt)
        self.params[start:] = self.params[start:] * self.nt
        if self.dynamics == "parabolic":
            return mg.ResNN(layer, self.nt, self.h)
        return mg.LeapFrogNN(layer, self.nt, self.h)

    def _build(self):
        nf, nImg = self.nf, self.nImg
        blocks = [self._singleLayer(nImg, (3, 3, self.cin, nf[0]))]
        for k in range(4):
            nImgc = (nImg[0] >> k, nImg[1] >> k)
            blocks.append(self._pdeBlock(nImgc, nf[k]))
            blocks.append(self._singleLayer(nImgc, (1, 1, nf[k], nf[k + 1])))
            pool = 2 if k < 3 else nImgc[0]
            blocks.append(mg.Connector(mg.opPool(nImgc + (nf[k + 1],), pool,
                                                 precision=self.precision)))
        return mg.Meganet(blocks, precision=self.precision, **self.chainOptions)

    def forwardFlops(self, N):
        """Convolution FLOPs of one forward pass over ``N`` examples."""
        return N * sum(u * convFlops(n, s) for n, s, u in self.convs)

    def nFeatOut(self):
        return int(numpy.prod(self.net.sizeFeatOut()))

    def initWeights(self, seed=0):
        """``(theta, W)``: meganet's initial weights and the classifier ``(NCLASS (nFeat + 1),)``."""
        rng = numpy.random.default_rng(seed)
        theta = self.net.initTheta(rng=rng)
        W = numpy.clip(0.1 * rng.standard_normal(NCLASS * (self.nFeatOut() + 1)), -0.2, 0.2)
        return theta, mg.asArray(W, precision=self.precision)

    def data(self, N, seed=1):
        """``(Y, labels)``: random images ``(N, H, W, cin)`` and class indices ``(N,)``."""
        rng = numpy.random.default_rng(seed)
        Y = mg.asArray(rng.standard_normal((N,) + self.nImg + (self.cin,)), precision=self.precision)
        return Y, rng.integers(0, NCLASS, N)

    def meganetStep(self, theta, W, Y, labels):
        """One training step: ``(loss, dtheta, dW)`` (forward, softmax loss, all weight gradients)."""
        C = numpy.zeros((Y.shape[0], NCLASS), dtype=Y.dtype)
        C[numpy.arange(Y.shape[0]), labels] = 1
        loss = mg.SoftmaxLoss()

        def step():
            YN, tmp = self.net.forwardProp(theta, Y)
            F, _, dWF, _, dYF, _ = loss.getMisfit(W, YN.reshape(YN.shape[0], -1), C)
            dth = self.net.JTmv(dYF.reshape(YN.shape), theta, Y, tmp, doDerivative=(True, False))[0]
            return float(F), dth, dWF
        return step

    # ------------------------------------------------------------------ PyTorch
    def torchModel(self, torch, theta, W=None):
        """``(params, forward)``: PyTorch leaf tensors from ``theta``/``W`` and the NCHW forward map."""
        return TorchSTL10(self, torch, theta, W)


class PDEUnitSpec(STL10Spec):
    """One PDE block of the network alone: ``channels`` features of size ``nImg``.

    The Hamiltonian block splits the channels in two halves (a layer on ``channels / 2``
    each); ``pdeNorm=None`` leaves the normalization out of the symmetric layer.
    """

    def __init__(self, dynamics, nImg=(48, 48), channels=64, nt=3, h=1.0, pdeNorm=None,
                 precision="single", storeInterm=False):
        self.channels = channels
        super().__init__(dynamics, nImg=nImg, cin=channels, nt=nt, h=h, pdeNorm=pdeNorm,
                         precision=precision, storeInterm=storeInterm)

    def _build(self):
        return self._pdeBlock(self.nImg, self.channels)

    def data(self, N, seed=1):
        """``(Y, W)``: random input features and output weights of the sum ``<W, block(Y)>``."""
        rng = numpy.random.default_rng(seed)
        shape = (N,) + self.nImg + (self.channels,)
        return (mg.asArray(rng.standard_normal(shape), precision=self.precision),
                mg.asArray(rng.standard_normal(shape), precision=self.precision))

    def meganetStep(self, theta, Y, W):
        """Forward pass and the full gradient of ``<W, block(Y)>``: ``(dtheta, dY)``."""
        def step():
            Z, tmp = self.net.forwardProp(theta, Y)
            return self.net.JTmv(W, theta, Y, tmp)
        return step


class TorchSTL10:
    """The same network in PyTorch (NCHW), with leaf tensors copied from meganet's weights."""

    def __init__(self, spec, torch, theta, W=None):
        self.spec, self.torch = spec, torch
        dtype = torch.float32 if spec.precision == "single" else torch.float64
        self.params = []
        pos = 0
        th = numpy.asarray(mg.toHost(theta))
        for kind, shape in spec.params:
            n = int(numpy.prod(shape))
            v = th[pos:pos + n].reshape(shape)
            pos += n
            if kind == "conv":
                v = v.transpose(3, 2, 0, 1)                # (cout, cin, k1, k2)
            self.params.append(torch.tensor(numpy.ascontiguousarray(v), dtype=dtype, requires_grad=True))
        self.dtype = dtype
        if W is None:           # a PDE unit alone, without classifier
            return
        Wm = numpy.asarray(mg.toHost(W)).reshape(NCLASS, -1)
        self.Wc = torch.tensor(numpy.ascontiguousarray(Wm[:, :-1]), dtype=dtype, requires_grad=True)
        self.bc = torch.tensor(numpy.ascontiguousarray(Wm[:, -1]), dtype=dtype, requires_grad=True)

    def leaves(self):
        return self.params + [self.Wc, self.bc]

    def input(self, Y, labels):
        return self.nchw(Y), self.torch.as_tensor(numpy.asarray(labels), dtype=self.torch.long)

    def _symLayer(self, x, it):
        F = self.torch.nn.functional
        K = next(it)
        u = F.conv2d(x, K, padding=1)
        if self.spec.pdeNorm is None:
            return -F.conv_transpose2d(F.relu(u), K, padding=1)
        s, b = next(it), next(it)
        if self.spec.pdeNorm == "inst":
            v = F.instance_norm(u, weight=s, bias=b, eps=1e-4)
        else:
            den = self.torch.rsqrt((u * u).sum(dim=1, keepdim=True) + 1e-4)
            v = u * den * s[:, None, None] + b[:, None, None]
        return -F.conv_transpose2d(F.relu(v), K, padding=1)

    def _singleLayer(self, x, it):
        F = self.torch.nn.functional
        K, s, b = next(it), next(it), next(it)
        u = F.conv2d(x, K, padding=(K.shape[2] - 1) // 2)
        # meganet's (and Meganet.m's) batch normalization: statistics over the examples,
        # per pixel and channel
        m = u.mean(dim=0, keepdim=True)
        f = u - m
        v = f * self.torch.rsqrt((f * f).mean(dim=0, keepdim=True) + 1e-4)
        return F.relu(v * s[:, None, None] + b[:, None, None])

    def _pdeBlock(self, x, it):
        spec, h = self.spec, self.spec.h
        if spec.dynamics == "parabolic":
            for _ in range(spec.nt):
                x = x + h * self._symLayer(x, it)
            return x
        if spec.dynamics == "leapfrog":
            xold = x
            for _ in range(spec.nt):
                x, xold = 2 * x - xold + h * h * self._symLayer(x, it), x
            return x
        c = x.shape[1] // 2
        y, z = x[:, :c], x[:, c:]
        for _ in range(spec.nt):
            y = y + h * self._symLayer(z, it)
            z = z - h * self._symLayer(y, it)
        return self.torch.cat([y, z], dim=1)

    def nchw(self, Y, requiresGrad=False):
        """NHWC meganet features as an NCHW tensor."""
        return self.torch.tensor(numpy.ascontiguousarray(numpy.asarray(mg.toHost(Y)).transpose(0, 3, 1, 2)),
                                 dtype=self.dtype, requires_grad=requiresGrad)

    def unitStep(self, x, w):
        """Forward pass of the PDE block and the gradient of ``<w, block(x)>`` (into ``.grad``)."""
        for p in self.params + [x]:
            p.grad = None
        (self._pdeBlock(x, iter(self.params)) * w).sum().backward()

    def unitGradient(self, x):
        """``(dtheta, dY)`` of :meth:`unitStep` in meganet's layout."""
        return self._thetaGradient(), x.grad.numpy().transpose(0, 2, 3, 1)

    def scores(self, x):
        F = self.torch.nn.functional
        it = iter(self.params)
        x = self._singleLayer(x, it)
        for k in range(4):
            x = self._pdeBlock(x, it)
            x = self._singleLayer(x, it)
            x = F.avg_pool2d(x, 2) if k < 3 else x.mean(dim=(2, 3))
        return x.reshape(x.shape[0], -1) @ self.Wc.T + self.bc

    def step(self, x, labels):
        """One training step; returns the loss (gradients in the leaves' ``.grad``)."""
        for p in self.leaves():
            p.grad = None
        loss = self.torch.nn.functional.cross_entropy(self.scores(x), labels)
        loss.backward()
        return loss

    def _thetaGradient(self):
        parts = []
        for (kind, _), p in zip(self.spec.params, self.params):
            g = p.grad.detach().numpy()
            parts.append((g.transpose(2, 3, 1, 0) if kind == "conv" else g).reshape(-1))
        return numpy.concatenate(parts)

    def gradient(self):
        """``(dtheta, dW)`` from the leaves' ``.grad``, in meganet's layout."""
        dW = numpy.concatenate([self.Wc.grad.numpy(), self.bc.grad.numpy()[:, None]], axis=1)
        return self._thetaGradient(), dW.reshape(-1)
