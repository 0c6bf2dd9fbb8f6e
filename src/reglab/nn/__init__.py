"""Layers and models: penalties, population layers, Sequential, the MLP shorthand, user modules."""

from reglab.nn.activations import ACTIVATIONS
from reglab.nn.batchnorm import BatchNormConfig, stacked_batch_norm
from reglab.nn.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from reglab.nn.dropconnect import dropconnect_linear
from reglab.nn.dropout import dropout
from reglab.nn.heads import Head
from reglab.nn.layers import (
    Activation,
    AveragePooling2D,
    BatchNorm,
    Conv2D,
    Dense,
    DropConnect,
    Dropout,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    Layer,
    MaxPool2D,
    SpatialDropout2D,
)
from reglab.nn.mlp import MLP, mlp
from reglab.nn.module import ModuleModel, member
from reglab.nn.penalties import L1, L2, ElasticNet, Penalty
from reglab.nn.population import PopulationModel
from reglab.nn.sequential import CHUNK_BYTES, Sequential

__all__ = [
    "ACTIVATIONS",
    "CHUNK_BYTES",
    "L1",
    "L2",
    "MLP",
    "Activation",
    "AveragePooling2D",
    "BatchNorm",
    "BatchNormConfig",
    "Constraint",
    "Conv2D",
    "Dense",
    "DropConnect",
    "Dropout",
    "ElasticNet",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "Head",
    "Layer",
    "MaxNorm",
    "MaxPool2D",
    "MinMaxNorm",
    "ModuleModel",
    "NonNeg",
    "Penalty",
    "PopulationModel",
    "Sequential",
    "SpatialDropout2D",
    "UnitNorm",
    "dropconnect_linear",
    "dropout",
    "member",
    "mlp",
    "stacked_batch_norm",
]
