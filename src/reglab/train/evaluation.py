"""Evaluation and prediction of every member at once, in eval mode, in large chunks."""

from __future__ import annotations

import numpy as np
import torch

from reglab.train.inputs import Inputs, padded_rows

__all__ = ["evaluate_rows", "logits_in_chunks"]

# Rows per evaluation chunk: big enough that matmuls run near peak, small enough that a
# population's activations ((K, chunk, width) floats) stay modest.
EVAL_CHUNK = 4096


@torch.no_grad()
def evaluate_rows(
    model, inputs: Inputs, targets: torch.Tensor, row_sets: list[np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean data loss and metric per member ``(K,)`` over each member's rows.

    ``row_sets`` gives each member its own rows (validation folds); None evaluates every
    member on all rows of ``inputs`` (shared validation or test data).
    """
    k = model.members
    device = model.bank.device
    loss_sum = torch.zeros(k, device=device)
    metric_sum = torch.zeros(k, device=device)
    if row_sets is None:
        n = len(inputs)
        counts = torch.full((k,), float(n), device=device)
        for start in range(0, n, EVAL_CHUNK):
            rows = torch.arange(start, min(start + EVAL_CHUNK, n), device=device).unsqueeze(0)
            logits = model.predict_logits(inputs.gather(rows))
            y = targets[rows[0]].expand(k, *targets[rows[0]].shape)
            loss, metric = model.head.loss_and_metric(logits, y)
            loss_sum += loss.sum(1)
            metric_sum += metric.sum(1)
    else:
        index, weight = padded_rows(row_sets, device)
        counts = torch.as_tensor([float(len(r)) for r in row_sets], device=device)
        for start in range(0, index.shape[1], EVAL_CHUNK):
            rows = index[:, start : start + EVAL_CHUNK]
            logits = model.predict_logits(inputs.gather(rows))
            y = targets[rows]
            w = 1.0 if weight is None else weight[:, start : start + EVAL_CHUNK, 0]
            loss, metric = model.head.loss_and_metric(logits, y)
            loss_sum += (loss * w).sum(1)
            metric_sum += (metric * w).sum(1)
    return (loss_sum / counts).cpu().numpy(), (metric_sum / counts).cpu().numpy()


@torch.no_grad()
def logits_in_chunks(model, inputs: Inputs) -> torch.Tensor:
    """Logits ``(K, N, O)`` of every member for every row."""
    device = model.bank.device
    parts = []
    for start in range(0, len(inputs), EVAL_CHUNK):
        rows = torch.arange(start, min(start + EVAL_CHUNK, len(inputs)), device=device)
        parts.append(model.predict_logits(inputs.gather(rows.unsqueeze(0))))
    return torch.cat(parts, dim=1)
