"""No pickle payload ever runs: not through a spec key, not through the trust flag.

A planted ``imdb.npz`` whose object array unpickles to ``os.system("touch MARKER")``
is offered every way a user could vouch for it; the marker file must never appear.
"""

import os
import textwrap

import numpy as np
import pytest

from reglab.cli import main
from reglab.data import load_dataset
from reglab.errors import DataError, ReglabTypeError

SPEC = """
name = "text"
dataset = {dataset}
epochs = 1
[model]
hidden = [4]
[variants.base]
"""


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.fixture
def planted(files, isolated, tmp_path):
    """imdb.npz with a payload in x_train, in the data folder; returns (file, marker)."""
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _RunsCommand(f"touch {marker}")
    path = isolated["data"] / "imdb.npz"
    labels = np.array([1])
    np.savez(path, x_train=evil, y_train=labels, x_test=files.objects([[1]]), y_test=labels)
    return path, marker


def _run(tmp_path, monkeypatch, capsys, dataset, *flags):
    (tmp_path / "study.toml").write_text(textwrap.dedent(SPEC.format(dataset=dataset)))
    monkeypatch.chdir(tmp_path)
    status = main(["run", "study.toml", "--store", "s.db", "--quiet", *flags])
    return status, capsys.readouterr().err


def test_a_spec_cannot_trust_a_file_and_the_payload_never_runs(
    planted, tmp_path, monkeypatch, capsys
):
    _, marker = planted
    status, err = _run(tmp_path, monkeypatch, capsys, '{ name = "imdb", trusted = true }')
    assert status == 2 and err.count("\n") == 1
    assert "dataset: `trusted` is not a spec key: trusting a data file is up to the person " in err
    assert "pass `reglab run SPEC --trust-data FILE`" in err
    assert not marker.exists() and not (tmp_path / "s.db").exists()


def test_the_trust_flag_skips_the_checksum_but_never_the_restricted_reader(
    planted, tmp_path, monkeypatch, capsys
):
    path, marker = planted
    status, err = _run(tmp_path, monkeypatch, capsys, '"imdb"', "--trust-data", str(path))
    assert status == 2 and err.count("\n") == 1
    assert "refused to unpickle array 'x_train' (refused to load `posix.system`)" in err
    assert not marker.exists()


def test_trusted_true_in_python_never_runs_the_payload(planted):
    _, marker = planted
    with pytest.raises(DataError, match=r"refused to unpickle array 'x_train'"):
        load_dataset("imdb", trusted=True)
    assert not marker.exists()


def test_untrusted_the_planted_file_fails_its_checksum_first(
    planted, tmp_path, monkeypatch, capsys
):
    _, marker = planted
    status, err = _run(tmp_path, monkeypatch, capsys, '"imdb"')
    assert status == 2 and "Checksum mismatch for " in err and "--trust-data FILE" in err
    assert not marker.exists()


def test_a_file_you_made_trains_with_the_flag(files, isolated, tmp_path, monkeypatch, capsys):
    path = isolated["data"] / "imdb.npz"
    train, test = [[1, 2, 3], [4, 5], [2, 6, 7], [3]], [[5, 6], [1, 2], [7]]
    np.savez(path, x_train=files.objects(train), y_train=np.array([0, 1, 0, 1]),
             x_test=files.objects(test), y_test=np.array([1, 0, 1]))  # fmt: skip
    status, err = _run(tmp_path, monkeypatch, capsys, '"imdb"', "--trust-data", str(path))
    assert status == 0, err


def test_trust_names_files_and_covers_only_those(files, isolated, tmp_path):
    path = isolated["data"] / "imdb.npz"
    np.savez(path, x_train=files.objects([[1]]), y_train=np.array([1]),
             x_test=files.objects([[2]]), y_test=np.array([0]))  # fmt: skip
    assert len(load_dataset("imdb", trusted=[path]).x_train) == 1
    with pytest.raises(DataError, match=r"Checksum mismatch for .*imdb\.npz"):
        load_dataset("imdb", trusted=[tmp_path / "another.npz"])


def test_a_bare_string_is_not_taken_for_a_path():
    with pytest.raises(
        ReglabTypeError,
        match=r"`trusted` of load_dataset: expected True, False, or a list of the data files you "
        r"vouch for\. Received: trusted='yes'\.",
    ):
        load_dataset("imdb", trusted="yes")


def test_rebuilt_objects_other_than_numbers_are_refused(files, isolated):
    path = isolated["data"] / "imdb.npz"
    np.savez(path, x_train=files.objects([{"a": 1}]), y_train=np.array([1]),
             x_test=files.objects([[2]]), y_test=np.array([0]))  # fmt: skip
    with pytest.raises(
        DataError,
        match=r"array 'x_train' holds a list; expected numbers or lists of numbers",
    ):
        load_dataset("imdb", trusted=True)
