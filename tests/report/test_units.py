"""Metric presentation, and the package's public names."""

import pytest

import reglab.report
from reglab.errors import ReglabError
from reglab.study.units import metric_units


def test_unknown_metric_is_refused_with_a_suggestion():
    with pytest.raises(ReglabError, match="Received: metric='acuracy'; did you mean 'accuracy'"):
        metric_units("acuracy")


def test_mae_gap_is_positive_when_the_test_error_is_larger():
    assert metric_units("mae").gap(train=1.0, test=1.5) == pytest.approx(0.5)


def test_one_run_shows_the_mean_without_an_interval():
    from reglab.validate import mean_ci

    assert metric_units("accuracy").format_ci(mean_ci([91.5])) == "91.50"


def test_every_public_name_is_importable():
    assert all(hasattr(reglab.report, name) for name in reglab.report.__all__)
    assert {"write_report", "export_tensorboard", "learning_curves", "weight_histograms",
            "kfold_validation_curve"} <= set(reglab.report.__all__)  # fmt: skip
