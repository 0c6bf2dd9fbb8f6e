"""The tables a study prints: its summary per variant, and `reglab runs`.

:func:`summary_rows` computes the numbers as plain data (tested on their own);
the rich tables only lay them out.
"""

from __future__ import annotations

import math
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from reglab.study.records import StudyRecord
from reglab.study.store import list_studies, load_study
from reglab.study.summary import VariantSummary, protocol_notes, summarize_variants
from reglab.study.units import MetricUnits, metric_units
from reglab.validate import MeanCI

__all__ = ["failure_lines", "print_failures", "print_runs", "summary_notes", "summary_rows",
           "summary_table"]  # fmt: skip


def summary_rows(study: StudyRecord) -> list[VariantSummary]:
    """Per variant: train, validation and test metric, the gap, best epoch and counts.

    The numbers of the report's summary (:func:`reglab.study.summary.summarize_variants`),
    in shown units (accuracy in percent).

    Examples
    --------
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> runs = [RunRecord(str(s), "base", s, 0, 0, "done", None, 1.0, "accuracy", 0.1, 1.0,
    ...                   0.5, t, 0, 0, 5, 0.0) for s, t in [(0, 0.8), (1, 0.9)]]
    >>> row = summary_rows(StudyRecord("s", {}, "", "iris", "cpu", "0", "0", runs))[0]
    >>> row.variant, round(row.gap.mean, 2), row.runs
    ('base', 15.0, 2)
    """
    units = _units(study)
    return summarize_variants(study.runs, units) if units is not None else []


def summary_table(study: StudyRecord) -> Table:
    """The end-of-study table: one row per variant, mean ± 95% CI over seeds and folds.

    Laid out for an 80-column terminal: no vertical rules, intervals written ``91.2±0.4``,
    ``val`` for the validation rows, ``best`` for the best epoch, ``div/fail`` for the
    diverged and failed runs, and
    variant names longer than two lines of their column cut with ``…`` (the report shows
    them whole); numbers never wrap. Which set each number is from is said below it
    (:func:`summary_notes`).

    Examples
    --------
    >>> from rich.console import Console
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> runs = [RunRecord(str(s), "v" * 60, s, 0, 0, "done", None, 1.0, "accuracy", 0.1, 1.0,
    ...                   0.5, t, 0, 0, 5, 0.0, val_metric=t) for s, t in [(0, 0.8), (1, 0.9)]]
    >>> console = Console(width=80, record=True)
    >>> console.print(summary_table(StudyRecord("s", {}, "", "iris", "cpu", "0", "0", runs)))
    <BLANKLINE>
    ...
    >>> max(len(line) for line in console.export_text().splitlines()) <= 80
    True
    """
    rows = summary_rows(study)
    units = _units(study)
    table = Table(
        title=f"{study.name}: {_label(units)}, mean ± 95% CI over seeds and folds",
        box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", collapse_padding=True,
    )  # fmt: skip
    against = "gap" if all(r.gap_against == "test" for r in rows) else "gap (val)"
    table.add_column("variant", overflow="fold", min_width=8, max_width=18)
    columns = ["runs", "train", "val", "test", against, "best", "div/fail"]
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    digits = _digits(units)
    for row in rows:
        cells = [
            _short(row.variant), str(row.runs), _show(row.train, digits),
            _show(row.validation, digits), _show(row.test, digits), _show(row.gap, digits),
            "—" if row.best_epoch is None else f"{row.best_epoch:.0f}",
            f"{row.diverged}/{row.failed}",
        ]  # fmt: skip
        table.add_row(*cells)
    return table


def summary_notes(study: StudyRecord) -> list[str]:
    """The lines printed under the summary table: which set each number is from, and a
    K-fold study's final line (its refit runs' test metric)."""
    rows = summary_rows(study)
    units = _units(study)
    lines = protocol_notes(study.spec, rows)
    refits = [r for r in rows if r.refit_test is not None]
    if refits and units is not None:
        scores = ", ".join(f"{r.variant} {_show(r.refit_test, _digits(units))}" for r in refits)
        lines.append(f"refit, test {_label(units)}: {scores}")
    return lines


