"""Stacked batch norm against torch.nn.BatchNorm1d, member by member."""

import pytest
import torch

from reglab.errors import ReglabError
from reglab.nn import BatchNormConfig, stacked_batch_norm


@pytest.mark.parametrize("affine", [True, False])
def test_training_then_evaluation_match_batchnorm1d_for_every_member(affine):
    torch.manual_seed(0)
    k, b, h = 3, 8, 5
    config = BatchNormConfig(momentum=0.2, eps=1e-3, affine=affine)
    refs = [torch.nn.BatchNorm1d(h, momentum=0.2, eps=1e-3, affine=affine) for _ in range(k)]
    gamma = torch.rand(k, 1, h) + 0.5 if affine else None
    beta = torch.randn(k, 1, h) if affine else None
    for m, ref in enumerate(refs):
        if affine:
            ref.weight.data = gamma[m, 0].clone()
            ref.bias.data = beta[m, 0].clone()
    running_mean, running_var = torch.zeros(k, 1, h), torch.ones(k, 1, h)
    for _ in range(3):
        x = torch.randn(k, b, h) * 3 + 1
        out = stacked_batch_norm(
            x, running_mean, running_var, gamma, beta, training=True, config=config
        )
        for m, ref in enumerate(refs):
            torch.testing.assert_close(out[m], ref.train()(x[m]))
    x = torch.randn(k, b, h)
    out = stacked_batch_norm(
        x, running_mean, running_var, gamma, beta, training=False, config=config
    )
    for m, ref in enumerate(refs):
        torch.testing.assert_close(running_var[m, 0], ref.running_var)
        torch.testing.assert_close(out[m], ref.eval()(x[m]))


def test_without_running_stats_evaluation_uses_batch_statistics():
    config = BatchNormConfig(track_running_stats=False)
    ref = torch.nn.BatchNorm1d(4, track_running_stats=False, affine=False).eval()
    x = torch.randn(1, 6, 4)
    out = stacked_batch_norm(x, None, None, None, None, training=False, config=config)
    torch.testing.assert_close(out[0], ref(x[0]))


def test_padded_rows_do_not_enter_the_statistics():
    config = BatchNormConfig(affine=False)
    x = torch.randn(1, 6, 3)
    weight = torch.tensor([1, 1, 1, 1, 0, 0], dtype=torch.float32).view(1, 6, 1)
    rm, rv = torch.zeros(1, 1, 3), torch.ones(1, 1, 3)
    out = stacked_batch_norm(
        x, rm, rv, None, None, training=True, config=config, sample_weight=weight
    )
    ref = torch.nn.BatchNorm1d(3, affine=False).train()
    torch.testing.assert_close(out[0, :4], ref(x[0, :4]))
    torch.testing.assert_close(rv[0, 0], ref.running_var)


def test_frozen_members_keep_their_running_statistics():
    config = BatchNormConfig()
    rm, rv = torch.zeros(2, 1, 3), torch.ones(2, 1, 3)
    update = torch.tensor([1.0, 0.0]).view(2, 1, 1)
    stacked_batch_norm(
        torch.randn(2, 5, 3) + 4, rm, rv, None, None, training=True, config=config, update=update
    )
    assert torch.all(rm[1] == 0) and torch.all(rv[1] == 1) and torch.all(rm[0] != 0)


def test_momentum_outside_unit_interval_is_refused():
    with pytest.raises(
        ReglabError, match=r"`momentum` of BatchNormConfig: expected a float in \[0, 1\]"
    ):
        BatchNormConfig(momentum=1.5)


@pytest.mark.parametrize("training", [True, False])
def test_the_fused_path_for_feature_maps_equals_the_general_path(training):
    # Whole batches of (K, B, C, H, W) maps go through F.batch_norm on the grouped view;
    # a 0/1 `update` of all ones sends the same numbers through the general path.
    torch.manual_seed(1)
    k, c = 3, 4
    config = BatchNormConfig(momentum=0.3, eps=1e-4)
    x = (torch.randn(6, k, c, 5, 5) * 2 + 1).transpose(0, 1)  # the grouped layout's view
    gamma, beta = torch.rand(k, 1, c, 1, 1) + 0.5, torch.randn(k, 1, c, 1, 1)
    mean, var = torch.rand(k, 1, c, 1, 1), torch.rand(k, 1, c, 1, 1) + 0.5
    stats = [(mean.clone(), var.clone()) for _ in range(2)]
    fused = stacked_batch_norm(x, *stats[0], gamma, beta, training=training, config=config)
    general = stacked_batch_norm(
        x.contiguous(), *stats[1], gamma, beta, training=training, config=config,
        update=torch.ones(k, 1, 1),
    )  # fmt: skip
    torch.testing.assert_close(fused, general, rtol=1e-5, atol=1e-5)
    if training:
        for a, b in zip(stats[0], stats[1]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
