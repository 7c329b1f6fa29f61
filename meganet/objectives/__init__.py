"""Objective functions for training networks (Meganet.m's top-level objectives)."""
from .dnnObjFctn import DnnObjFctn
from .dnnBatchObjFctn import DnnBatchObjFctn
from .dnnVarProObjFctn import DnnVarProObjFctn
from .classObjFctn import ClassObjFctn
from .mpiLaunch import mpiexecCommand, runMPI, startedByMPI
from .mpiObjFctn import MPIObjFctn, isWritingRank, wrapMPI

__all__ = ["DnnObjFctn", "DnnBatchObjFctn", "DnnVarProObjFctn", "ClassObjFctn", "MPIObjFctn",
           "wrapMPI", "isWritingRank", "startedByMPI", "mpiexecCommand", "runMPI"]
