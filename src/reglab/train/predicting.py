"""``evaluate`` and ``predict`` for a trained model: every member at once, in eval mode."""

from __future__ import annotations

import numpy as np
import torch

from reglab.data import MultiHot
from reglab.errors import ReglabError
from reglab.nn.module import population_of
from reglab.nn.population import PopulationModel
from reglab.train.evaluation import evaluate_rows, logits_in_chunks
from reglab.train.inputs import Inputs

__all__ = ["evaluate", "predict", "trained_population"]


def trained_population(model) -> PopulationModel:
    """The population behind ``model``: itself, or the one ``fit`` trained a module as."""
    population = model
    if not isinstance(model, PopulationModel) and isinstance(model, torch.nn.Module):
        population = population_of(model)
    if not isinstance(population, PopulationModel) or not population.built:
        raise ReglabError(
            "Invalid value for `model`: it has not been trained yet; call reglab.fit(model, "
            "x, y) first."
        )
    return population


def _inputs(model, x) -> Inputs:
    inputs = Inputs(x if isinstance(x, MultiHot) else np.asarray(x), model.bank.device)
    if inputs.sample_shape != model.input_shape:
        raise ReglabError(
            f"Invalid value for `x`: the model was built for samples of shape "
            f"{model.input_shape} but x has samples of shape {inputs.sample_shape}."
        )
    return inputs


def evaluate(model, x, y) -> dict[str, float] | list[dict[str, float]]:
    """Data loss and metric of a trained model on ``(x, y)``, dropout off.

    Parameters
    ----------
    model : Sequential, MLP or torch.nn.Module
        A model trained by :func:`reglab.fit` (a module: the population it trained as).
    x : array (N, F) or MultiHot
    y : array

    Returns
    -------
    dict or list of dict
        ``{"loss": ..., "accuracy" | "mae": ...}``; one dict per member for populations.

    Examples
    --------
    >>> import numpy as np
    >>> from reglab import fit, mlp
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 0, 1])
    >>> model = mlp([4]); _ = fit(model, x, y, epochs=1)
    >>> sorted(evaluate(model, x, y))
    ['accuracy', 'loss']
    """
    model = trained_population(model)
    inputs = _inputs(model, x)
    y = np.asarray(y)
    if len(y) != len(inputs):
        raise ReglabError(
            f"Invalid evaluation data: x and y must have one row per sample. Received "
            f"{len(inputs)} rows of x and {len(y)} of y."
        )
    loss, metric = evaluate_rows(model, inputs, model.head.targets(y, model.bank.device), None)
    name = model.head.metric_name
    results = [{"loss": float(loss[m]), name: float(metric[m])} for m in range(model.members)]
    return results[0] if model.members == 1 else results


def predict(model, x) -> np.ndarray:
    """Activated outputs (probabilities for classification) of a trained model.

    Returns
    -------
    numpy.ndarray
        ``(N, outputs)``, or ``(K, N, outputs)`` for a population of K > 1.

    Examples
    --------
    >>> import numpy as np
    >>> from reglab import fit, mlp
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 2, 3])
    >>> model = mlp([4]); _ = fit(model, x, y, epochs=1)
    >>> predict(model, x).shape
    (4, 4)
    """
    model = trained_population(model)
    inputs = _inputs(model, x)
    outputs = model.head.activate(logits_in_chunks(model, inputs)).cpu().numpy()
    return outputs[0] if model.members == 1 else outputs
