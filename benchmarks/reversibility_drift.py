"""Single-precision drift of the reversible blocks' backward reconstruction and gradients.

For ``HamiltonianNN``, ``DoubleHamiltonianNN`` and ``LeapFrogNN`` on small image features
(``N x H x W x C`` = ``4 x 8 x 8 x 8`` by default, 3 x 3 ``Conv2D``; the layers are
``DoubleSymLayer(relu, opCNNBias, TVNormLayer)``, HamiltonianNN uses tanh and a
per-channel bias) and ``nt = 4, 16, 64``, the script prints

* ``recon``: ``||inverse(forwardProp(Y0)) - Y0|| / ||Y0||``, all in float32 (the states
  that ``JTmv`` recomputes backwards carry this error);
* ``dth rev`` / ``dY rev``: relative error of the float32 gradient of the block
  (``JTmv`` with backward recomputation, as implemented) against a float64 gradient
  computed with stored states (a reference implementation in this script that keeps every
  forward state and runs the same adjoint recursions on them);
* ``dth sto`` / ``dY sto``: the same for a float32 stored-state gradient, i.e. the error
  due to single precision alone, for comparison;
* ``rev64``: float64 recomputing ``JTmv`` vs float64 stored states (a consistency check).

Two settings: fixed final time ``T = nt h`` (``--T``, default 2) and fixed step size
(``--h``, default 0.25, so the final time grows with ``nt``).

Usage::

    python benchmarks/reversibility_drift.py [--nt 4 16 64] [--T 2] [--h 0.25]
                                             [--N 4] [--img 8] [--channels 8]
"""
import argparse
import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import meganet as mg  # noqa: E402


def symLayer(nImg, c, precision):
    K = mg.Conv2D(nImg, (3, 3, c, c), precision=precision)
    return mg.DoubleSymLayer(K, activation=mg.reluActivation, Bin=mg.opCNNBias(nImg + (c,)),
                             normLayer1=mg.TVNormLayer(nImg + (c,), isWeight=True, precision=precision),
                             precision=precision)


