"""reglab: train neural networks and study overfitting and regularization.

The few names most users need, re-exported from the layers that define them::

    import reglab
    data = reglab.load_dataset("digits")
    model = reglab.mlp([64], dropout=0.5, kernel_regularizer=reglab.L2(1e-3))
    history = reglab.fit(model, data.x_train, data.y_train, epochs=20,
                         validation_data=(data.x_test, data.y_test))
"""

import importlib

from reglab._version import __version__

# Each public name and the module that defines it. Imported on first use (PEP 562), so
# that `reglab --version`, `reglab --help` and a Ctrl-C at start-up do not wait for torch.
_LAYERS = ("cli", "data", "errors", "nn", "report", "study", "train", "validate")
_EXPORTS = {
    "Augment": "reglab.data",
    "Dataset": "reglab.data",
    "MultiHot": "reglab.data",
    "Standardizer": "reglab.data",
    "Task": "reglab.data",
    "infer_task": "reglab.data",
    "load_dataset": "reglab.data",
    "multi_hot": "reglab.data",
    "scale_images": "reglab.data",
    "to_categorical": "reglab.data",
    "DataError": "reglab.errors",
    "ReglabError": "reglab.errors",
    "BatchNormConfig": "reglab.nn",
    "DropConnect": "reglab.nn",
    "Dropout": "reglab.nn",
    "ElasticNet": "reglab.nn",
    "L1": "reglab.nn",
    "L2": "reglab.nn",
    "MLP": "reglab.nn",
    "mlp": "reglab.nn",
    "Activation": "reglab.nn",
    "AveragePooling2D": "reglab.nn",
    "BatchNorm": "reglab.nn",
    "Conv2D": "reglab.nn",
    "Dense": "reglab.nn",
    "Flatten": "reglab.nn",
    "GaussianDropout": "reglab.nn",
    "GaussianNoise": "reglab.nn",
    "MaxNorm": "reglab.nn",
    "MaxPool2D": "reglab.nn",
    "MinMaxNorm": "reglab.nn",
    "ModuleModel": "reglab.nn",
    "NonNeg": "reglab.nn",
    "Penalty": "reglab.nn",
    "Sequential": "reglab.nn",
    "SpatialDropout2D": "reglab.nn",
    "UnitNorm": "reglab.nn",
    "member": "reglab.nn",
    "Callback": "reglab.train",
    "CSVLogger": "reglab.train",
    "CosineDecay": "reglab.train",
    "ExponentialDecay": "reglab.train",
    "ReduceLROnPlateau": "reglab.train",
    "StepDecay": "reglab.train",
    "CrossValidation": "reglab.train",
    "EarlyStopping": "reglab.train",
    "History": "reglab.train",
    "ModelCheckpoint": "reglab.train",
    "SWA": "reglab.train",
    "cross_validate": "reglab.train",
    "evaluate": "reglab.train",
    "fit": "reglab.train",
    "predict": "reglab.train",
    "early_stopping_retrospective": "reglab.train.retrospective",
    "kfold": "reglab.validate",
    "mean_ci": "reglab.validate",
    "smooth_curve": "reglab.validate",
    "validation_split": "reglab.validate",
}

__all__ = [
    "L1",
    "L2",
    "MLP",
    "SWA",
    "Activation",
    "Augment",
    "AveragePooling2D",
    "BatchNorm",
    "BatchNormConfig",
    "CSVLogger",
    "Callback",
    "Conv2D",
    "CosineDecay",
    "CrossValidation",
    "DataError",
    "Dataset",
    "Dense",
    "DropConnect",
    "Dropout",
    "EarlyStopping",
    "ElasticNet",
    "ExponentialDecay",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "History",
    "MaxNorm",
    "MaxPool2D",
    "MinMaxNorm",
    "ModelCheckpoint",
    "ModuleModel",
    "MultiHot",
    "NonNeg",
    "Penalty",
    "ReduceLROnPlateau",
    "ReglabError",
    "Sequential",
    "SpatialDropout2D",
    "Standardizer",
    "StepDecay",
    "Task",
    "UnitNorm",
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


def __getattr__(name: str):
    if name in _LAYERS:  # `import reglab; reglab.data...` as when everything was eager
        return importlib.import_module(f"reglab.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reglab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
