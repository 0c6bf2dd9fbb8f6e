"""TensorBoard export, read back with TensorBoard's own event reader."""

import pytest

from reglab.errors import ReglabError
from reglab.report import export_tensorboard

pytest.importorskip("tensorboard", reason="TensorBoard export needs the tensorboard package")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read(folder):
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    return events


def test_one_log_folder_per_run(stored_tiny, tmp_path):
    store, study = stored_tiny
    folders = export_tensorboard(store, study.name, tmp_path / "logs")
    expected = [tmp_path / "logs" / "tiny" / v / f"seed{s}-fold0"
                for v in ("baseline", "l2_0.01") for s in range(3)] + [
                tmp_path / "logs" / "tiny" / "l2_0.01" / "seed3-fold0"]  # fmt: skip
    assert sorted(folders) == sorted(expected)
    assert all(any(f.glob("events.out.tfevents.*")) for f in folders)


def test_every_history_column_is_a_scalar_per_epoch(stored_tiny, tmp_path):
    store, study = stored_tiny
    run = study.runs[0]
    events = read(export_tensorboard(store, study.name, tmp_path)[0])
    columns = set(run.history[0]) - {"epoch"}
    assert set(events.Tags()["scalars"]) == columns
    val_loss = events.Scalars("val_loss")
    assert [e.step for e in val_loss] == [row["epoch"] for row in run.history]
    assert [e.value for e in val_loss] == pytest.approx([row["val_loss"] for row in run.history])


def test_weight_histograms_at_the_first_and_last_epoch(stored_tiny, tmp_path):
    store, study = stored_tiny
    run = study.runs[0]
    events = read(export_tensorboard(store, study.name, tmp_path)[0])
    assert set(events.Tags()["histograms"]) == {"weights/dense_0", "weights/dense_1"}
    first, last = events.Histograms("weights/dense_0")
    assert (first.step, last.step) == (1, run.epochs_run)
    stored = {h.epoch: h for h in run.histograms if h.layer == "dense_0"}
    assert first.histogram_value.num == sum(stored["first"].counts)
    assert list(first.histogram_value.bucket) == stored["first"].counts
    assert list(last.histogram_value.bucket_limit) == pytest.approx(stored["last"].edges[1:])


def test_unknown_study_is_refused(stored_tiny, tmp_path):
    store, _ = stored_tiny
    with pytest.raises(ReglabError, match=r"Unknown study 'tiyn' in store .*; it has: 'tiny'"):
        export_tensorboard(store, "tiyn", tmp_path)


def test_missing_tensorboard_package_is_named(stored_tiny, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import fail
    store, study = stored_tiny
    with pytest.raises(ReglabError, match=r"needs the tensorboard package.*reglab\[tensorboard\]"):
        export_tensorboard(store, study.name, tmp_path)
