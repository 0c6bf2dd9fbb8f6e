"""Layers and models: penalties, dropout, DropConnect, batch norm, the population MLP."""

from reglab.nn.batchnorm import BatchNormConfig, stacked_batch_norm
from reglab.nn.dropconnect import DropConnect, dropconnect_linear
from reglab.nn.dropout import Dropout, dropout
from reglab.nn.heads import Head
from reglab.nn.mlp import ACTIVATIONS, MLP, mlp
from reglab.nn.module import ModuleModel
from reglab.nn.penalties import L1, L2, ElasticNet, Penalty
from reglab.nn.population import PopulationModel

__all__ = [
    "ACTIVATIONS",
    "L1",
    "L2",
    "MLP",
    "BatchNormConfig",
    "DropConnect",
    "Dropout",
    "ElasticNet",
    "Head",
    "ModuleModel",
    "Penalty",
    "PopulationModel",
    "dropconnect_linear",
    "dropout",
    "mlp",
    "stacked_batch_norm",
]
