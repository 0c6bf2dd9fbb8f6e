"""DropConnect against a masked F.linear, and its expected weights at evaluation."""

import pytest
import torch
import torch.nn.functional as F

from reglab.errors import ReglabError
from reglab.nn import DropConnect, dropconnect_linear


def test_training_equals_linear_with_masked_weights():
    x, w, b = torch.randn(5, 4), torch.randn(3, 4), torch.randn(3)
    out = dropconnect_linear(
        x, w, b, 0.5, training=True, generator=torch.Generator().manual_seed(0)
    )
    keep = torch.rand(w.shape, generator=torch.Generator().manual_seed(0)) >= 0.5
    torch.testing.assert_close(out, F.linear(x, w * keep, b))


def test_evaluation_uses_expected_weights():
    x, w = torch.randn(5, 4), torch.randn(3, 4)
    torch.testing.assert_close(
        dropconnect_linear(x, w, None, 0.25, training=False), F.linear(x, 0.75 * w)
    )


def test_training_mean_over_masks_approaches_evaluation_output():
    layer = DropConnect(2, rate=0.5, in_features=6)
    x = torch.randn(3, 6)
    with torch.no_grad():
        draws = torch.stack([layer.train()(x) for _ in range(4000)]).mean(0)
        torch.testing.assert_close(draws, layer.eval()(x), atol=0.05, rtol=0.05)


def test_rate_is_validated():
    with pytest.raises(ReglabError, match="`rate` of DropConnect"):
        DropConnect(2, rate=-0.1, in_features=2)
