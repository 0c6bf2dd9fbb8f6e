"""The training engine: fit / evaluate / predict, History, callbacks, population optimizers."""

from reglab.train.callback import Callback
from reglab.train.checkpoint import ModelCheckpoint
from reglab.train.cross_validation import CrossValidation, cross_validate
from reglab.train.csv_logger import CSVLogger
from reglab.train.early_stopping import EarlyStopping
from reglab.train.engine import fit, train_population
from reglab.train.history import History
from reglab.train.lr_schedules import CosineDecay, ExponentialDecay, LearningRateSchedule, StepDecay
from reglab.train.member_view import MemberView
from reglab.train.predicting import evaluate, predict
from reglab.train.reduce_lr import ReduceLROnPlateau
from reglab.train.swa import SWA

__all__ = [
    "SWA",
    "CSVLogger",
    "Callback",
    "CosineDecay",
    "CrossValidation",
    "EarlyStopping",
    "ExponentialDecay",
    "History",
    "LearningRateSchedule",
    "MemberView",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "StepDecay",
    "cross_validate",
    "evaluate",
    "fit",
    "predict",
    "train_population",
]
