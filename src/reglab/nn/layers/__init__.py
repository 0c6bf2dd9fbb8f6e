"""Population layers, one file each, named as Keras names them (see :mod:`.base`)."""

from reglab.nn.layers.activation import Activation
from reglab.nn.layers.base import LAYER_TYPES, Layer, Pass, layer_type
from reglab.nn.layers.batchnorm import BatchNorm
from reglab.nn.layers.conv import Conv2D
from reglab.nn.layers.dense import Dense
from reglab.nn.layers.dropconnect import DropConnect
from reglab.nn.layers.dropout import Dropout, SpatialDropout2D
from reglab.nn.layers.flatten import Flatten
from reglab.nn.layers.gaussian_dropout import GaussianDropout
from reglab.nn.layers.noise import GaussianNoise
from reglab.nn.layers.pooling import AveragePooling2D, MaxPool2D

__all__ = [
    "LAYER_TYPES",
    "Activation",
    "AveragePooling2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "DropConnect",
    "Dropout",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "Layer",
    "MaxPool2D",
    "Pass",
    "SpatialDropout2D",
    "layer_type",
]
