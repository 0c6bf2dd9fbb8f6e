"""Dropout's two modes: same expectation, right evaluation behaviour, rate = drop probability."""

import numpy as np
import pytest
import torch

from reglab.errors import ReglabError
from reglab.nn import Dropout, dropout


@pytest.mark.parametrize("mode", ["inverted", "classic"])
def test_training_output_expectation_equals_evaluation_output(mode):
    x = torch.full((200_000,), 2.0)
    gen = torch.Generator().manual_seed(0)
    trained = dropout(x, 0.75, training=True, mode=mode, generator=gen)
    evaluated = dropout(x, 0.75, training=False, mode=mode)
    # Both modes: E[train] = eval output; for inverted that is x, for classic (1-rate)*x.
    assert trained.mean().item() == pytest.approx(evaluated.mean().item(), rel=0.02)


def test_rate_is_the_drop_probability():
    gen = torch.Generator().manual_seed(1)
    out = dropout(torch.ones(100_000), 0.75, training=True, generator=gen)
    assert (out == 0).float().mean().item() == pytest.approx(0.75, abs=0.01)


def test_inverted_scales_kept_units_in_training_and_is_identity_at_evaluation():
    x = torch.ones(1000)
    out = dropout(x, 0.5, training=True, generator=torch.Generator().manual_seed(2))
    assert set(np.unique(out.numpy())) <= {0.0, 2.0}
    assert torch.equal(dropout(x, 0.5, training=False), x)


def test_classic_keeps_units_unscaled_and_scales_at_evaluation():
    x = torch.ones(1000)
    out = dropout(x, 0.5, training=True, mode="classic", generator=torch.Generator().manual_seed(3))
    assert set(np.unique(out.numpy())) <= {0.0, 1.0}
    assert torch.allclose(dropout(x, 0.5, training=False, mode="classic"), x * 0.5)


def test_layer_matches_torch_dropout_mask_for_mask():
    torch.manual_seed(5)
    ours = Dropout(0.3)(torch.ones(1000))
    torch.manual_seed(5)
    keep = torch.rand(1000) >= 0.3
    assert torch.equal(ours, keep * (1 / 0.7) * torch.ones(1000))


def test_rate_outside_unit_interval_is_refused():
    with pytest.raises(
        ReglabError, match=r"`rate` of Dropout: expected a float in \[0, 1\)\. Received: rate=1\.5"
    ):
        Dropout(1.5)


def test_unknown_mode_is_refused_with_suggestion():
    with pytest.raises(ReglabError, match="did you mean 'classic'"):
        Dropout(0.5, mode="clasic")
