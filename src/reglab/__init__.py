"""reglab: train neural networks and study overfitting and regularization.

The few names most users need, re-exported from the layers that define them::

    import reglab
    data = reglab.load_dataset("digits")
    model = reglab.mlp([64], dropout=0.5, kernel_regularizer=reglab.L2(1e-3))
    history = reglab.fit(model, data.x_train, data.y_train, epochs=20,
                         validation_data=(data.x_test, data.y_test))
"""

from reglab._version import __version__
from reglab.data import (
    Augment,
    Dataset,
    MultiHot,
    Standardizer,
    Task,
    infer_task,
    load_dataset,
    multi_hot,
    scale_images,
    to_categorical,
)
from reglab.errors import DataError, ReglabError
from reglab.nn import (
    L1,
    L2,
    MLP,
    Activation,
    AveragePooling2D,
    BatchNorm,
    BatchNormConfig,
    Conv2D,
    Dense,
    DropConnect,
    Dropout,
    ElasticNet,
    Flatten,
    GaussianNoise,
    MaxPool2D,
    ModuleModel,
    Penalty,
    Sequential,
    SpatialDropout2D,
    member,
    mlp,
)
from reglab.train import (
    Callback,
    CrossValidation,
    EarlyStopping,
    History,
    ModelCheckpoint,
    cross_validate,
    evaluate,
    fit,
    predict,
)
from reglab.train.retrospective import early_stopping_retrospective
from reglab.validate import kfold, mean_ci, smooth_curve, validation_split

__all__ = [
    "L1",
    "L2",
    "MLP",
    "Activation",
    "Augment",
    "AveragePooling2D",
    "BatchNorm",
    "BatchNormConfig",
    "Callback",
    "Conv2D",
    "CrossValidation",
    "DataError",
    "Dataset",
    "Dense",
    "DropConnect",
    "Dropout",
    "EarlyStopping",
    "ElasticNet",
    "Flatten",
    "GaussianNoise",
    "History",
    "MaxPool2D",
    "ModelCheckpoint",
    "ModuleModel",
    "MultiHot",
    "Penalty",
    "ReglabError",
    "Sequential",
    "SpatialDropout2D",
    "Standardizer",
    "Task",
    "__version__",
    "cross_validate",
    "early_stopping_retrospective",
    "evaluate",
    "fit",
    "infer_task",
    "kfold",
    "load_dataset",
    "mean_ci",
    "member",
    "mlp",
    "multi_hot",
    "predict",
    "scale_images",
    "smooth_curve",
    "to_categorical",
    "validation_split",
]
