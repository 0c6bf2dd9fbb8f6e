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

from reglab.study.records import RunRecord, StudyRecord
from reglab.study.store import list_studies, load_study
from reglab.validate import MeanCI, mean_ci

__all__ = ["best_epoch", "failure_lines", "print_failures", "print_runs", "summary_rows",
           "summary_table"]  # fmt: skip


def best_epoch(run: RunRecord) -> int:
    """Early stopping's best epoch, or else the epoch of the lowest ``val_loss`` (0: none).

    Examples
    --------
    >>> from reglab.study.records import RunRecord
    >>> run = RunRecord("k", "v", 0, 0, 0, "done", None, 1.0, "accuracy", 0, 1, 0, 1, 0, 0, 3,
    ...                 None, history=[{"epoch": 1.0, "val_loss": 0.5},
    ...                                {"epoch": 2.0, "val_loss": 0.3},
    ...                                {"epoch": 3.0, "val_loss": 0.4}])
    >>> best_epoch(run)
    2
    """
    if run.best_epoch:
        return run.best_epoch
    scored = [(row["val_loss"], int(row["epoch"])) for row in run.history
              if math.isfinite(row.get("val_loss", math.nan))]  # fmt: skip
    return min(scored)[1] if scored else 0


def summary_rows(study: StudyRecord) -> list[dict]:
    """Per variant: train and test metric, the gap, each a :class:`MeanCI`; best epoch; counts.

    The gap is the training metric's advantage over the test metric (train - test for
    accuracy, test - train for an error such as MAE), so a positive gap is overfitting.
    Means are over the runs that finished (``done``); diverged and failed runs are counted.

    Examples
    --------
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> runs = [RunRecord(str(s), "base", s, 0, 0, "done", None, 1.0, "accuracy", 0.1, 1.0,
    ...                   0.5, t, 0, 0, 5, 0.0) for s, t in [(0, 0.8), (1, 0.9)]]
    >>> row = summary_rows(StudyRecord("s", {}, "", "iris", "cpu", "0", "0", runs))[0]
    >>> row["variant"], round(row["gap"].mean, 2), row["runs"]
    ('base', 0.15, 2)
    """
    variants: dict[str, list[RunRecord]] = {}
    for run in study.runs:
        variants.setdefault(run.variant, []).append(run)
    rows = []
    for variant, runs in variants.items():
        done = [r for r in runs if r.status == "done" and _finite(r.train_metric, r.test_metric)]
        sign = -1.0 if runs[0].metric == "mae" else 1.0
        row = {
            "variant": variant,
            "metric": runs[0].metric,
            "runs": len(runs),
            "done": len(done),
            "diverged": sum(r.status == "diverged" for r in runs),
            "failed": sum(r.status == "failed" for r in runs),
            "train": _ci([r.train_metric for r in done]),
            "test": _ci([r.test_metric for r in done]),
            "gap": _ci([sign * (r.train_metric - r.test_metric) for r in done]),
            "best_epoch": _ci([float(best_epoch(r)) for r in done if best_epoch(r)]),
        }
        rows.append(row)
    return rows


def summary_table(study: StudyRecord) -> Table:
    """The end-of-study table: one row per variant, mean ± 95% CI over seeds and folds.

    Laid out for an 80-column terminal: no vertical rules, intervals written ``0.91±0.02``,
    ``best`` for the best epoch, ``div/fail`` for the diverged and failed runs, and
    variant names longer than two lines of their column cut with ``…`` (the report shows
    them whole); numbers never wrap.

    Examples
    --------
    >>> from rich.console import Console
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> runs = [RunRecord(str(s), "v" * 60, s, 0, 0, "done", None, 1.0, "accuracy", 0.1, 1.0,
    ...                   0.5, t, 0, 0, 5, 0.0) for s, t in [(0, 0.8), (1, 0.9)]]
    >>> console = Console(width=80, record=True)
    >>> console.print(summary_table(StudyRecord("s", {}, "", "iris", "cpu", "0", "0", runs)))
    <BLANKLINE>
    ...
    >>> max(len(line) for line in console.export_text().splitlines()) <= 80
    True
    """
    rows = summary_rows(study)
    metric = rows[0]["metric"] if rows else "metric"
    table = Table(
        title=f"{study.name}: {metric}, mean ± 95% CI over seeds and folds",
        box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
    )  # fmt: skip
    table.add_column("variant", overflow="fold", min_width=8, max_width=18)
    for column in ("runs", "train", "test", "gap", "best", "div/fail"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            _short(row["variant"]), str(row["runs"]), _show(row["train"]), _show(row["test"]),
            _show(row["gap"]), _show(row["best_epoch"], digits=0),
            f"{row['diverged']}/{row['failed']}",
        )  # fmt: skip
    return table


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
    """Print why runs failed, below the summary (the table only counts them)."""
    for line in failure_lines(study):
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
    table = Table(title=f"runs of {record.name} ({record.dataset}, {record.device})")
    for column in ("variant", "seed", "repeat", "fold", "status", "epochs", "train loss",
                   "train metric", "test loss", "test metric", "seconds", "key"):  # fmt: skip
        table.add_column(column)
    for r in record.runs:
        status = r.status if r.error is None else f"{r.status}: {r.error}"
        table.add_row(r.variant, str(r.seed), str(r.repeat), str(r.fold), status,
                      str(r.epochs_run), *(_num(v) for v in (r.train_loss, r.train_metric,
                      r.test_loss, r.test_metric)), _num(r.seconds, 1), r.key)  # fmt: skip
    console.print(table)


def _short(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _ci(values: list[float]) -> MeanCI | None:
    return mean_ci(values) if values else None


def _show(ci: MeanCI | None, digits: int = 3) -> str:
    if ci is None:
        return "—"
    if ci.n == 1 or not math.isfinite(ci.half_width):
        return f"{ci.mean:.{digits}f}"
    return f"{ci.mean:.{digits}f}±{ci.half_width:.{digits}f}"


def _num(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
