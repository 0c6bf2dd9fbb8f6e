"""label_noise: a fixed fraction of training labels replaced, test labels untouched."""

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.errors import ReglabError
from reglab.study.inputs import prepare_data
from reglab.study.spec import parse_spec


def _spec(dataset="digits", noise=0.3):
    return parse_spec(
        {"name": "noisy", "dataset": dataset, "label_noise": noise, "variants": {"base": {}}}
    )


def test_the_expected_fraction_of_training_labels_changes_and_test_labels_do_not():
    clean = load_dataset("digits")
    data = prepare_data(_spec())
    changed = np.mean(data.y_train != clean.y_train)
    # A replaced label is a uniform class: it stays the same one time in ten.
    assert changed == pytest.approx(0.3 * 0.9, abs=0.04)
    assert np.array_equal(data.y_test, clean.y_test)
    assert np.array_equal(prepare_data(_spec()).y_train, data.y_train)  # fixed, not random


def test_label_noise_on_a_regression_dataset_is_refused():
    with pytest.raises(
        ReglabError, match="`label_noise`: it applies to datasets with integer class"
    ):
        prepare_data(_spec("diabetes", 0.2))


def test_label_noise_must_be_a_fraction():
    with pytest.raises(ReglabError, match="label_noise"):
        _spec(noise=1.5)
