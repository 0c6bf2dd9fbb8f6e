"""K-fold's refit runs: one per variant and seed, on all training rows, scored on test.

After every fold run of a study with ``validation = { folds = K, refit = true }`` is in
the store, each variant's epoch count is chosen from its stored fold runs by
:func:`reglab.train.refit.refit_epochs` (the best epoch of the mean validation-metric
curve, or with early stopping the mean epoch whose weights the folds kept), and one run
per seed trains that long on all training rows, without validation or early stopping.
The chosen count is part of the refit run's key: a retrained fold that changed the
choice makes a new refit run rather than reusing a stale one.
"""

from __future__ import annotations

import dataclasses

from reglab.study.identity import run_identity
from reglab.study.planner import REFIT_FOLD, Plan, PlannedRun, group_runs, run_key
from reglab.study.records import StudyRecord
from reglab.study.settings import RunSettings
from reglab.study.spec import Spec
from reglab.train.early_stopping import infer_mode
from reglab.train.refit import kept_epoch, refit_epochs

__all__ = ["plan_refit", "variant_refit_epochs"]


def variant_refit_epochs(settings: RunSettings, fold_runs: list) -> int | None:
    """The epoch count a variant's refit trains for, from its finished fold runs.

    None when none of them finished (there is nothing to choose from).

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> runs = [R(status="done", metric="accuracy", best_epoch=0, epochs_run=3,
    ...           history=[{"val_accuracy": a} for a in curve])
    ...         for curve in ([0.5, 0.7, 0.6], [0.6, 0.8, 0.7])]
    >>> variant_refit_epochs(RunSettings(), runs)
    2
    """
    done = [r for r in fold_runs if r.status == "done"]
    if not done:
        return None
    if settings.early_stopping is not None:
        restores = settings.early_stopping.restore_best
        kept = [kept_epoch(r.best_epoch, r.epochs_run, restores) for r in done]
        return refit_epochs([], higher_is_better=True, kept_epochs=kept)
    monitor = f"val_{done[0].metric}"
    curves = [[row.get(monitor, float("nan")) for row in r.history] for r in done]
    return refit_epochs(curves, higher_is_better=infer_mode(monitor) == "max")


def plan_refit(
    spec: Spec,
    record: StudyRecord,
    *,
    first_position: int,
    n_features: int,
    n_outputs: int,
    budget: int,
    input_shape: tuple | None = None,
) -> Plan:
    """The refit runs of a K-fold study whose fold runs are all in ``record``.

    Parameters
    ----------
    spec : Spec
    record : StudyRecord
        The study as stored, its fold runs finished.
    first_position : int
        Where the refit runs start in the study's order (after the fold runs).
    n_features, n_outputs, budget, input_shape
        As for :func:`reglab.study.planner.plan_study`.

    Returns
    -------
    Plan
        Empty unless the spec asks for ``refit``; a variant none of whose fold runs
        finished gets no refit runs.
    """
    runs: list[PlannedRun] = []
    if not spec.validation.refit:
        return Plan(runs=runs)
    for variant in spec.variant_names:
        settings = spec.resolve(variant)
        folds = [r for r in record.runs if r.variant == variant and not r.refit]
        epochs = variant_refit_epochs(settings, folds)
        if epochs is None:
            continue
        refit_settings = dataclasses.replace(settings, epochs=epochs, early_stopping=None)
        for seed in spec.seeds:
            identity = run_identity(spec, variant, seed, REFIT_FOLD, 0)
            identity["refit_epochs"] = epochs
            runs.append(
                PlannedRun(
                    key=run_key(identity),
                    variant=variant,
                    seed=seed,
                    fold=REFIT_FOLD,
                    repeat=0,
                    position=first_position + len(runs),
                    settings=refit_settings,
                )
            )
    populations = group_runs(runs, spec, n_features, n_outputs, budget, input_shape)
    return Plan(runs=runs, populations=populations)