def makeBlock(name, nImg, c, nt, h, precision):
    if name == "HamiltonianNN":
        K = mg.Conv2D(nImg, (3, 3, c, c), precision=precision)
        return mg.HamiltonianNN(mg.tanhActivation, K, mg.opCNNBias(nImg + (c,)), nt, h)
    if name == "DoubleHamiltonianNN":
        return mg.DoubleHamiltonianNN(symLayer(nImg, c // 2, precision),
                                      symLayer(nImg, c // 2, precision), nt, h)
    if name == "LeapFrogNN":
        return mg.LeapFrogNN(symLayer(nImg, c, precision), nt, h)
    raise ValueError(name)


# ------------------------------------------------------------------ stored-state references
def storedHamiltonian(net, th, Y0, W):
    K, B, act, h = net.K, net.B, net.activation, net.h
    thK, thb = net.split(th)
    thK = [numpy.ascontiguousarray(t) for t in thK]
    c = [B.Amv(numpy.ascontiguousarray(t)) for t in thb]
    Ys, Zs = [Y0], [numpy.zeros_like(Y0)]
    for j in range(net.nt):
        Zs.append(Zs[-1] - h * act(K.ATmv(thK[j], Ys[-1]) + c[j])[0])
        Ys.append(Ys[-1] + h * act(K.Amv(thK[j], Zs[-1]) + c[j])[0])
    WY, WZ = W, numpy.zeros_like(W)
    G = []
    for j in range(net.nt - 1, -1, -1):
        _, s2 = act(K.Amv(thK[j], Zs[j + 1]) + c[j])
        S1 = s2 * WY
        WZ = WZ + h * K.ATmv(thK[j], S1)
        _, s1 = act(K.ATmv(thK[j], Ys[j]) + c[j])
        S2 = s1 * WZ
        gK = h * (K.JthetaTmv(S1, thK[j], Zs[j + 1]) - K.JthetaTmv(Ys[j], thK[j], S2))
        gb = h * (B.ATmv(S1) - B.ATmv(S2))
        G.insert(0, numpy.concatenate([gK, gb.reshape(-1)]))
        WY = WY - h * K.Amv(thK[j], S2)
    return numpy.concatenate(G), WY


def storedDoubleHamiltonian(net, th, X0, W):
    L1, L2, h = net.layer1, net.layer2, net.h
    th1, th2 = (numpy.ascontiguousarray(t) for t in net.split(th))
    Y, Z = (numpy.ascontiguousarray(v) for v in net.splitData(X0))
    Zin, Yin = [], []
    for j in range(net.nt):
        Zin.append(Z)
        Y = Y + h * L1.forwardProp(th1[j], Z)[0]
        Yin.append(Y)
        Z = Z - h * L2.forwardProp(th2[j], Y)[0]
    WY, WZ = (numpy.ascontiguousarray(v) for v in net.splitData(W))
    G = []
    for j in range(net.nt - 1, -1, -1):
        g2, dWY = L2.JTmv(WZ, th2[j], Yin[j])
        WY = WY - h * dWY
        g1, dWZ = L1.JTmv(WY, th1[j], Zin[j])
        WZ = WZ + h * dWZ
        G.insert(0, numpy.concatenate([h * g1, -h * g2]))
    return numpy.concatenate(G), net.unsplitData(WY, WZ)


def storedLeapFrog(net, th, Y0, W):
    L, h2 = net.layer, net.h ** 2
    T = net.split(th)
    Ys = [Y0, Y0]  # Ys[k + 1] = Y_k, Ys[0] = Y_{-1}
    for j in range(net.nt):
        Ys.append(2 * Ys[-1] - Ys[-2] + h2 * L.forwardProp(T[j], Ys[-1])[0])
    P1, P2 = W, numpy.zeros_like(W)
    G = []
    for j in range(net.nt - 1, -1, -1):
        g, dW = L.JTmv(P1, T[j], Ys[j + 1])
        G.insert(0, h2 * g)
        P0 = (2 * P1 if j > 0 else P1) - P2 + h2 * dW
        P1, P2 = P0, P1
    return numpy.concatenate(G), P1


STORED = {"HamiltonianNN": storedHamiltonian, "DoubleHamiltonianNN": storedDoubleHamiltonian,
          "LeapFrogNN": storedLeapFrog}


def relErr(a, b):
    a = numpy.asarray(a, dtype=numpy.float64)
    b = numpy.asarray(b, dtype=numpy.float64)
    return float(numpy.linalg.norm(a - b) / numpy.linalg.norm(b))


def measure(name, nImg, c, N, nt, h, seed=0):
    rng = numpy.random.default_rng(seed)
    n64 = makeBlock(name, nImg, c, nt, h, "double")
    n32 = makeBlock(name, nImg, c, nt, h, "single")
    th = n64.initTheta(rng=rng)
    th = th + 0.05 * rng.standard_normal(th.shape)
    Y0 = rng.standard_normal((N,) + n64.sizeFeatIn())
    W = rng.standard_normal((N,) + n64.sizeFeatOut())
    th32, Y32, W32 = (v.astype(numpy.float32) for v in (th, Y0, W))
    # reconstruction in float32
    Z32, tmp32 = n32.forwardProp(th32, Y32)
    Yb = n32.inverse(th32, tmp32) if name == "DoubleHamiltonianNN" else n32.inverse(th32, *tmp32)
    if name == "HamiltonianNN":
        Yb = Yb[0]
    recon = relErr(Yb, Y32)
    # gradients
    refTh, refY = STORED[name](n64, th, Y0, W)
    dth32, dY32 = n32.JTmv(W32, th32, Y32, tmp32)
    sth32, sY32 = STORED[name](n32, th32, Y32, W32)
    dth64, dY64 = n64.JTmv(W, th, Y0, n64.forwardProp(th, Y0)[1])
    return dict(recon=recon, dthRev=relErr(dth32, refTh), dthSto=relErr(sth32, refTh),
                dYRev=relErr(dY32, refY), dYSto=relErr(sY32, refY),
                rev64=max(relErr(dth64, refTh), relErr(dY64, refY)),
                growth=float(numpy.linalg.norm(Z32) / numpy.linalg.norm(Y32)))


def table(title, rows):
    print(title)
    hdr = (f"{'block':<21}{'nt':>4}{'h':>8}{'|YN|/|Y0|':>10}{'recon':>10}{'dth rev':>10}{'dth sto':>10}"
           f"{'dY rev':>10}{'dY sto':>10}{'rev64':>10}")
    print(hdr)
    for name, nt, h, r in rows:
        print(f"{name:<21}{nt:>4}{h:>8.4f}{r['growth']:>10.2f}{r['recon']:>10.1e}{r['dthRev']:>10.1e}"
              f"{r['dthSto']:>10.1e}{r['dYRev']:>10.1e}{r['dYSto']:>10.1e}{r['rev64']:>10.1e}")
    print()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nt", type=int, nargs="+", default=[4, 16, 64])
    p.add_argument("--T", type=float, default=2.0)
    p.add_argument("--h", type=float, default=0.25)
    p.add_argument("--N", type=int, default=4)
    p.add_argument("--img", type=int, default=8)
    p.add_argument("--channels", type=int, default=8)
    a = p.parse_args(argv)
    nImg = (a.img, a.img)
    names = ["HamiltonianNN", "DoubleHamiltonianNN", "LeapFrogNN"]
    print(f"features {a.N} x {a.img}x{a.img}x{a.channels}; relative errors (2-norm) of float32 "
          "results against float64 stored-state results\n")
    for title, hOf in ((f"fixed final time T = nt h = {a.T:g}", lambda nt: a.T / nt),
                       (f"fixed step h = {a.h:g} (T = nt h grows)", lambda nt: a.h)):
        rows = [(name, nt, hOf(nt), measure(name, nImg, a.channels, a.N, nt, hOf(nt)))
                for name in names for nt in a.nt]
        table(title, rows)


if __name__ == "__main__":
    main()
