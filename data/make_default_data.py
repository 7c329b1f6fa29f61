"""Regenerate the embedded default data: a class-balanced subset of Fashion-MNIST.

Usage (from the repository root, with meganet installed)::

    python data/make_default_data.py                      # full set found by meganet's search order
    python data/make_default_data.py --source /usr/share/datasets/fashion-mnist

The subset is deterministic (no random numbers): the first ``nTrain/10`` training images of
each class and the first ``nTest/10`` test images of each class, in the order of the full
files (which are already shuffled). The files are written in the IDX format of the full set,
gzip-compressed with a fixed header (no time stamp, no file name), so the same readers read
both. The SHA-256 of the uncompressed content is printed and checked against the values in
``data/README.md`` for the default sizes.
"""
import argparse
import gzip
import hashlib
import os
import struct
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))

#: SHA-256 of the uncompressed IDX files for the default sizes (12,000 / 2,000).
EXPECTED = {
    "train-images-idx3-ubyte":
        "ded9297f1d7b567047797bb831eb9cfd84010a483a4075cb9fc0465219002cb7",
    "train-labels-idx1-ubyte":
        "11a34fec6f816dbe22c806d6de7e130fa048759622a0e6f6da8feb272e09ee1d",
    "t10k-images-idx3-ubyte":
        "15a92dd1e9b16ea361928086e77df4dfa890c255c00b5a8c8162c1040ce8eef1",
    "t10k-labels-idx1-ubyte":
        "234596aeb6eb48133ec99a62541f90bc0728c9559a681f1e0638037462458f2c",
}


def firstPerClass(labels, perClass, nClasses=10):
    """Indices of the first ``perClass`` examples of each class, in file order."""
    keep = numpy.zeros(labels.size, dtype=bool)
    for k in range(nClasses):
        members = numpy.flatnonzero(labels == k)
        if members.size < perClass:
            raise SystemExit(f"class {k} has only {members.size} examples; {perClass} needed")
        keep[members[:perClass]] = True
    return numpy.flatnonzero(keep)


def idxBytes(array):
    """IDX encoding of a uint8 array (magic 0x0000 08 ndim, big-endian sizes, the values)."""
    array = numpy.ascontiguousarray(array, dtype=numpy.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def writeGzip(path, payload):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(payload)


def main(argv=None):
    import meganet as mg

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", help="folder with the full Fashion-MNIST IDX files (default: searched)")
    p.add_argument("--out", default=os.path.join(HERE, "fashion-mnist"), help="output folder")
    p.add_argument("--ntrain", type=int, default=12000, help="training images (multiple of 10)")
    p.add_argument("--ntest", type=int, default=2000, help="test images (multiple of 10)")
    args = p.parse_args(argv)
    if args.ntrain % 10 or args.ntest % 10:
        p.error("--ntrain and --ntest must be multiples of 10 (equally many per class)")
    info = mg.datasetFiles("fashion-mnist", data_dir=args.source, embedded=False)
    if info["embedded"] or os.path.abspath(info["folder"]) == os.path.abspath(args.out):
        p.error(f"the source {info['folder']} is the output folder; point --source at the full set")
    os.makedirs(args.out, exist_ok=True)
    default = (args.ntrain, args.ntest) == (12000, 2000)
    ok = True
    for part, n in (("train", args.ntrain), ("t10k", args.ntest)):
        role = "train" if part == "train" else "test"
        Y = mg.loadMNISTImages(info["files"][role + "Images"], raw=True)
        c = mg.loadMNISTLabels(info["files"][role + "Labels"])
        idx = firstPerClass(c, n // 10)
        for kind, data in (("images-idx3", Y[idx]), ("labels-idx1", c[idx].astype(numpy.uint8))):
            name = f"{part}-{kind}-ubyte"
            payload = idxBytes(data)
            writeGzip(os.path.join(args.out, name + ".gz"), payload)
            digest = hashlib.sha256(payload).hexdigest()
            size = os.path.getsize(os.path.join(args.out, name + ".gz"))
            status = ""
            if default and EXPECTED[name] is not None:
                match = digest == EXPECTED[name]
                ok &= match
                status = "  (matches data/README.md)" if match else "  (DIFFERS from data/README.md)"
            print(f"{name}.gz  {data.shape[0]:6d} examples  {size:9d} bytes  sha256 {digest}{status}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
