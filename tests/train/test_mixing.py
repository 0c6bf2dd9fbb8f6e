"""Mixup and CutMix: the mixed batch and targets of a fixed draw, reproduced by hand."""

import numpy as np
import pytest
import torch

from reglab import ReglabError, Sequential, fit, mlp
from reglab.data import multi_hot
from reglab.nn import Conv2D, Dense, Flatten
from reglab.nn.masks import derive_seed
from reglab.train.inputs import Batch
from reglab.train.mixing import BatchMixer, box


def _images(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2, 6, 5)).astype(np.float32)
    return x, rng.integers(0, 3, n)


def _timm_box(lam, h, w, cy, cx):
    """timm's rand_bbox (margin 0), written out: rows then columns."""
    r = np.sqrt(1 - lam)
    ch, cw = int(h * r), int(w * r)
    return (np.clip(cy - ch // 2, 0, h), np.clip(cy + ch // 2, 0, h),
            np.clip(cx - cw // 2, 0, w), np.clip(cx + cw // 2, 0, w))  # fmt: skip


def test_mixup_batch_and_targets_for_a_fixed_draw():
    rng = np.random.default_rng(5)
    k, b = 2, 8
    x = rng.normal(size=(k, b, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (k, b))]
    mixer = BatchMixer([0.4, None], [None, None], seeds=[7, 8], sample_shape=(4,))
    mx, my = mixer(torch.tensor(x), torch.tensor(y), Batch(torch.zeros(k, b, dtype=torch.long)))
    # Member 0's documented stream: lam, then the partners.
    draw = np.random.default_rng(derive_seed(7, "mixup"))
    lam = draw.beta(0.4, 0.4)
    perm = draw.permutation(b)
    np.testing.assert_allclose(mx[0].numpy(), lam * x[0] + (1 - lam) * x[0][perm], rtol=1e-6)
    np.testing.assert_allclose(my[0].numpy(), lam * y[0] + (1 - lam) * y[0][perm], rtol=1e-6)
    # Member 1 does not mix.
    assert torch.equal(mx[1], torch.tensor(x[1])) and torch.equal(my[1], torch.tensor(y[1]))


def test_mixup_draws_only_for_the_members_real_rows():
    k, b = 2, 8
    x = torch.arange(k * b * 1, dtype=torch.float32).view(k, b, 1)
    y = torch.eye(2)[torch.zeros(k, b, dtype=torch.long)]
    batch = Batch(torch.zeros(k, b, dtype=torch.long), counts=[5, 8])
    mixer = BatchMixer([1.0, 1.0], [None, None], seeds=[3, 4], sample_shape=(1,))
    mx, _ = mixer(x, y, batch)
    draw = np.random.default_rng(derive_seed(3, "mixup"))
    lam, perm = draw.beta(1.0, 1.0), draw.permutation(5)
    expected = lam * x[0, :5, 0].numpy() + (1 - lam) * x[0, :5, 0].numpy()[perm]
    np.testing.assert_allclose(mx[0, :5, 0].numpy(), expected, rtol=1e-6)
    assert torch.equal(mx[0, 5:], x[0, 5:])  # padding stays as it is


def test_cutmix_box_and_area_weighted_targets_for_a_fixed_draw():
    x, labels = _images(n=6)
    k, b, (c, h, w) = 1, len(x), x.shape[1:]
    y = np.eye(3, dtype=np.float32)[labels]
    mixer = BatchMixer([None], [1.0], seeds=[11], sample_shape=(c, h, w))
    mx, my = mixer(torch.tensor(x)[None], torch.tensor(y)[None],
                   Batch(torch.zeros(k, b, dtype=torch.long)))  # fmt: skip
    draw = np.random.default_rng(derive_seed(11, "mixup"))
    lam = draw.beta(1.0, 1.0)
    cy, cx = draw.integers(h), draw.integers(w)
    perm = draw.permutation(b)
    top, bottom, left, right = _timm_box(lam, h, w, cy, cx)
    expected = x.copy()
    expected[:, :, top:bottom, left:right] = x[perm][:, :, top:bottom, left:right]
    np.testing.assert_array_equal(mx[0].numpy(), expected)
    area = 1 - (bottom - top) * (right - left) / (h * w)
    np.testing.assert_allclose(my[0].numpy(), area * y + (1 - area) * y[perm], rtol=1e-6)


def test_mixup_trains_on_the_documented_mixed_batch():
    """Through fit: with a learning rate too small to move the weights, epoch 1's loss is
    the initial model's soft cross-entropy on the hand-mixed batch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = x[:, :3].argmax(1)
    model = mlp([])
    h = fit(model, x, y, epochs=1, batch_size=16, shuffle=False, optimizer="sgd",
            learning_rate=1e-12, seed=2, mixup=0.3)  # fmt: skip
    draw = np.random.default_rng(derive_seed(2, "mixup"))
    lam, perm = draw.beta(0.3, 0.3), draw.permutation(16)
    mixed_x = lam * x + (1 - lam) * x[perm]
    soft = lam * np.eye(3)[y] + (1 - lam) * np.eye(3)[y][perm]
    w, b = (a.astype(np.float64) for a in model.get_weights())
    z = mixed_x @ w + b.reshape(-1)
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    assert h.rows[0]["data_loss"] == pytest.approx(-(soft * logp).sum(1).mean(), rel=1e-5)


def test_population_members_that_mix_differently_equal_their_single_fits():
    x, y = _images(n=40)
    layers = [Conv2D(3, 3, activation="relu"), Flatten(), Dense(None)]
    mixup, cutmix = [None, 0.2, None], [None, None, 1.0]
    settings = dict(epochs=2, batch_size=16, validation_data=(x, y))
    population = fit(Sequential(layers, members=3), x, y, seed=[0, 1, 2], mixup=mixup,
                     cutmix=cutmix, **settings)  # fmt: skip
    for m in range(3):
        single = fit(Sequential(layers), x, y, seed=m, mixup=mixup[m], cutmix=cutmix[m],
                     **settings)  # fmt: skip
        for ours, theirs in zip(population[m].rows, single.rows):
            for key in ("loss", "accuracy", "val_loss"):
                assert ours[key] == pytest.approx(theirs[key], rel=1e-5), key
    assert population[0].rows[0]["loss"] != pytest.approx(population[1].rows[0]["loss"])


def test_cutmix_refuses_flat_samples():
    x = np.zeros((8, 36), dtype=np.float32)
    with pytest.raises(ReglabError, match=r"`cutmix` of fit: .*\(channels, height, width\)\. "
                                          r"Received: samples of shape \(36,\)"):  # fmt: skip
        fit(mlp([4]), x, np.arange(8) % 2, cutmix=1.0)


def test_mixup_and_cutmix_on_one_member_are_refused():
    x, y = _images()
    with pytest.raises(ReglabError, match="a member mixes one way; member 0"):
        fit(Sequential([Flatten(), Dense(None)]), x, y, mixup=0.2, cutmix=1.0)


def test_mixing_refuses_regression_and_multi_hot_inputs():
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    with pytest.raises(ReglabError, match=r"`mixup` of fit: .*regression.*Received: mixup=0\.2"):
        fit(mlp([4]), x, x.sum(1), mixup=0.2)
    words = multi_hot([[1, 2], [3], [0, 4], [2]] * 2, num_words=5, sparse=True)
    with pytest.raises(ReglabError, match="`mixup` of fit: multi-hot inputs cannot be mixed"):
        fit(mlp([4]), words, np.arange(8) % 2, mixup=0.2)


@pytest.mark.parametrize("alpha", [0, -1.0])
def test_alpha_must_be_positive(alpha):
    x = np.zeros((8, 3), dtype=np.float32)
    with pytest.raises(ReglabError, match=r"`mixup` of fit: expected a float in \(0, inf\)"):
        fit(mlp([4]), x, np.arange(8) % 2, mixup=alpha)


def test_box_is_timms_box():
    for lam in (0.1, 0.5, 0.9):
        for cy, cx in ((0, 0), (3, 2), (5, 4)):
            assert box(lam, 6, 5, cy, cx) == tuple(int(v) for v in _timm_box(lam, 6, 5, cy, cx))
