"""A CNN of reglab layers as a population: members equal their single fits, the same seeds
give the same numbers, augmentation runs per member on (N, C, H, W) images."""

import numpy as np

from reglab import Augment, fit, predict
from reglab.nn import (
    L2,
    Activation,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    Sequential,
    SpatialDropout2D,
)


def images(n=80, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 10, 10), dtype=np.float32)
    return x, (x[:, 0, :5].mean((1, 2)) > x[:, 0, 5:].mean((1, 2))).astype(int)


def cnn(dropout, spatial, penalty):
    # No bias before batch norm: BN subtracts the mean, so that bias's gradient is rounding
    # noise, which Adam amplifies (the population would then match only the losses).
    return Sequential([
        Conv2D(4, 3, padding="same", kernel_regularizer=penalty, use_bias=False),
        BatchNorm(), Activation("relu"),
        MaxPool2D(2), SpatialDropout2D(spatial), Conv2D(6, 3, activation="relu"), Flatten(),
        Dense(16, "relu"), Dropout(dropout), Dense(None),
    ])  # fmt: skip


SETTINGS = [(0.0, 0.0, None), (0.5, 0.2, L2(1e-3)), (0.3, 0.0, L2(1e-2))]


def test_a_cnn_population_equals_its_single_fits():
    x, y = images()
    population = cnn(*[[s[i] for s in SETTINGS] for i in range(3)])
    options = dict(epochs=2, batch_size=16, validation_data=(x[:24], y[:24]))
    histories = fit(population, x, y, seed=[10, 11, 12], **options)
    for k, settings in enumerate(SETTINGS):
        alone = cnn(*settings)
        single = fit(alone, x, y, seed=10 + k, **options)
        np.testing.assert_allclose(histories[k].history["loss"], single.history["loss"],
                                   rtol=1e-5)  # fmt: skip
        for a, b in zip(population.get_weights(member=k), alone.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(predict(population, x[:8])[k], predict(alone, x[:8]),
                                   rtol=1e-4, atol=1e-6)  # fmt: skip


def test_the_same_seeds_give_identical_numbers():
    x, y = images()
    runs = [fit(cnn(0.5, 0.2, None), x, y, epochs=2, seed=3).history["loss"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_augmentation_runs_per_member_on_image_batches():
    x, y = images()
    augment = Augment(rotation=10.0, translate=0.1)
    a = fit(cnn([0.0, 0.0], 0.0, None), x, y, epochs=1, seed=[0, 1], augment=augment)
    b = fit(cnn(0.0, 0.0, None), x, y, epochs=1, seed=1, augment=augment)
    np.testing.assert_allclose(a[1].history["loss"], b.history["loss"], rtol=1e-5)
