"""Tiny hand-made studies for the report tests: plain numbers, no training.

The numbers are chosen so that the expected report can be worked out by hand: every run
of a variant shares one validation-loss curve (so the early-stopping retrospective stops
at the same epoch in every run), and the final metrics differ by seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from reglab.study.records import RunRecord, StudyRecord, WeightHistogram
from reglab.study.store import RunResult, Store, load_study

# Falls to its lowest at epoch 5, with a near-miss at epoch 4, then rises steadily.
VAL_LOSS = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78]
EPOCHS = len(VAL_LOSS)

# variant -> per seed (train accuracy, test accuracy); seeds 0, 1, 2.
FINAL = {
    "baseline": [(1.0, 0.90), (0.995, 0.91), (0.99, 0.905)],
    "l2 0.01": [(0.96, 0.915), (0.955, 0.92), (0.965, 0.91)],
}


def val_accuracy(epoch: int, seed: int) -> float:
    """Validation accuracy per epoch: best around epoch 5, as the validation loss says."""
    return 0.6 + 0.02 * min(epoch, 5) - 0.005 * max(0, epoch - 5) + 0.01 * seed


def history(seed: int, shift: float = 0.0, metric: str = "accuracy") -> list[dict]:
    rows = []
    for epoch in range(1, EPOCHS + 1):
        loss = 1.0 / epoch + shift
        row = {"epoch": epoch, "loss": loss + 0.01, "data_loss": loss, "penalty": 0.01}
        if metric == "accuracy":
            row["accuracy"] = 0.5 + 0.04 * epoch + 0.001 * seed
            row["val_accuracy"] = val_accuracy(epoch, seed)
        else:
            row["mae"] = 3.0 / epoch + 0.1 * seed
            row["val_mae"] = 2.0 + VAL_LOSS[epoch - 1] + 0.1 * seed
        row["val_loss"] = VAL_LOSS[epoch - 1] + shift
        row["epoch_time"] = 0.1
        rows.append(row)
    return rows


def histograms(scale: float) -> list[WeightHistogram]:
    rng = np.random.default_rng(0)
    out = []
    for layer in ("dense_0", "dense_1"):
        for moment, spread in (("first", 0.5), ("last", 0.5 * scale)):
            edges = np.linspace(-1.5, 1.5, 16)
            counts, _ = np.histogram(rng.normal(0.0, spread, 400), bins=edges)
            out.append(WeightHistogram(layer, moment, edges.tolist(), counts.tolist()))
    return out


# The validation rows score a little below the test set in these studies, so a table that
# showed one in place of the other would be caught.
VALIDATION_OFFSET = -0.02


def run(variant, seed, train, test, *, status="done", fold=0, metric="accuracy", shift=0.0):
    rows = history(seed, shift, metric) if status != "failed" else []
    if status == "diverged":  # the loss became NaN at the last epoch, as the engine records it
        rows[-1].update(loss=float("nan"), data_loss=float("nan"), val_loss=float("nan"))
    return RunRecord(
        key=f"{abs(hash((variant, seed, fold))) % 16**16:016x}",
        variant=variant,
        seed=seed,
        fold=fold,
        repeat=0,
        status=status,
        error="boom" if status == "failed" else None,
        seconds=2.0 + fold,
        metric=metric,
        train_loss=0.1,
        train_metric=train,
        test_loss=0.3,
        test_metric=test,
        best_epoch=0,
        stopped_epoch=0,
        epochs_run=len(rows),
        sparsity=0.25 if variant != "baseline" else 0.0,
        history=rows,
        histograms=histograms(0.6 if variant != "baseline" else 1.2) if rows else [],
        val_loss=None if test is None else 0.32,
        val_metric=None if test is None else test + VALIDATION_OFFSET,
    )


def study_of(
    name: str, runs: list[RunRecord], dataset: str = "digits", validation: dict | None = None
) -> StudyRecord:
    variants = list(dict.fromkeys(r.variant for r in runs))
    spec = {
        "name": name,
        "dataset": dataset,
        "validation": validation or {"split": 0.2, "folds": None},
        "model": {"hidden": [32], "activation": "relu"},
        "training": {"epochs": EPOCHS, "batch_size": 32, "optimizer": "adam"},
        "variants": {v: {} for v in variants},
    }
    return StudyRecord(
        name, spec, "2026-01-01T00:00:00+00:00", dataset, "cpu", "0.1.0", "2.4.0", runs
    )


@pytest.fixture
def tiny_study() -> StudyRecord:
    """Two variants x three seeds, plus one diverged run of "l2 0.01"."""
    runs = [
        run(variant, seed, train, test, shift=0.1 * i)
        for i, (variant, finals) in enumerate(FINAL.items())
        for seed, (train, test) in enumerate(finals)
    ]
    runs.append(run("l2 0.01", 3, None, None, status="diverged", shift=0.1))
    return study_of("tiny", runs)


@pytest.fixture
def kfold_study() -> StudyRecord:
    """A regression study: one variant, three folds, MAE."""
    runs = [
        run("baseline", 0, 1.0 + 0.1 * f, 2.5 + 0.2 * f, fold=f, metric="mae") for f in range(3)
    ]
    return study_of("housing", runs, dataset="boston_housing",
                    validation={"split": None, "folds": 3})  # fmt: skip


@pytest.fixture
def finals() -> dict[str, list[tuple[float, float]]]:
    """The final (train, test) accuracies of ``tiny_study``, per variant, seeds 0, 1, 2."""
    return FINAL


def write_store(path: Path, study: StudyRecord) -> Path:
    """Write ``study`` into a store at ``path`` with the store's own write API."""
    with Store(path) as store:
        store.begin_study(
            study.name,
            study.spec,
            dataset=study.dataset,
            device=study.device,
            versions=(study.reglab_version, study.torch_version),
        )
        for position, run in enumerate(study.runs):
            fields = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
            store.write_run(study.name, position, RunResult(**fields))
    return path


@pytest.fixture
def stored_tiny(tmp_path, tiny_study) -> tuple[Path, StudyRecord]:
    """``tiny_study`` written to a real store: the store's path and the study read back."""
    path = write_store(tmp_path / "store.db", tiny_study)
    return path, load_study(path, tiny_study.name)


@pytest.fixture
def store_of(tmp_path):
    """A function writing a study into a new store under ``tmp_path``; returns its path."""
    count = iter(range(1_000_000))
    return lambda study: write_store(tmp_path / f"store{next(count)}.db", study)
