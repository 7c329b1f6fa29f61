"""``NN``: a sequence of layers (Meganet.m's ``NN``)."""
from ._chain import ChainBase

__all__ = ["NN"]


class NN(ChainBase):
    """Neural network block: the layers applied in order, ``Y_{k+1} = layer_k(theta_k, Y_k)``.

    ``theta = [theta_0; theta_1; ...]`` (the layers' weights in order). Each layer's
    ``sizeFeatIn()`` must equal the previous layer's ``sizeFeatOut()`` (checked at
    construction).

    Derivatives compose the layers' products (chain rule)::

        Jmv:   dY_{k+1} = J_k [dtheta_k; dY_k]
        JTmv:  P_n = W;  (g_k, P_k) = J_k^T P_{k+1}  for k = n-1 .. 0;
               dY = P_0,  dtheta = [g_0; g_1; ...]

    Memory: ``tmp`` is a list with, per layer, a :class:`.LayerStep` of its input and its
    ``tmp`` (Meganet.m's ``tmp{k,1}``, ``tmp{k,2}``). With ``tmp=None`` ``Jmv``
    recomputes the layers forwards along with the directions and ``JTmv`` runs the
    forward pass first. Two options trade memory for the speed of repeated products;
    neither changes any result.

    Parameters
    ----------
    layers : list of elements
    useGPU, precision : optional
        Default: the layers' (which must then agree); given values are pushed to all.
    storeInputs : {'needed', 'all'}, default 'needed'
        ``'needed'``: keep a layer's input only if its ``JTmv`` reads it (not for a
        :class:`.Connector` nor a reversible block); ``Jmv`` with ``tmp`` recomputes the
        missing inputs it needs by running the layers before them forwards. ``'all'``:
        keep every input (Meganet.m).
    keepTmp : bool, default False
        False: ``JTmv`` empties ``tmp`` record by record as its backward sweep consumes
        it, so that each input and intermediate is freed as soon as it has been used; a
        later product given that ``tmp`` runs the forward pass again. True: ``tmp`` stays
        intact for repeated products (Meganet.m).
    """

    _kind = "layer"

    def __init__(self, layers, useGPU=None, precision=None, storeInputs="needed", keepTmp=False):
        self._initChain(layers, useGPU, precision, "layers", storeInputs, keepTmp)

    ignoredMatlabOptions = {"nt": "the number of layers is len(layers)"}
