"""The training engine: fit / evaluate / predict, History, callbacks, population optimizers."""

from reglab.train.callback import Callback
from reglab.train.checkpoint import ModelCheckpoint
from reglab.train.cross_validation import CrossValidation, cross_validate
from reglab.train.early_stopping import EarlyStopping
from reglab.train.engine import fit, train_population
from reglab.train.history import History
from reglab.train.predicting import evaluate, predict
from reglab.train.swa import SWA

__all__ = [
    "SWA",
    "Callback",
    "CrossValidation",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "cross_validate",
    "evaluate",
    "fit",
    "predict",
    "train_population",
]
