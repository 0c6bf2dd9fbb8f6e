"""Fixtures of the study tests: tiny specs on scikit-learn's embedded iris data."""

import textwrap

import pytest

TINY = """
name = "tiny"
dataset = "iris"
epochs = 3
batch_size = 16
seeds = [0, 1]

[model]
hidden = [8]

[variants.baseline]

[variants.l2]
penalty = { l2 = 0.01 }
"""


@pytest.fixture
def write_spec(tmp_path):
    """Write a TOML spec into the test's folder and return its path."""

    def write(text: str = TINY, name: str = "spec.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
