"""Shared pieces of the kernel-based layers: weight splitting and size checks.

The bias helpers live in :mod:`meganet.linops.bias`.
"""
__all__ = []


def checkNormLayer(normLayer, featShape, owner, name, where):
    """A normalization layer must act on the features it is applied to."""
    if normLayer is None:
        return
    if tuple(normLayer.sizeFeatIn()) != tuple(featShape):
        raise ValueError(f"{owner}: {name}.sizeFeatIn() must equal the {where} {tuple(featShape)}; "
                         f"got {tuple(normLayer.sizeFeatIn())}")


def splitTheta(theta, sizes):
    """Consecutive views of ``theta`` with the given sizes."""
    out, start = [], 0
    for n in sizes:
        out.append(theta[start:start + n])
        start += n
    return tuple(out)