def failure_lines(study: StudyRecord) -> list[str]:
    """One line per distinct reason a variant's runs failed, with how many runs it hit.

    Examples
    --------
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> runs = [RunRecord(str(s), "big", s, 0, 0, "failed", "MemoryError: out of memory",
    ...                   None, "accuracy", None, None, None, None, 0, 0, 0, None)
    ...         for s in (0, 1)]
    >>> failure_lines(StudyRecord("s", {}, "", "iris", "cpu", "0", "0", runs))
    ["failed: 2 runs of variant 'big': MemoryError: out of memory"]
    """
    reasons: dict[tuple[str, str], int] = {}
    for run in study.runs:
        if run.status == "failed":
            reason = (run.variant, run.error or "no reason recorded")
            reasons[reason] = reasons.get(reason, 0) + 1
    return [
        f"failed: {n} run{'s' if n > 1 else ''} of variant '{variant}': {error}"
        for (variant, error), n in reasons.items()
    ]


def print_failures(console: Console, study: StudyRecord) -> None:
    """Print which sets the numbers are from, and why runs failed, below the summary."""
    for line in summary_notes(study) + failure_lines(study):
        console.print(line, markup=False, highlight=False)


def print_runs(store_path: str | Path, study: str | None = None) -> None:
    """Print the studies in a store, or one study's runs (``reglab runs [STUDY]``).

    Parameters
    ----------
    store_path : str or pathlib.Path
        The store's file.
    study : str, optional
        A study's name; without it, a table of the studies.

    Raises
    ------
    ReglabError
        If there is no store there, or no such study in it.

    Examples
    --------
    >>> print_runs("no-such-store.db")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at no-such-store.db: run a study first ...
    """
    console = Console()
    if study is None:
        table = Table(title=f"studies in {store_path}")
        for column in ("study", "dataset", "created", "runs", "done", "diverged", "failed"):
            table.add_column(column)
        for name in list_studies(store_path):
            record = load_study(store_path, name)
            statuses = [r.status for r in record.runs]
            table.add_row(
                name,
                record.dataset,
                record.created,
                str(len(statuses)),
                *(str(statuses.count(s)) for s in ("done", "diverged", "failed")),
            )
        console.print(table)
        return
    record = load_study(store_path, study)
    metric = next((r.metric for r in record.runs if r.metric), "metric")
    table = Table(
        title=f"runs of {record.name} ({record.dataset}, {record.device}): {metric} on the "
        "training rows, the validation rows and the test set",
        box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", collapse_padding=True,
    )  # fmt: skip
    repeats = any(r.repeat for r in record.runs)
    for column in ("variant", "seed", "fold", "status", "epochs", "train", "val", "test",
                   "seconds", "key"):  # fmt: skip
        wraps = column in ("variant", "status")
        table.add_column(column, no_wrap=not wraps, min_width=8 if wraps else None)
    for r in record.runs:
        status = r.status if r.error is None else f"{r.status}: {r.error}"
        fold = "refit" if r.refit else (f"{r.repeat}.{r.fold}" if repeats else str(r.fold))
        table.add_row(r.variant, str(r.seed), fold, status, str(r.epochs_run),
                      *(_num(v, 3) for v in (r.train_metric, r.val_metric, r.test_metric)),
                      _num(r.seconds, 1), r.key)  # fmt: skip
    console.print(table)
    for line in summary_notes(record):
        console.print(line, markup=False, highlight=False)


def _short(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _units(study: StudyRecord) -> MetricUnits | None:
    metric = next((r.metric for r in study.runs if r.metric), None)
    return metric_units(metric) if metric else None


def _label(units: MetricUnits | None) -> str:
    """The metric's name as the terminal shows it ("accuracy (%)", "MAE")."""
    if units is None:
        return "metric"
    return f"{units.label} (%)" if units.scale == 100 else units.label


def _digits(units: MetricUnits | None) -> int:
    """Decimals on a terminal: one for percent, three for an error in target units."""
    return 1 if units is not None and units.scale == 100 else 3


def _show(ci: MeanCI | None, digits: int = 3) -> str:
    if ci is None:
        return "—"
    if ci.n == 1 or not math.isfinite(ci.half_width):
        return f"{ci.mean:.{digits}f}"
    return f"{ci.mean:.{digits}f}±{ci.half_width:.{digits}f}"


def _num(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
