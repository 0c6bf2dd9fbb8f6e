"""The shipped breadth study: every technique a variant beside the baseline, and it runs."""

import sys
from pathlib import Path

from reglab.report import render_report
from reglab.study import load_spec, load_study, parse_spec, run_study

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BREADTH = Path(__file__).parents[2] / "studies" / "breadth.toml"


def test_each_variant_adds_one_technique_to_the_baseline():
    spec = load_spec(BREADTH)
    assert spec.validation.kind == "split"  # three sets: the test set chooses nothing
    table = tomllib.loads(BREADTH.read_text())["variants"]
    assert table["baseline"] == {}
    techniques = {name: set(keys) for name, keys in table.items() if name != "baseline"}
    assert all(len(keys) >= 1 for keys in techniques.values())
    assert len(techniques) >= 11


def test_a_reduced_breadth_study_runs_and_every_variant_gets_a_verdict(tmp_path):
    data = tomllib.loads(BREADTH.read_text())
    data.update(epochs=3, seeds=[0, 1], train_size=120)
    data["variants"]["swa"]["swa"]["start_epoch"] = 2
    data["variants"]["cosine_schedule"]["lr_schedule"]["decay_epochs"] = 3
    data["variants"]["cosine_schedule"]["lr_schedule"]["warmup_epochs"] = 1
    spec = parse_spec(data)
    outcome = run_study(spec, store=tmp_path / "b.db", progress=False)
    assert outcome.failed == 0 and outcome.trained == 2 * len(spec.variant_names)
    html = render_report(load_study(tmp_path / "b.db", spec.name))
    for variant in spec.variant_names[1:]:
        assert f"<strong>{variant}</strong>" in html
