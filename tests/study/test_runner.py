"""Running studies end to end on iris with the real engine: results, divergence, failures."""

import sqlite3

import pytest

from reglab.cli import main
from reglab.errors import ReglabError
from reglab.study import load_spec, load_study, parse_spec, print_runs, run_study
from reglab.study import runner as runner_module


def test_a_study_trains_every_run_and_stores_it(write_spec, tmp_path, capsys):
    store = tmp_path / "s.db"
    outcome = run_study(write_spec(), store=store, progress=False)
    assert (outcome.study, outcome.planned, outcome.trained) == ("tiny", 4, 4)
    study = load_study(store, "tiny")
    assert [(r.variant, r.seed) for r in study.runs] == [
        ("baseline", 0),
        ("baseline", 1),
        ("l2", 0),
        ("l2", 1),
    ]
    for run in study.runs:
        assert run.status == "done" and run.epochs_run == 3 and len(run.history) == 3
        assert 0.0 <= run.test_metric <= 1.0 and run.metric == "accuracy"
        assert {h.epoch for h in run.histograms} == {"first", "last"}
    assert [r.history[-1]["penalty"] > 0.0 for r in study.runs] == [False, False, True, True]
    out = capsys.readouterr().out
    assert "baseline" in out and "±" in out


def test_a_rerun_trains_nothing_and_writes_nothing(write_spec, tmp_path):
    store = tmp_path / "s.db"
    run_study(write_spec(), store=store, progress=False)
    before = sqlite3.connect(store).execute("SELECT key, finished FROM runs").fetchall()
    again = run_study(write_spec(), store=store, progress=False)
    assert (again.skipped, again.trained) == (4, 0)
    assert sqlite3.connect(store).execute("SELECT key, finished FROM runs").fetchall() == before


def test_same_seed_gives_the_same_numbers(write_spec, tmp_path):
    run_study(write_spec(), store=tmp_path / "a.db", progress=False)
    run_study(write_spec(), store=tmp_path / "b.db", progress=False)
    a, b = (load_study(tmp_path / n, "tiny").runs for n in ("a.db", "b.db"))

    def numbers(runs):  # epoch_time is wall time: the one column that may differ
        return [
            [{k: v for k, v in row.items() if k != "epoch_time"} for row in r.history] for r in runs
        ]

    assert numbers(a) == numbers(b)
    assert [r.test_metric for r in a] == [r.test_metric for r in b]


def test_a_nan_producing_variant_is_diverged_and_the_others_complete(write_spec, tmp_path):
    spec = write_spec("""
        name = "nan"
        dataset = "iris"
        epochs = 3
        [model]
        optimizer = "sgd"
        [variants.baseline]
        [variants.huge_lr]
        learning_rate = 1e6
    """)
    outcome = run_study(spec, store=tmp_path / "s.db", progress=False)
    statuses = {r.variant: r.status for r in load_study(tmp_path / "s.db", "nan").runs}
    assert statuses == {"baseline": "done", "huge_lr": "diverged"}
    assert outcome.diverged == 1


def test_a_failing_population_marks_its_runs_failed_and_the_study_goes_on(
    write_spec, tmp_path, monkeypatch
):
    real = runner_module.train_population

    def flaky(population, data, **kw):
        if population.settings.batchnorm:
            raise RuntimeError("out of memory (injected)")
        return real(population, data, **kw)

    monkeypatch.setattr(runner_module, "train_population", flaky)
    spec = parse_spec(
        {
            "name": "f",
            "dataset": "iris",
            "epochs": 2,
            "variants": {"base": {}, "bn": {"batchnorm": True}},
        }
    )
    outcome = run_study(spec, store=tmp_path / "s.db", progress=False)
    runs = {r.variant: r for r in load_study(tmp_path / "s.db", "f").runs}
    assert runs["bn"].status == "failed"
    assert runs["bn"].error == "RuntimeError: out of memory (injected)"
    assert runs["base"].status == "done" and outcome.failed == 1

    monkeypatch.setattr(runner_module, "train_population", real)  # the retry succeeds
    again = run_study(spec, store=tmp_path / "s.db", progress=False)
    assert (again.skipped, again.trained) == (1, 1)
    assert load_study(tmp_path / "s.db", "f").runs[1].status == "done"


def test_kfold_runs_validate_on_their_own_fold(tmp_path):
    spec = parse_spec(
        {
            "name": "cv",
            "dataset": "iris",
            "epochs": 2,
            "train_size": 60,
            "validation": {"folds": 3},
            "variants": {"base": {}},
        }
    )
    run_study(spec, store=tmp_path / "s.db", progress=False)
    runs = load_study(tmp_path / "s.db", "cv").runs
    assert [r.fold for r in runs] == [0, 1, 2]
    assert len({r.test_loss for r in runs}) == 3  # three different validation parts


def test_an_unknown_executor_is_refused(write_spec, tmp_path):
    with pytest.raises(
        ReglabError,
        match=r"`executor`: expected one of 'local', 'ray'\. "
        r"Received: executor='rya'; did you mean 'ray'\?",
    ):
        run_study(write_spec(), store=tmp_path / "s.db", executor="rya")


def test_print_runs_lists_studies_and_runs(write_spec, tmp_path, capsys):
    run_study(write_spec(), store=tmp_path / "s.db", progress=False)
    capsys.readouterr()
    print_runs(tmp_path / "s.db")
    assert "tiny" in capsys.readouterr().out
    print_runs(tmp_path / "s.db", "tiny")
    out = capsys.readouterr().out
    assert out.count("done") == 4


def test_the_demo_spec_is_valid():
    from reglab.study import demo_spec
    from reglab.study.demo import demo_path

    spec = demo_spec("digits")
    assert spec == load_spec(demo_path("digits"))
    assert len(spec.variants) == 7 and spec.seeds == [0, 1, 2]
    assert demo_spec("fashion_mnist").dataset.name == "fashion_mnist"


def test_failed_runs_show_their_own_reason_in_the_terminal(tmp_path, monkeypatch, capsys):
    def broken(population, data, **kw):
        raise RuntimeError("the monitor 'val_acc' is not in the logs (injected)")

    monkeypatch.setattr(runner_module, "train_population", broken)
    spec = parse_spec({"name": "f", "dataset": "iris", "epochs": 1, "seeds": [0, 1],
                       "variants": {"es": {}}})  # fmt: skip
    run_study(spec, store=tmp_path / "s.db", progress=False)
    out = capsys.readouterr().out
    assert (
        "failed: 2 runs of variant 'es': RuntimeError: the monitor 'val_acc' is not in the "
        "logs (injected)"
    ) in out.replace("\n", "")


def test_a_read_only_store_serves_the_commands_that_only_read(tmp_path, capsys):
    spec = parse_spec({"name": "ro", "dataset": "iris", "epochs": 1, "variants": {"a": {}}})
    folder = tmp_path / "shelf"
    run_study(spec, store=folder / "s.db", progress=False)
    before = (folder / "s.db").read_bytes()
    (folder / "s.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        assert main(["runs", "--store", str(folder / "s.db")]) == 0
        assert main(["runs", "ro", "--store", str(folder / "s.db")]) == 0
        out = tmp_path / "r.html"
        assert main(["report", "ro", "--store", str(folder / "s.db"), "-o", str(out)]) == 0
        assert out.is_file() and (folder / "s.db").read_bytes() == before
    finally:
        folder.chmod(0o755)
    assert capsys.readouterr().err == ""
