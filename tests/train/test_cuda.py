"""The engine on a CUDA device: same numbers as the CPU (skipped without one)."""

import numpy as np
import pytest
import torch

from reglab import L2, fit, mlp

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def test_population_on_cuda_matches_cpu():
    x, y = _data()
    runs = {}
    for device in ("cpu", "cuda"):
        model = mlp([16], kernel_regularizer=[None, L2(1e-3)])
        runs[device] = fit(model, x, y, epochs=3, batch_size=32, seed=[0, 1], device=device,
                           shuffle=False, validation_data=(x, y))  # fmt: skip
        assert model.bank.device.type == device
    for cpu, gpu in zip(runs["cpu"], runs["cuda"]):
        for a, b in zip(cpu.rows, gpu.rows):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)


def test_cuda_training_is_deterministic_for_a_seed():
    x, y = _data()
    a = fit(mlp([16], dropout=0.3), x, y, epochs=2, seed=5, device="cuda")
    b = fit(mlp([16], dropout=0.3), x, y, epochs=2, seed=5, device="cuda")
    assert [r["loss"] for r in a.rows] == [r["loss"] for r in b.rows]


def _images():
    rng = np.random.default_rng(0)
    x = rng.random((128, 1, 10, 10), dtype=np.float32)
    return x, (x[:, 0, :5].mean((1, 2)) > x[:, 0, 5:].mean((1, 2))).astype(int)


def test_cnn_population_on_cuda_matches_cpu_without_randomness():
    from reglab.nn import Conv2D, Dense, Flatten, MaxPool2D, Sequential

    x, y = _images()
    runs = {}
    for device in ("cpu", "cuda"):
        model = Sequential(
            [
                Conv2D(4, 3, activation="relu"),
                MaxPool2D(2),
                Flatten(),
                Dense(8, "relu", kernel_regularizer=[None, L2(1e-3)]),
                Dense(None),
            ]
        )
        runs[device] = fit(model, x, y, epochs=2, seed=[0, 1], device=device, shuffle=False)
        assert model.bank.device.type == device
    for cpu, gpu in zip(runs["cpu"], runs["cuda"]):
        assert cpu.history["loss"] == pytest.approx(gpu.history["loss"], rel=1e-3)


def test_user_module_population_on_cuda_is_deterministic_for_its_seeds():
    x, y = _images()

    def net():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                                   torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Dropout(0.3),
                                   torch.nn.Linear(4 * 8 * 8, 2))  # fmt: skip

    a = fit(net(), x, y, epochs=2, seed=[0, 1], device="cuda")
    b = fit(net(), x, y, epochs=2, seed=[0, 1], device="cuda")
    assert [h.history["loss"] for h in a] == [h.history["loss"] for h in b]
    assert a[0].history["loss"] != a[1].history["loss"]
