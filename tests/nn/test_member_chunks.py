"""A training step that runs the members a few at a time (member chunks) gives every member
the numbers it gets when all members run at once: same masks and noise (each member's own
generators), same batch norm statistics, gradients equal to float rounding. And a relu
before max pooling, computed after it, gives the same numbers bit for bit."""

import numpy as np
import pytest
import torch

from reglab import cross_validate, fit
from reglab.nn import (
    CHUNK_BYTES,
    L2,
    Activation,
    BatchNorm,
    Conv2D,
    Dense,
    DropConnect,
    Dropout,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    MaxPool2D,
    Sequential,
    SpatialDropout2D,
)
from reglab.nn.layers.base import Pass


def images(n=75, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 8, 8), dtype=np.float32)
    return x, (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).astype(int)


def every_layer(members=4):
    """Each kind of per-member state a layer reads: rates, scales, buffers, masks, noise."""
    rates = [0.0, 0.3, 0.5, 0.2][:members]
    return Sequential([
        GaussianNoise([0.0, 0.1, 0.2, 0.05][:members]),
        Conv2D(4, 3, padding="same", use_bias=False, kernel_regularizer=L2(1e-3)),
        BatchNorm(), Activation("relu"), MaxPool2D(2), SpatialDropout2D(rates),
        Conv2D(6, 3, activation="relu"), Flatten(), GaussianDropout(rates),
        DropConnect(12, rates, "relu"), Dense(16, "tanh"), Dropout(rates), Dense(None),
    ])  # fmt: skip


def chunked(monkeypatch, size):
    monkeypatch.setattr(Sequential, "member_chunk", lambda self, x: size)


def train(x, y, **options):
    model = every_layer()
    histories = fit(model, x, y, seed=[5, 6, 7, 8], epochs=2, batch_size=16, **options)
    buffers = {name: b.clone() for name, b in model.member_buffers().items()}
    return model.bank.clone(), [h.history["loss"] for h in histories], buffers


@pytest.mark.parametrize("size", [1, 3])
def test_members_in_chunks_train_as_all_at_once(monkeypatch, size):
    x, y = images()  # 75 rows: the last batch of each epoch is short and padded
    bank, losses, buffers = train(x, y)
    chunked(monkeypatch, size)
    bank_c, losses_c, buffers_c = train(x, y)
    np.testing.assert_allclose(losses_c, losses, rtol=1e-5)
    torch.testing.assert_close(bank_c, bank, rtol=1e-4, atol=1e-6)
    assert buffers_c.keys() == buffers.keys() and buffers
    for name in buffers:
        torch.testing.assert_close(buffers_c[name], buffers[name], rtol=1e-4, atol=1e-6)


def test_chunks_with_members_of_unequal_rows(monkeypatch):
    # K-fold's members train on folds of 25 and 24 rows: steps with per-member padding.
    x, y = images(n=73)

    model = Sequential([Conv2D(3, 3), BatchNorm(), Activation("relu"), MaxPool2D(2), Flatten(),
                        Dropout(0.3), Dense(None)])  # fmt: skip

    def folds():
        cv = cross_validate(model, x, y, folds=3, seed=1, epochs=2, batch_size=16)
        return [h.history["loss"] for h in cv.histories]

    whole = folds()
    chunked(monkeypatch, 1)
    np.testing.assert_allclose(folds(), whole, rtol=1e-5)


@pytest.mark.parametrize("separate", [True, False])
def test_a_relu_before_max_pooling_gives_the_same_numbers_after_it(separate):
    from reglab.data import infer_task

    x = torch.randn(2, 6, 3, 8, 8)  # windows of negative values only, and ties, occur
    x[:, :, :, :2, :2] = -1.0
    x[:, :, :, 4:6, 4:6] = 0.5
    if separate:  # Activation("relu") then MaxPool2D
        head = [Conv2D(4, 3, padding="same"), Activation("relu"), MaxPool2D(2)]
    else:  # Conv2D(..., activation="relu") then MaxPool2D, as Keras' tutorials write it
        head = [Conv2D(4, 3, padding="same", activation="relu"), MaxPool2D(2)]
    model = Sequential([*head, Flatten(), Dense(None)], members=2)
    model.build((3, 8, 8), infer_task(np.array([0, 1, 2])), [0, 1])
    pool = model.layers[2 if separate else 1]
    assert model._compute_order[1] == pool.forward  # pooled before the relu
    assert len(model._compute_order) == len(model.layers) + (0 if separate else 1)

    def logits_and_grads(steps):
        run = Pass(model, True)
        h = x
        for step in steps:
            h = step(h, run)
        grads = torch.autograd.grad(h.square().sum(), list(model.params.values()))
        return h.detach(), grads

    ours, our_grads = logits_and_grads(model._compute_order)
    declared, declared_grads = logits_and_grads([layer.forward for layer in model.layers])
    assert torch.equal(ours, declared)
    assert all(torch.equal(a, b) for a, b in zip(our_grads, declared_grads))


def test_large_feature_maps_run_in_chunks_on_a_cpu_and_small_ones_do_not():
    from reglab.data import infer_task

    task = infer_task(np.array([0, 1, 2]))
    cnn = Sequential([Conv2D(32, 3), Flatten(), Dense(None)], members=8)
    cnn.build((1, 28, 28), task, list(range(8)))
    batch = torch.zeros(8, 64, 1, 28, 28)
    per_member = 32 * 26 * 26 * 64 * 4  # its largest activation: the convolution's maps
    assert cnn.member_chunk(batch) == CHUNK_BYTES // per_member
    assert 1 <= cnn.member_chunk(batch) < 8
    mlp = Sequential([Dense(64, "relu"), BatchNorm(), Dense(None)], members=8)
    mlp.build(20, task, list(range(8)))
    assert mlp.member_chunk(torch.zeros(8, 64, 20)) >= 8
    cnn.member_chunk_size = 8  # the user's choice wins
    assert cnn.member_chunk(batch) == 8
