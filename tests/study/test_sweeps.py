"""Sweeps: a list where a variant expects a number is one variant per value, each the
variant a user would have written by hand (same name, same run keys)."""

import re
from pathlib import Path

import pytest

from reglab.report import render_report
from reglab.study import SpecError, load_spec, load_study, parse_spec, run_study
from reglab.study.identity import run_identity
from reglab.study.planner import plan_study
from reglab.study.sweeps import SweepPoint, sweep_name

BASE = {"name": "t", "dataset": "iris", "epochs": 2, "batch_size": 16, "model": {"hidden": [4]}}


def spec_of(variants: dict, **top):
    return parse_spec({**BASE, **top, "variants": variants})


def keys(spec) -> dict[str, list[str]]:
    plan = plan_study(spec, n_train=150, n_features=4, n_outputs=3)
    out: dict[str, list[str]] = {}
    for run in plan.runs:
        out.setdefault(run.variant, []).append(run.key)
    return out


def test_a_sweep_is_one_variant_per_value_in_place_and_in_order():
    spec = spec_of({"base": {}, "dropout": {"dropout": [0.5, 0.1, 0.3]}, "last": {}})
    assert spec.variant_names == ["base", "dropout=0.5", "dropout=0.1", "dropout=0.3", "last"]
    assert [spec.resolve(v).dropout for v in spec.variant_names[1:4]] == [0.5, 0.1, 0.3]


def test_names_write_the_value_as_repr_with_short_exponents():
    assert [sweep_name("l2", v) for v in (1e-5, 1e-4, 1e-3, 2.5e-7, 1e20, 3)] == [
        "l2=1e-5", "l2=0.0001", "l2=0.001", "l2=2.5e-7", "l2=1e20", "l2=3",
    ]  # fmt: skip


def test_nested_keys_sweep_and_remember_their_path():
    spec = spec_of({
        "l2": {"penalty": {"l2": [1e-5, 1e-3]}, "dropout": 0.2},
        "patience": {"early_stopping": {"patience": [1, 3], "min_delta": 0.01}},
    })  # fmt: skip
    assert spec.sweeps == {
        "l2=1e-5": SweepPoint("l2", "penalty.l2", 1e-5),
        "l2=0.001": SweepPoint("l2", "penalty.l2", 1e-3),
        "patience=1": SweepPoint("patience", "early_stopping.patience", 1),
        "patience=3": SweepPoint("patience", "early_stopping.patience", 3),
    }
    assert spec.resolve("l2=1e-5").penalty.l2 == 1e-5 and spec.resolve("l2=1e-5").dropout == 0.2
    assert spec.resolve("patience=3").early_stopping.min_delta == 0.01
    stored = spec.to_json()["sweeps"]
    assert stored["patience=3"] == {"sweep": "patience", "key": "early_stopping.patience",
                                    "value": 3}  # fmt: skip


@pytest.mark.parametrize(
    ("sweep", "by_hand"),
    [
        ({"dropout": [0.1, 0.3]},
         {"dropout=0.1": {"dropout": 0.1}, "dropout=0.3": {"dropout": 0.3}}),
        ({"penalty": {"l2": [1e-4, 1e-3], "proximal_l1": False}},
         {"dropout=0.0001": {"penalty": {"l2": 1e-4, "proximal_l1": False}},
          "dropout=0.001": {"penalty": {"l2": 1e-3, "proximal_l1": False}}}),
        ({"learning_rate": [0.01, 0.1], "optimizer": "sgd"},
         {"dropout=0.01": {"learning_rate": 0.01, "optimizer": "sgd"},
          "dropout=0.1": {"learning_rate": 0.1, "optimizer": "sgd"}}),
    ],
)  # fmt: skip
def test_each_expanded_variant_has_the_run_keys_of_the_same_variant_by_hand(sweep, by_hand):
    swept = spec_of({"baseline": {}, "dropout": sweep}, seeds=[0, 1])
    written = spec_of({"baseline": {}, **by_hand}, seeds=[0, 1])
    assert keys(swept) == keys(written)
    for variant in by_hand:
        assert run_identity(swept, variant, 1, 0, 0) == run_identity(written, variant, 1, 0, 0)


def test_a_spec_without_sweeps_keeps_its_json_and_keys():
    spec = spec_of({"base": {}, "l2": {"penalty": {"l2": 0.01}}})
    assert spec.sweeps == {} and "sweeps" not in spec.to_json()


