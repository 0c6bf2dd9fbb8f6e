"""Each population layer against its torch.nn reference, member by member."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reglab.data import infer_task
from reglab.errors import ReglabError
from reglab.nn import (
    AveragePooling2D,
    BatchNorm,
    Conv2D,
    Dense,
    Flatten,
    GaussianNoise,
    MaxPool2D,
    Sequential,
    SpatialDropout2D,
)
from reglab.nn.layers import Pass
from reglab.nn.layers.conv import same_padding

K = 3


def built(layers, input_shape, classes=3, seeds=(0, 1, 2)):
    model = Sequential(layers, members=len(seeds))
    task = infer_task(np.arange(classes))
    model.build(input_shape, task, list(seeds))
    model.reset_generators(list(seeds), "cpu")
    return model


def images(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("padding", "strides", "kernel_size"), [("valid", 1, 3), ("same", 1, 3), ("same", 2, 3),
                                            ("valid", (2, 1), (3, 2)), ("same", 2, 4)]
)  # fmt: skip
def test_conv2d_equals_torch_conv2d_member_by_member(padding, strides, kernel_size):
    conv = Conv2D(5, kernel_size, strides=strides, padding=padding, activation="relu")
    model = built([conv, Flatten(), Dense(None)], (2, 9, 8))
    conv = model.layers[0]  # the model's own copy, built
    x = images(K, 4, 2, 9, 8)
    out = conv.forward(x, Pass(model, training=True))
    kernels, biases = model.get_weights(layer="conv2d_0")
    for k in range(K):
        reference = torch.nn.Conv2d(2, 5, kernel_size, stride=strides)
        with torch.no_grad():
            reference.weight.copy_(torch.as_tensor(kernels[k]))
            reference.bias.copy_(torch.as_tensor(biases[k]))
        xk = x[k]
        if padding == "same":  # Keras' rule: the odd pixel after
            (kh, kw), (sh, sw) = conv.kernel_size, conv.strides
            xk = F.pad(xk, (*same_padding(8, kw, sw), *same_padding(9, kh, sh)))
        torch.testing.assert_close(out[k], torch.relu(reference(xk)))
    if padding == "same":
        assert out.shape[-2:] == (-(-9 // conv.strides[0]), -(-8 // conv.strides[1]))


def test_conv2d_initialisation_is_glorot_uniform_per_member():
    model = built([Conv2D(16, 3), Flatten(), Dense(None)], (4, 6, 6))
    kernels = model.get_weights(layer="conv2d_0")[0]
    limit = np.sqrt(6.0 / (4 * 9 + 16 * 9))
    assert np.abs(kernels).max() <= limit and np.abs(kernels).max() > 0.9 * limit
    assert not np.array_equal(kernels[0], kernels[1])  # each member from its own seed


def test_batchnorm2d_train_and_eval_equal_torch_batchnorm2d():
    bn = BatchNorm(momentum=0.2, eps=1e-3)
    model = built([bn, Flatten(), Dense(None)], (3, 4, 4))
    bn = model.layers[0]
    x = images(K, 6, 3, 4, 4) * 2 + 1
    with torch.no_grad():
        model.params["batch_norm_0/gamma"].copy_(torch.rand(K, 1, 3, 1, 1) + 0.5)
        model.params["batch_norm_0/beta"].copy_(torch.randn(K, 1, 3, 1, 1))
    train_out = bn.forward(x, Pass(model, training=True))
    eval_out = bn.forward(x, Pass(model, training=False))
    for k in range(K):
        reference = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
        with torch.no_grad():
            reference.weight.copy_(model.params["batch_norm_0/gamma"][k].flatten())
            reference.bias.copy_(model.params["batch_norm_0/beta"][k].flatten())
        torch.testing.assert_close(train_out[k], reference.train()(x[k]))
        torch.testing.assert_close(bn.running_mean[k].flatten(), reference.running_mean)
        torch.testing.assert_close(bn.running_var[k].flatten(), reference.running_var)
        torch.testing.assert_close(eval_out[k], reference.eval()(x[k]))


def test_batchnorm1d_keeps_running_statistics_per_member():
    bn = BatchNorm()
    model = built([Dense(4), bn, Dense(None)], (3,))
    bn = model.layers[1]
    x = images(K, 8, 4)
    x[1] += 5.0  # member 1's batch has another mean
    bn.forward(x, Pass(model, training=True))
    assert bn.running_mean.shape == (K, 1, 4)
    assert bn.running_mean[1].mean() > bn.running_mean[0].mean() + 0.3


@pytest.mark.parametrize(
    ("layer", "reference"),
    [(MaxPool2D(2), torch.nn.MaxPool2d(2)),
     (MaxPool2D(3, strides=2), torch.nn.MaxPool2d(3, stride=2)),
     (AveragePooling2D((2, 3)), torch.nn.AvgPool2d((2, 3))),
     (AveragePooling2D(2, strides=1), torch.nn.AvgPool2d(2, stride=1))],
)  # fmt: skip
def test_pooling_equals_torch_member_by_member(layer, reference):
    model = built([layer, Flatten(), Dense(None)], (2, 7, 7))
    x = images(K, 4, 2, 7, 7)
    out = model.layers[0].forward(x, Pass(model, training=False))
    for k in range(K):
        torch.testing.assert_close(out[k], reference(x[k]))


def test_spatial_dropout_drops_whole_channels_with_inverted_scaling():
    drop = SpatialDropout2D([0.0, 0.5, 0.75])
    model = built([drop, Flatten(), Dense(None)], (8, 3, 3))
    x = torch.ones(K, 50, 8, 3, 3)
    out = model.layers[0].forward(x, Pass(model, training=True))
    assert torch.equal(out[0], x[0])  # rate 0: untouched
    for k, rate in [(1, 0.5), (2, 0.75)]:
        per_channel = out[k].flatten(2)
        assert torch.all(per_channel.amax(-1) == per_channel.amin(-1))  # whole maps
        assert set(per_channel.unique().tolist()) == {0.0, 1.0 / (1.0 - rate)}
        assert abs((per_channel[..., 0] == 0).float().mean().item() - rate) < 0.1
    assert torch.equal(model.layers[0].forward(x, Pass(model, training=False)), x)


def test_gaussian_noise_has_each_members_stddev_in_training_only():
    noise = GaussianNoise([0.0, 0.5, 2.0])
    model = built([noise, Dense(None)], (200,))
    noise = model.layers[0]
    x = torch.ones(K, 64, 200)
    out = noise.forward(x, Pass(model, training=True))
    assert torch.equal(out[0], x[0])
    for k, stddev in [(1, 0.5), (2, 2.0)]:
        added = (out[k] - 1.0).flatten()
        assert abs(added.std().item() - stddev) < 0.05 * stddev
        assert abs(added.mean().item()) < 0.05 * stddev
    assert torch.equal(noise.forward(x, Pass(model, training=False)), x)


def test_gaussian_noise_of_a_member_does_not_depend_on_its_population():
    x = torch.ones(1, 16, 5)
    alone = built([GaussianNoise(0.3), Dense(None)], (5,), seeds=(7,))
    together = built([GaussianNoise([0.1, 0.3]), Dense(None)], (5,), seeds=(1, 7))
    out_alone = alone.layers[0].forward(x, Pass(alone, training=True))
    out_together = together.layers[0].forward(x.expand(2, 16, 5), Pass(together, training=True))
    torch.testing.assert_close(out_together[1], out_alone[0])


@pytest.mark.parametrize(
    ("layers", "shape", "message"),
    [([Dense(8), Dense(None)], (1, 4, 4), r"Dense 'dense_0' takes flat inputs .* put "
                                           r"reglab.Flatten\(\) before it"),
     ([Conv2D(4, 3), Flatten(), Dense(None)], (16,), r"Conv2D 'conv2d_0' takes images"),
     ([Conv2D(4, 5), Flatten(), Dense(None)], (1, 3, 3), r"5x5 kernel but its inputs are only "
                                                          r"3x3; use padding='same'"),
     ([MaxPool2D(2), Flatten(), Dense(None)], (4,), r"MaxPool2D 'max_pool2d_0' takes images"),
     ([Dense(8), Dense(None, activation="softmax")], (4,), r"remove activation='softmax'"),
     ([Dense(8), Dense(5)], (4,), r"outputs of shape \(5,\) but the task needs 3 logits"),
     ([Dense(None), Dense(3)], (4,), r"None \(the task's outputs\) is allowed on the last layer"),
     ([Dense(8), SpatialDropout2D(0.5), Dense(None)], (4,), r"SpatialDropout2D .* takes images"),
     ([Conv2D(2, 1)], (1, 2, 2), r"Conv2D 'conv2d_0' is the last layer")],
)  # fmt: skip
def test_models_that_cannot_be_built_name_the_layer_and_the_fix(layers, shape, message):
    with pytest.raises(ReglabError, match=message):
        built(layers, shape)


def test_a_population_layer_called_outside_a_model_says_where_it_belongs():
    with pytest.raises(TypeError, match=r"put it in reglab.Sequential\(\[...\]\)"):
        Dense(3)(torch.ones(2, 3))


def test_layer_arguments_are_checked_where_they_enter():
    with pytest.raises(ReglabError, match=r"`padding` of Conv2D: expected one of 'valid', 'same'"):
        Conv2D(4, 3, padding="full")
    with pytest.raises(ReglabError, match=r"`kernel_size` of Conv2D: expected an int or a pair"):
        Conv2D(4, (3, 3, 3))
    with pytest.raises(ReglabError, match=r"`rate` of SpatialDropout2D: expected a float in"):
        SpatialDropout2D([0.1, 1.2])
    with pytest.raises(ReglabError, match=r"`stddev` of GaussianNoise"):
        GaussianNoise(-1.0)
    with pytest.raises(ReglabError, match=r"`units` of Dense"):
        Dense(0)
