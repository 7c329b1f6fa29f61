"""Matrix-free linear operators (Meganet.m's matrixFree).

Every operator is a :class:`LinearOperator` with tensor-shaped domain ``n`` and range
``m``. The structured operators (``opEye``, ``opDiag``, ``opTimeDer``, ``opGrad``,
``opPool``, ``opKron``, ``opMask``, ``opRemoveAvg``, ``opBlkdiag``, ``opHcat``) act on the
backend and precision of their input and accept, besides inputs of shape ``n``, flat
inputs and (where documented) a leading example axis; see
:mod:`meganet.linops._tensorOperator` for the shape rules.
"""
from .linearOperator import LinearOperator
from .opBlkdiag import blkdiag, hcat, opBlkdiag, opHcat
from .opCNNBias import opCNNBias
from .opDiag import opDiag
from .opEye import opEye
from .opGrad import opGrad
from .opKron import opKron
from .opMask import opMask
from .opPool import opPool
from .opRemoveAvg import opRemoveAvg
from .opTimeDer import opTimeDer

__all__ = ["LinearOperator", "opCNNBias", "opEye", "opDiag", "opTimeDer", "opGrad", "opPool",
           "opKron", "opMask", "opRemoveAvg", "opBlkdiag", "blkdiag", "opHcat", "hcat"]
