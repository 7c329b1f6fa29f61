"""``Meganet``: a network as a sequence of blocks (Meganet.m's ``Meganet``)."""
import numpy

from ._chain import ChainBase

__all__ = ["Meganet"]


class Meganet(ChainBase):
    """A network: blocks (NN, ResNN, Connector, ...) applied in order.

    ``theta = [theta_0; theta_1; ...]`` (the blocks' weights in order); each block's
    ``sizeFeatIn()`` must equal the previous block's ``sizeFeatOut()``. ``tmp`` holds,
    per block, a :class:`.LayerStep` ``(input of the block, block tmp)``; the derivative
    products compose the blocks' ones as :class:`NN` composes layers, so a reversible
    block keeps its small ``tmp`` inside the network's. With ``tmp=None`` ``JTmv`` runs
    the forward pass first.

    Memory of the training sweep (``forwardProp`` + ``JTmv``; see :class:`NN` for the
    options, which do not change any result): by default the input of a block whose
    ``JTmv`` does not read it is not kept (None in ``tmp``): a :class:`.Connector`
    (pooling, ...) and a reversible block (``DoubleHamiltonianNN``, ``LeapFrogNN``,
    ``HamiltonianNN``, which recompute their states from their output); and ``JTmv``
    releases every block's record as soon as it has been used. The sweep then holds the
    network's input, the inputs of the other blocks and the reversible blocks' final
    states, and each of them only until the backward sweep has passed its block.

    Parameters
    ----------
    blocks : list of elements
    useGPU, precision : optional
        Default: the blocks' (which must then agree); given values are pushed to all.
    storeInputs : {'needed', 'all'}, default 'needed'
        ``'needed'``: keep a block's input only if its ``JTmv`` reads it (``Jmv`` with
        ``tmp`` recomputes the others by running the blocks before them forwards);
        ``'all'``: keep every input (Meganet.m).
    keepTmp : bool, default False
        False: ``JTmv`` empties ``tmp`` (a list) as it consumes it, and a later product
        with that ``tmp`` runs the forward pass again; True: ``tmp`` stays intact
        (Meganet.m). ``storeInputs='all', keepTmp=True`` is the fastest for repeated
        products with one ``tmp`` (Jacobian operators, Gauss-Newton), at the price of
        memory. Nested ``NN`` blocks have their own options.
    """

    _kind = "block"

    def __init__(self, blocks, useGPU=None, precision=None, storeInputs="needed", keepTmp=False):
        self._initChain(blocks, useGPU, precision, "blocks", storeInputs, keepTmp)

    def getBlockIndices(self):
        """Host integer array of length ``nTheta``: the block (0-based) owning each weight."""
        return numpy.concatenate([numpy.full(b.nTheta(), k, dtype=numpy.int64)
                                  for k, b in enumerate(self.blocks)])

    def forwardPropBatch(self, theta, Y, batchSize=None):
        """Forward propagation in chunks of ``batchSize`` examples (to limit memory).

        Returns the output ``(N, *sizeFeatOut())`` without ``tmp`` (``doDerivative=False``,
        e.g. running statistics of ``BatchNormLayer2``). ``batchSize=None``: one chunk.
        """
        N = Y.shape[0]
        if batchSize is None or batchSize >= N:
            return self.forwardProp(theta, Y, doDerivative=False)[0]
        if int(batchSize) < 1:
            raise ValueError(f"Meganet.forwardPropBatch: batchSize must be >= 1 or None; got {batchSize!r}")
        bs = int(batchSize)
        out = [self.forwardProp(theta, Y[i:i + bs], doDerivative=False)[0] for i in range(0, N, bs)]
        return self.xp.concatenate(out, axis=0)

    ignoredMatlabOptions = {"nBlocks": "the number of blocks is len(blocks)"}
