"""Image augmentation: kornia's warp with per-member parameters, training batches only."""

import numpy as np
import pytest
import torch

from reglab import Augment, fit, mlp
from reglab.errors import ReglabError


def _image():
    image = torch.zeros(1, 1, 9, 9)
    image[0, 0, 2, 4] = 1.0  # one bright pixel above the centre (4, 4)
    return image


def test_identity_parameters_leave_images_unchanged():
    image = torch.rand(3, 1, 8, 8)
    out = Augment().apply(image, torch.zeros(3), torch.ones(3), torch.zeros(3, 2))
    torch.testing.assert_close(out, image)


def test_quarter_turn_moves_a_pixel_like_rot90():
    out = Augment(rotation=90).apply(
        _image(), torch.tensor([90.0]), torch.ones(1), torch.zeros(1, 2)
    )
    # Rows grow downwards, so kornia's positive angle turns the image like rot90(k=-1).
    torch.testing.assert_close(out, torch.rot90(_image(), -1, dims=(2, 3)), atol=1e-5, rtol=0)


def test_translation_by_a_fraction_shifts_by_that_many_pixels():
    shift = torch.tensor([[1 / 9, 0.0]])  # one pixel to the right
    out = Augment(translate=0.2).apply(_image(), torch.zeros(1), torch.ones(1), shift)
    assert out[0, 0, 2, 5] == pytest.approx(1.0, abs=1e-5)


def test_sampled_parameters_stay_in_their_ranges():
    aug = Augment(rotation=10, scale=(0.9, 1.1), translate=0.1)
    angles, scales, shifts = aug.sample(1000, torch.Generator().manual_seed(0))
    assert angles.abs().max() <= 10 and angles.abs().max() > 9
    assert scales.min() >= 0.9 and scales.max() <= 1.1
    assert shifts.abs().max() <= 0.1


def test_augmented_training_is_reproducible_and_changes_training_only():
    rng = np.random.default_rng(0)
    x = rng.random((64, 64), dtype=np.float32)
    y = rng.integers(0, 3, 64)
    aug = Augment(rotation=15, translate=0.1)
    a = fit(mlp([8]), x, y, epochs=2, augment=aug, validation_data=(x, y), seed=1)
    b = fit(mlp([8]), x, y, epochs=2, augment=aug, validation_data=(x, y), seed=1)
    plain = fit(mlp([8]), x, y, epochs=2, validation_data=(x, y), seed=1)
    assert a.rows == [{**r, "epoch_time": a.rows[i]["epoch_time"]} for i, r in enumerate(b.rows)]
    assert a.rows[0]["data_loss"] != plain.rows[0]["data_loss"]


def test_bad_augment_arguments_are_named():
    with pytest.raises(ReglabError, match=r"`scale` of Augment: expected low <= high"):
        Augment(scale=(1.2, 0.8))
    with pytest.raises(ReglabError, match="30 features are not a square image"):
        fit(mlp([4]), np.zeros((4, 30), np.float32), np.arange(4) % 2, augment=Augment(rotation=5))
