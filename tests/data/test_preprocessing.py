"""to_categorical, scale_images and Standardizer against NumPy formulas and Keras' semantics."""

import numpy as np
import pytest

from reglab.data import Standardizer, scale_images, to_categorical
from reglab.errors import ReglabError, ReglabTypeError


def test_to_categorical_matches_an_identity_matrix_lookup():
    y = np.array([2, 0, 1, 2, 4])
    np.testing.assert_array_equal(to_categorical(y), np.eye(5, dtype=np.float32)[y])
    assert to_categorical(y).dtype == np.float32


def test_to_categorical_with_num_classes_adds_empty_columns():
    assert to_categorical([1, 0], num_classes=4).shape == (2, 4)


def test_to_categorical_drops_a_trailing_axis_of_one_as_keras_does():
    y = np.array([[1], [0], [2]])
    np.testing.assert_array_equal(to_categorical(y), np.eye(3)[[1, 0, 2]])


def test_to_categorical_keeps_leading_axes():
    y = np.array([[0, 1], [1, 1]])
    assert to_categorical(y).shape == (2, 2, 2)


def test_to_categorical_accepts_integral_floats():
    np.testing.assert_array_equal(to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])


def test_to_categorical_refuses_labels_beyond_num_classes():
    with pytest.raises(
        ReglabError,
        match=r"`num_classes` of to_categorical: expected more than "
        r"the largest label 3. Received: num_classes=3",
    ):
        to_categorical([0, 3], num_classes=3)


def test_to_categorical_refuses_negative_labels():
    with pytest.raises(ReglabError, match=r"expected class labels >= 0. Received: y='a label -1'"):
        to_categorical([0, -1])


def test_to_categorical_refuses_fractional_labels():
    with pytest.raises(ReglabError, match=r"expected integer class labels"):
        to_categorical([0.5, 1.0])


def test_scale_images_divides_uint8_by_255():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    scaled = scale_images(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, x.astype(np.float64) / 255.0, rtol=1e-7)
    assert scaled.min() == 0.0 and scaled.max() == 1.0


def test_scale_images_refuses_other_dtypes_with_a_reason():
    with pytest.raises(
        ReglabTypeError,
        match=r"expected uint8 pixel values 0-255 \(already-scaled "
        r"floats need no scaling\). Received: x='an array of dtype float32'",
    ):
        scale_images(np.zeros(3, np.float32))


def test_standardizer_statistics_come_from_the_training_data_only():
    rng = np.random.default_rng(0)
    x_train, x_test = rng.normal(3, 2, (50, 4)), rng.normal(-5, 9, (20, 4))
    scaler = Standardizer().fit(x_train)
    np.testing.assert_allclose(scaler.mean_, x_train.mean(axis=0))
    np.testing.assert_allclose(scaler.std_, x_train.std(axis=0))
    expected = (x_test - x_train.mean(axis=0)) / x_train.std(axis=0)
    np.testing.assert_allclose(scaler.transform(x_test), expected, rtol=1e-5, atol=1e-5)


def test_standardized_training_data_has_zero_mean_unit_std():
    x = np.random.default_rng(1).uniform(0, 100, (200, 3))
    z = Standardizer().fit_transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-5)


def test_constant_column_maps_to_zero_not_nan():
    x = np.array([[1.0, 7.0], [3.0, 7.0]])
    z = Standardizer().fit_transform(x)
    np.testing.assert_array_equal(z[:, 1], [0.0, 0.0])


def test_refitting_replaces_the_statistics():
    scaler = Standardizer().fit(np.array([[0.0], [2.0]]))
    scaler.fit(np.array([[10.0], [30.0]]))
    np.testing.assert_array_equal(scaler.mean_, [20.0])


def test_standardizer_works_per_pixel_on_images():
    x = np.random.default_rng(2).integers(0, 256, (10, 4, 4)).astype(np.uint8)
    scaler = Standardizer().fit(x)
    assert scaler.mean_.shape == (4, 4)
    np.testing.assert_allclose(scaler.mean_, x.mean(axis=0))


def test_transform_before_fit_is_an_error():
    with pytest.raises(ReglabError, match=r"Standardizer is not fitted yet: call fit\(x_train\)"):
        Standardizer().transform(np.zeros((2, 2)))


def test_transform_with_other_features_is_an_error():
    scaler = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(
        ReglabError,
        match=r"expected samples of shape \(2,\) as in fit. Received: "
        r"x='samples of shape \(5,\)'",
    ):
        scaler.transform(np.zeros((3, 5)))


def test_fit_refuses_a_vector():
    with pytest.raises(
        ReglabError,
        match=r"`x` of Standardizer.fit: expected a non-empty numeric "
        r"array",
    ):
        Standardizer().fit(np.zeros(5))
