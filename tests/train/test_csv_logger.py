"""CSVLogger's files against the History rows fit returns (Keras' CSVLogger layout)."""

import csv

import numpy as np
import pytest

from reglab import CSVLogger, fit, mlp
from reglab.errors import ReglabError, ReglabTypeError


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


def read(path, separator=","):
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=separator))


def test_the_file_holds_epoch_then_the_sorted_columns_of_every_row(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    history = fit(mlp([4]), x, y, epochs=3, validation_data=(x, y), callbacks=[CSVLogger(path)])
    lines = read(path)
    keys = sorted(k for k in history.rows[0] if k != "epoch")
    assert lines[0] == ["epoch", *keys]
    assert len(lines) == 4
    for line, row in zip(lines[1:], history.rows, strict=True):
        assert line[0] == str(int(row["epoch"]))
        assert [float(v) for v in line[1:]] == [row[k] for k in keys]  # written exactly


def test_one_file_per_member_each_its_members_history(tmp_path):
    x, y = data()
    logger = CSVLogger(tmp_path / "run-{member}.csv", separator=";")
    histories = fit(mlp([4], members=3), x, y, epochs=2, seed=[0, 1, 2], callbacks=[logger])
    for m, history in enumerate(histories):
        lines = read(tmp_path / f"run-{m}.csv", ";")
        column = lines[0].index("loss")
        assert [float(line[column]) for line in lines[1:]] == history.history["loss"]


def test_append_adds_rows_under_the_one_header(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    fit(mlp([4]), x, y, epochs=2, callbacks=[CSVLogger(path)])
    fit(mlp([4]), x, y, epochs=1, callbacks=[CSVLogger(path, append=True)])
    lines = read(path)
    assert lines[0][0] == "epoch" and [line[0] for line in lines[1:]] == ["1", "2", "1"]


def test_without_append_a_new_fit_overwrites_the_file(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    fit(mlp([4]), x, y, epochs=3, callbacks=[logger])
    fit(mlp([4]), x, y, epochs=1, callbacks=[logger])
    assert [line[0] for line in read(path)] == ["epoch", "1"]


def test_a_member_that_stops_early_ends_its_file(tmp_path):
    from reglab import EarlyStopping

    x, y = data()
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=100.0)  # stops at epoch 2
    fit(mlp([4], members=2), x, y, epochs=4, seed=[0, 1], early_stopping=[stop, None],
        callbacks=[CSVLogger(tmp_path / "m{member}.csv")])  # fmt: skip
    assert len(read(tmp_path / "m0.csv")) == 1 + 2
    assert len(read(tmp_path / "m1.csv")) == 1 + 4


def test_several_members_writing_one_file_are_refused(tmp_path):
    x, y = data()
    with pytest.raises(ReglabError, match=r"the 2 members of the population would all write one "
                                          r"file; put '\{member\}' in the name"):  # fmt: skip
        fit(mlp([4], members=2), x, y, seed=[0, 1], callbacks=[CSVLogger(tmp_path / "a.csv")])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"filename": ""}, ReglabTypeError, r"`filename` of CSVLogger: expected a file path"),
        ({"filename": 3}, ReglabTypeError, r"Received: filename=3\."),
        ({"filename": "a.csv", "separator": ";;"}, ReglabError,
         r"`separator` of CSVLogger: expected one character\. Received: separator=';;'\."),
        ({"filename": "a.csv", "append": "yes"}, ReglabTypeError,
         r"`append` of CSVLogger: expected True or False"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_clear_line(kwargs, error, message):
    with pytest.raises(error, match=message):
        CSVLogger(**kwargs)
