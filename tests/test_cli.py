"""The command line's own behaviour: help, version, datasets, and bad usage."""

import subprocess
import sys

import reglab
from reglab.cli import main


def test_version_prints_the_package_version(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.strip() == f"reglab {reglab.__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_datasets_lists_every_known_dataset_and_where_it_is(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("mnist", "fashion_mnist", "imdb", "reuters", "boston_housing", "digits", "iris"):
        assert name in out


def test_a_library_error_is_one_line_with_exit_status_2():
    # Through the installed entry point, as a user meets it: no traceback.
    result = subprocess.run(
        [sys.executable, "-m", "reglab.cli", "demo", "--dataset", "cifar"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "expected one of 'digits', 'fashion_mnist'" in result.stderr
