"""The HTML report: one self-contained file assembled from a study's stored runs.

Self-contained means it opens offline, years later, from an e-mail attachment: figures
are PNG data URIs, styles are inline, and there are no fonts, scripts or links to fetch.
The page is rendered by jinja2 with autoescaping on, because study, variant and dataset
names are user text and would otherwise be HTML (a variant named ``<script>...`` must
show as text, not run).
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import jinja2
import numpy as np
from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.report.figures import (
    forest_plot,
    kfold_validation_curve,
    learning_curves,
    strength_curve,
    weight_histograms,
)
from reglab.report.forest import forest_rows
from reglab.report.loading import open_study
from reglab.report.outputs import check_output_file, report_path
from reglab.report.retrospective import retrospective_summaries
from reglab.report.strength import strength_baseline, strength_curves
from reglab.report.verdict import baseline_variant, variant_verdicts
from reglab.study.summary import (
    finished_runs,
    protocol_notes,
    run_best_epoch,
    summarize_variants,
)
from reglab.study.units import MetricUnits, group_by_variant, metric_units

__all__ = ["render_report", "write_report"]

# Resolution of the inlined PNGs: sharp on a laptop screen and in print, while a report
# with a dozen variants stays a few MB.
_DPI = 110
_SMOOTHING = 0.6


def write_report(store_path: str | Path, study: str, output: str | Path | None = None) -> Path:
    """Write the HTML report of a stored study.

    Parameters
    ----------
    store_path : str or Path
        The SQLite store; it must exist (reading never creates one).
    study : str
        The study's name.
    output : str or Path, optional
        Where to write; default ``<study>.html`` in the current folder. Missing parent
        folders are created.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReglabError
        If the store does not exist, or has no study of that name (the message lists
        the studies it has).

    Examples
    --------
    >>> write_report("no-such-store.db", "demo")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at 'no-such-store.db': the file does not exist. ...
    """
    record = open_study(store_path, study)
    path = check_output_file(report_path(study, output))
    html = render_report(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as error:
        raise ReglabError(f"Cannot write the report {path}: {error.strerror or error}.") from None
    return path


def render_report(study) -> str:
    """Render a study's report as an HTML string.

    Parameters
    ----------
    study : StudyRecord
        As returned by ``reglab.study.load_study``: ``name``, ``spec``, ``created``,
        ``dataset``, ``device``, ``reglab_version``, ``torch_version`` and ``runs``.

    Returns
    -------
    str
        The complete, self-contained HTML document.

    Raises
    ------
    ReglabError
        If the study has no runs.

    Examples
    --------
    >>> from reglab.study.records import RunRecord, StudyRecord
    >>> rows = [{"epoch": e, "loss": 1 / e, "val_loss": 1 / e, "accuracy": 0.9,
    ...          "val_accuracy": 0.8} for e in (1, 2)]
    >>> run = RunRecord("k", "baseline", 0, 0, 0, "done", None, 1.0, "accuracy",
    ...                 0.1, 0.9, 0.2, 0.8, 0, 0, 2, 0.0, rows)
    >>> study = StudyRecord("s", {}, "2026-01-01", "digits", "cpu", "0.1.0", "2.4.0", [run])
    >>> render_report(study).startswith("<!DOCTYPE html>")
    True
    """
    runs = list(study.runs)
    if not runs:
        raise ReglabError(f"Study {study.name!r} has no runs yet: run it before reporting.")
    units = metric_units(runs[0].metric)
    kfold = len({r.fold for r in runs if not r.refit}) > 1
    summaries = summarize_variants(runs, units)
    histograms, histogram_runs = _histogram_runs(runs)
    baseline = baseline_variant([s.variant for s in summaries])
    verdicts = variant_verdicts(runs, summaries, units)
    context = {
        "study": study,
        "settings": _settings(study.spec),
        "seeds": _listing(sorted({r.seed for r in runs})),
        "folds": _folds(runs),
        "run_count": _run_count(runs),
        "training_time": _duration(runs),
        "units": units,
        "gap_against": _gap_against(summaries),
        "notes": protocol_notes(study.spec, summaries),
        "refit": [_refit_row(s, units) for s in summaries if s.refit_test is not None],
        "kfold": _kfold_rows(runs, units) if kfold else None,
        "summary": [_summary_row(s, units) for s in summaries],
        "baseline": baseline,
        "verdicts": verdicts,
        "retrospective": [
            _retrospective_row(r, units) for r in retrospective_summaries(runs, units)
        ],
        "smoothing": _SMOOTHING,
        "histogram_runs": histogram_runs,
        "figures": {
            "curves": _data_uri(_curves(runs, summaries)),
            "histograms": _data_uri(weight_histograms(histograms)) if histograms else None,
            "kfold": _data_uri(_kfold_figure(runs, units)) if kfold else None,
            "forest": _forest_figure(verdicts, baseline, units),
            "strength": _strength_figures(summaries, (study.spec or {}).get("sweeps"), units),
        },
    }
    return _template().render(**context)


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reglab.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails loudly, not as a blank cell
    )
    return env.get_template("report.html")


def _data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _curves(runs, summaries) -> Figure:
    histories = {v: [r.history for r in finished_runs(g) if r.history]
                 for v, g in group_by_variant(runs).items()}  # fmt: skip
    histories = {v: h for v, h in histories.items() if h}
    best = {s.variant: s.best_epoch for s in summaries if s.best_epoch}
    stopped = {s.variant: s.stopped_epoch for s in summaries if s.stopped_epoch}
    return learning_curves(
        histories, smoothing=_SMOOTHING, best_epochs=best, stopped_epochs=stopped
    )


def _forest_figure(verdicts, baseline: str, units: MetricUnits) -> str | None:
    rows = forest_rows(verdicts)
    if not any(r.held_out is not None or r.gap is not None for r in rows):
        return None  # one variant, or single runs: no interval to draw
    return _data_uri(forest_plot(rows, baseline=baseline, metric=units.name))


def _strength_figures(summaries, sweeps, units: MetricUnits) -> list[dict]:
    if not sweeps:
        return []
    reference = strength_baseline(summaries, sweeps)
    return [
        {"key": key, "sweeps": ", ".join(c.sweep for c in curves),
         "uri": _data_uri(strength_curve(curves, metric=units.name, baseline=reference,
                                         gap_against=_gap_against(summaries)))}
        for key, curves in strength_curves(summaries, sweeps).items()
    ]  # fmt: skip


def _histogram_runs(runs) -> tuple[dict[str, list], str]:
    # One run per variant (the lowest seed, fold, repeat): histograms of different runs
    # have different bin edges, and one run's weights are what the figure explains.
    chosen, shown = {}, []
    for variant, group in group_by_variant(runs).items():
        recorded = [r for r in finished_runs(group) if r.histograms]
        if recorded:
            run = min(recorded, key=_run_key)
            chosen[variant] = run.histograms
            shown.append(f"{variant} seed {run.seed}, fold {run.fold}")
    return chosen, "; ".join(shown)


def _kfold_figure(runs, units: MetricUnits) -> Figure:
    column = "val_" + units.name
    curves = {v: [[row[column] * units.scale for row in r.history] for r in finished_runs(g)
                  if r.history and column in r.history[0]]
              for v, g in group_by_variant(runs).items()}  # fmt: skip
    label = units.label + (" (%)" if units.scale == 100 else "")
    return kfold_validation_curve(
        {v: c for v, c in curves.items() if c}, ylabel=f"validation {label}"
    )


def _kfold_rows(runs, units: MetricUnits) -> list[dict]:
    rows = []
    for variant, group in group_by_variant(runs).items():
        for fold in sorted({r.fold for r in group if not r.refit}):
            done = [r for r in finished_runs(group) if r.fold == fold]
            best = [b for b in map(run_best_epoch, done) if b is not None]
            rows.append({
                "variant": variant, "fold": fold,
                "runs": f"{len(done)} of {sum(r.fold == fold for r in group)}",
                "train": units.format(_mean([r.train_metric * units.scale for r in done])),
                "validation": units.format(_mean([r.val_metric * units.scale for r in done
                                                  if r.val_metric is not None])),
                "test": units.format(_mean([r.test_metric * units.scale for r in done
                                            if r.test_metric is not None])),
                "best_epoch": f"{np.mean(best):.1f}" if best else "—",
            })  # fmt: skip
    return rows


def _summary_row(s, units: MetricUnits) -> dict:
    return {
        "variant": s.variant,
        "runs": s.runs,
        "train": units.format_ci(s.train),
        "validation": units.format_ci(s.validation),
        "test": units.format_ci(s.test),
        "gap": units.format_ci(s.gap),
        "best_test": s.best_test,
        "smallest_gap": s.smallest_gap,
        "best_epoch": f"{s.best_epoch:.1f}" if s.best_epoch is not None else "—",
        "stopped_epoch": (
            f"{s.stopped_epoch:.1f} ({s.stopped_runs} of {s.done})" if s.stopped_epoch else "—"
        ),
        "sparsity": f"{100 * s.sparsity:.1f}%" if s.sparsity is not None else "—",
        "diverged": f"{s.diverged} of {s.runs}" if s.diverged else "0",
        "failed": f"{s.failed} of {s.runs}" if s.failed else "0",
    }


def _gap_against(summaries) -> str:
    return "test" if all(s.gap_against == "test" for s in summaries) else "validation"


def _refit_row(s, units: MetricUnits) -> dict:
    return {
        "variant": s.variant,
        "epochs": s.refit_epochs,
        "runs": s.refit_test.n,
        "test": units.format_ci(s.refit_test),
    }


def _retrospective_row(r, units: MetricUnits) -> dict:
    return {
        "variant": r.variant,
        "patience": r.patience,
        "min_delta": f"{r.min_delta:g}",
        "runs": r.runs,
        "stopped_epoch": f"{r.stopped_epoch:.1f}",
        "never_stopped": r.never_stopped,
        "kept_epoch": f"{r.kept_epoch:.1f}",
        "score_kept": units.format(r.score_kept),
        "score_at_end": units.format(r.score_at_end),
        "epochs_saved": f"{r.epochs_saved:.1f}",
    }


def _settings(spec) -> list[tuple[str, str]]:
    # The spec as the user wrote it, less what is shown elsewhere (name, seeds, folds) and
    # the per-variant resolution (every default filled in: long, and the same for all
    # but a key or two). Unset (null) keys are dropped: they mean "the default".
    spec = _prune(spec or {})
    rows = []
    for key, value in spec.items():
        if key in ("name", "seeds", "resolved", "dataset", "sweeps"):  # sweeps: their own section
            continue
        if key == "variants" and isinstance(value, dict):
            rows += [(f"Variant “{v}”", _compact(s) or "the defaults") for v, s in value.items()]
        else:
            rows.append((str(key).replace("_", " ").capitalize(), _compact(value)))
    dataset = spec.get("dataset")
    if isinstance(dataset, dict) and len(dataset) > 1:
        rows.insert(
            0, ("Dataset options", _compact({k: v for k, v in dataset.items() if k != "name"}))
        )
    return rows


def _prune(value):
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    return value


def _compact(value) -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {{{_compact(v)}}}" if isinstance(v, dict) else f"{k}={_compact(v)}"
            for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):  # a list of tables (layers) keeps each one apart
        return (
            "["
            + ", ".join(f"{{{_compact(v)}}}" if isinstance(v, dict) else _compact(v) for v in value)
            + "]"
        )
    return str(value)


def _folds(runs) -> str:
    folds = sorted({r.fold for r in runs})
    repeats = sorted({getattr(r, "repeat", 0) for r in runs})
    text = "hold-out (no K-fold)" if len(folds) == 1 else f"{len(folds)}-fold"
    return text + (f", {len(repeats)} repeats" if len(repeats) > 1 else "")


def _run_count(runs) -> str:
    counts = {
        status: sum(r.status == status for r in runs) for status in ("done", "diverged", "failed")
    }
    return f"{len(runs)} ({', '.join(f'{n} {s}' for s, n in counts.items() if n)})"


def _duration(runs) -> str:
    # A run's seconds are the wall time of the population that trained it, shared by all
    # its members; summing per run would count a population once per member. Timings
    # are floats measured per population, so equal values mark one population.
    populations = {r.seconds for r in runs if r.seconds is not None and math.isfinite(r.seconds)}
    seconds = sum(populations)
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    clock = f"{hours}h {minutes:02d}m {rest:04.1f}s" if hours else f"{minutes}m {rest:04.1f}s"
    count = len(populations)
    return f"{clock} (wall time of {count} trained population{'s' if count != 1 else ''})"


def _listing(values) -> str:
    return ", ".join(str(v) for v in values)


def _mean(values) -> float | None:
    return float(np.mean(values)) if values else None


def _run_key(run) -> tuple:
    return (run.seed, run.fold, getattr(run, "repeat", 0))