def test_keys_that_take_a_list_keep_their_meaning():
    spec = spec_of({"wide": {"hidden": [8, 4], "dropout": [0.1, 0.2]}})
    assert spec.variant_names == ["wide=0.1", "wide=0.2"]
    assert spec.resolve("wide=0.2").hidden == (8, 4)


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"a": {"dropout": []}}, r"the sweep at variants\.a\.dropout is empty: give at least one"),
        ({"a": {"dropout": [0.1, "0.3"]}},
         r"Invalid value in the sweep at variants\.a\.dropout: expected numbers\. "
         r"Received: '0\.3'"),
        ({"a": {"dropout": [0.1, True]}}, r"expected numbers\. Received: True"),
        ({"a": {"dropout": [0.1, 0.3, 0.1]}},
         r"the sweep at variants\.a\.dropout repeats 0\.1: give each value once"),
        ({"a": {"hidden": [[8], [16]]}},
         r"hidden at variants\.a takes a list already, so a list of lists does not sweep it"),
        ({"a": {"activation": ["relu", "tanh"]}},
         r"a list at variants\.a\.activation would sweep it, and only numeric keys sweep; "
         r"`activation` takes a string"),
        ({"a": {"penalty": [{"l2": 0.1}]}}, r"`penalty` takes a table"),
        ({"a": {"dropout": [0.1], "penalty": {"l2": [0.1, 0.2]}}},
         r"variants\.a sweeps dropout and penalty\.l2: one sweep per variant"),
        ({"a=0.1": {}, "a": {"dropout": [0.1, 0.2]}},
         r"the sweep at variants\.a\.dropout names a variant 'a=0\.1', and the spec already "
         r"has one: rename one of them"),
        ({"a": {"dropout": [0.5, 1.5]}}, r"Invalid value for `variants\.a=1\.5\.dropout`: "
                                         r"expected less than 1"),
    ],
)  # fmt: skip
def test_a_bad_sweep_is_one_problem_with_its_path(variants, message):
    with pytest.raises(SpecError, match=message) as caught:
        spec_of(variants)
    assert len(caught.value.problems) == 1, caught.value.problems


def test_a_bad_sweep_is_reported_with_the_spec_s_other_problems():
    with pytest.raises(SpecError) as caught:
        spec_of({"a": {"dropout": [], "dropuot": 0.5}}, epochs=0)
    text = str(caught.value)
    assert "sweep at variants.a.dropout is empty" in text and "unknown key 'dropuot'" in text
    assert "`epochs`" in text and len(caught.value.problems) == 3


def test_a_list_in_the_model_table_says_sweeps_go_in_a_variant():
    with pytest.raises(SpecError, match=r"a sweep at model\.dropout: sweeps go in a "
                                        r"\[variants\.NAME\] table") as caught:  # fmt: skip
        parse_spec({**BASE, "model": {"dropout": [0.1, 0.2]}, "variants": {"a": {}}})
    assert len(caught.value.problems) == 1


def test_adding_a_value_to_a_sweep_trains_only_the_new_value(tmp_path):
    store = tmp_path / "s.db"
    first = spec_of({"baseline": {}, "l2": {"penalty": {"l2": [1e-4, 1e-2]}}}, seeds=[0, 1])
    done = run_study(first, store=store, progress=False)
    assert (done.planned, done.trained) == (6, 6)
    before = {(r.variant, r.seed): (r.key, r.seconds, r.history)
              for r in load_study(store, "t").runs}  # fmt: skip

    wider = spec_of({"baseline": {}, "l2": {"penalty": {"l2": [1e-4, 1e-3, 1e-2]}}}, seeds=[0, 1])
    again = run_study(wider, store=store, progress=False)
    assert (again.planned, again.skipped, again.trained) == (8, 6, 2)
    record = load_study(store, "t")
    after = {(r.variant, r.seed): (r.key, r.seconds, r.history) for r in record.runs}
    assert {k: after[k] for k in before} == before  # the same rows, not retrained
    assert set(after) - set(before) == {("l2=0.001", 0), ("l2=0.001", 1)}
    # Read back in the spec's order, the inserted value in its place.
    order = list(dict.fromkeys(r.variant for r in record.runs))
    assert order == ["baseline", "l2=0.0001", "l2=0.001", "l2=0.01"]
    assert record.spec["sweeps"]["l2=0.001"] == {"sweep": "l2", "key": "penalty.l2", "value": 1e-3}
    html = render_report(record)  # the strength curve and the forest plot of real runs
    assert re.search(r'<img id="figure-strength-1" data-key="penalty.l2" src="data:image/png', html)
    assert '<img id="figure-forest" src="data:image/png' in html


def test_changing_a_swept_value_is_still_another_spec(tmp_path):
    store = tmp_path / "s.db"
    run_study(spec_of({"l2": {"penalty": {"l2": [1e-4, 1e-2]}}}), store=store, progress=False)
    with pytest.raises(Exception, match=r"already holds a study named 't' with a different spec"):
        run_study(spec_of({"l2": {"penalty": {"l2": [1e-4, 1e-3]}}}), store=store, progress=False)


def test_the_spec_page_s_sweep_example_makes_the_variants_its_comments_name(tmp_path):
    page = (Path(__file__).resolve().parents[2] / "docs" / "spec.md").read_text()
    block = page.split("## Sweeps", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    named = [n for line in re.findall(r"# variants (.*)", block) for n in line.split(", ")]
    (tmp_path / "s.toml").write_text(f'name = "t"\ndataset = "iris"\n{block}')
    spec = load_spec(tmp_path / "s.toml")
    assert spec.variant_names == ["baseline", *named]
