"""Keras' gradient clipping against a hand computation on one step, per member."""

import math

import numpy as np
import pytest
import torch

from reglab import fit, mlp
from reglab.errors import ReglabError
from reglab.nn.layout import Layout
from reglab.train.optimizers import make_optimizer


def _layout() -> Layout:
    # A dense layer: a (2, 2) kernel, a (1, 2) bias stored padded to 4 columns.
    layout = Layout()
    layout.add("dense/kernel", (2, 2), "kernel")
    layout.add("dense/bias", (1, 2), "bias", pad_to=4)
    return layout


# The kernel's gradient [[3, 0], [0, 4]] has norm 5, the bias's [0.6, 0.8] norm 1; all
# of them together sqrt(26). Padding columns are zero.
GRADIENT = [3.0, 0.0, 0.0, 4.0, 0.6, 0.8, 0.0, 0.0]
UNCLIPPED = torch.tensor(GRADIENT).tolist()  # the same numbers rounded to float32


def _one_sgd_step(**clip) -> list[float]:
    """With SGD at lr 1 from zero weights, the weights after one step are minus the
    clipped gradient."""
    bank, grad = torch.zeros(1, 8), torch.tensor([GRADIENT])
    make_optimizer("sgd", bank, grad, [1.0], layout=_layout(), **clip).step()
    return (-bank[0]).tolist()


def test_clipnorm_clips_each_variable_on_its_own():
    # Kernel: 5 > 2, scaled by 2/5; bias: 1 < 2, unchanged.
    expected = [1.2, 0.0, 0.0, 1.6, 0.6, 0.8, 0.0, 0.0]
    assert _one_sgd_step(clipnorm=2.0) == pytest.approx(expected, rel=1e-6)


def test_global_clipnorm_scales_all_variables_together():
    scale = 2.0 / math.sqrt(26.0)
    expected = [v * scale for v in GRADIENT]
    assert _one_sgd_step(global_clipnorm=2.0) == pytest.approx(expected, rel=1e-6)


def test_clipvalue_clips_each_element():
    expected = [0.7, 0.0, 0.0, 0.7, 0.6, 0.7, 0.0, 0.0]
    assert _one_sgd_step(clipvalue=0.7) == pytest.approx(expected, rel=1e-6)


def test_a_threshold_above_every_norm_changes_nothing():
    assert _one_sgd_step(clipnorm=10.0) == UNCLIPPED


def test_members_clip_by_their_own_thresholds():
    bank, grad = torch.zeros(3, 8), torch.tensor([GRADIENT] * 3)
    make_optimizer("sgd", bank, grad, [1.0] * 3, layout=_layout(),
                   clipnorm=[2.0, None, 0.5]).step()  # fmt: skip
    assert (-bank[0]).tolist() == pytest.approx(_one_sgd_step(clipnorm=2.0), rel=1e-6)
    assert (-bank[1]).tolist() == UNCLIPPED  # no clipping: exactly the gradient
    assert (-bank[2]).tolist() == pytest.approx(_one_sgd_step(clipnorm=0.5), rel=1e-6)


def test_members_may_clip_in_different_ways():
    bank, grad = torch.zeros(2, 8), torch.tensor([GRADIENT] * 2)
    make_optimizer("sgd", bank, grad, [1.0] * 2, layout=_layout(), clipvalue=[0.7, None],
                   global_clipnorm=[None, 2.0]).step()  # fmt: skip
    assert (-bank[0]).tolist() == pytest.approx(_one_sgd_step(clipvalue=0.7), rel=1e-6)
    assert (-bank[1]).tolist() == pytest.approx(_one_sgd_step(global_clipnorm=2.0), rel=1e-6)


def test_population_differing_in_clipnorm_equals_single_fits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    clips, seeds = [0.05, None, 0.5], [0, 1, 2]
    options = dict(epochs=3, batch_size=16, optimizer="sgd", learning_rate=0.5, momentum=0.5)
    together = fit(mlp([8], members=3), x, y, seed=seeds, clipnorm=clips, **options)
    for member, (seed, clip) in enumerate(zip(seeds, clips)):
        alone = fit(mlp([8]), x, y, seed=seed, clipnorm=clip, **options)
        for ours, theirs in zip(together[member].rows, alone.rows):
            assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-5, abs=1e-6)
    # The clipping bites: the strongest clip trains differently from no clip.
    assert together[0].rows[-1]["loss"] != pytest.approx(together[1].rows[-1]["loss"], rel=1e-3)


@pytest.mark.parametrize(
    "clip, message",
    [
        (dict(clipnorm=0.0),
         r"`clipnorm`: expected a float in \(0, inf\)\. Received: clipnorm=0\.0"),
        (dict(clipvalue=-1.0), r"`clipvalue`: expected a float in \(0, inf\)"),
        (dict(clipnorm=1.0, global_clipnorm=2.0),
         r"give at most one of clipnorm, clipvalue and global_clipnorm per model \(Keras' "
         r"rule\)\. Received for member 0: clipnorm=1\.0, global_clipnorm=2\.0\."),
        (dict(clipnorm=[1.0, 2.0, 3.0]),
         r"`clipnorm` of the optimizer: expected one value per model member \(2\)\. "
         r"Received 3 values\."),
        (dict(clipnorm=[None, 1.0], clipvalue=[None, 0.5]),
         r"Received for member 1: clipnorm=1\.0, clipvalue=0\.5\."),
    ],
)  # fmt: skip
def test_bad_clipping_is_refused_in_one_line(clip, message):
    with pytest.raises(ReglabError, match=message):
        make_optimizer("sgd", torch.zeros(2, 8), torch.zeros(2, 8), [0.1] * 2, **clip)
