"""The engine against a hand-written PyTorch loop, and populations against single fits."""

import numpy as np
import pytest
import torch

from reglab import L1, L2, EarlyStopping, fit, mlp


def _data(n=96, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, :classes].argmax(1)).astype(np.int64)
    return x, y


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "adamw"])
def test_single_fit_equals_plain_pytorch_loop(optimizer):
    # formula="torch": reglab's first-release update rules are torch.optim's (Keras'
    # rules are checked against their formulas in test_optimizers.py).
    x, y = _data()
    model = mlp([8, 8])
    history = fit(model, x, y, epochs=3, batch_size=16, optimizer=optimizer, shuffle=False,
                  learning_rate=0.01, seed=4, formula="torch")  # fmt: skip
    # Reference: nn.Sequential from the same initial weights, torch.optim, same batches.
    fresh = mlp([8, 8])
    from reglab.data import infer_task

    fresh.build(6, infer_task(y), [4])
    layers = []
    for name in ("dense_0", "dense_1", "output"):
        linear = torch.nn.Linear(*fresh.layout[f"{name}/kernel"].shape)
        linear.weight.data = fresh.layout[f"{name}/kernel"].view(fresh.bank)[0].detach().T.clone()
        linear.bias.data = fresh.layout[f"{name}/bias"].view(fresh.bank)[0, 0].detach().clone()
        layers += [linear, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.01),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
        "adam": lambda p: torch.optim.Adam(p, lr=0.01),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.0),
    }[optimizer](net.parameters())
    xt, yt = torch.tensor(x), torch.tensor(y)
    for epoch in range(3):
        total = 0.0
        for start in range(0, len(x), 16):
            loss = torch.nn.functional.cross_entropy(
                net(xt[start : start + 16]), yt[start : start + 16]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xt[start : start + 16])
        assert history.rows[epoch]["data_loss"] == pytest.approx(total / len(x), rel=1e-5)


def test_population_equals_single_fits_with_the_same_settings():
    x, y = _data(n=101)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(x))
    folds = [order[:70], order[:80], order[:101]]  # unequal sizes: padded steps
    vals = [order[70:], order[80:], order[:20]]
    settings = dict(epochs=4, batch_size=16, optimizer="adam", learning_rate=[0.01, 0.003, 0.01])
    members = dict(
        dropout=[0.0, 0.5, 0.2],
        dropout_mode=["inverted", "classic", "inverted"],
        dropconnect=[0.0, 0.0, 0.3],
        kernel_regularizer=[None, L2(1e-3), L1(1e-3, proximal=True)],
    )
    stops = [None, EarlyStopping(patience=1, restore_best=True), None]
    population = fit(mlp([12], batchnorm=True, **members), x, y, seed=[0, 1, 2],
                     train_index=folds, validation_index=vals, early_stopping=stops,
                     standardize=True, **settings)  # fmt: skip
    for m in range(3):
        single = fit(
            mlp([12], batchnorm=True, **{key: [value[m]] for key, value in members.items()}),
            x, y, seed=m, train_index=[folds[m]], validation_index=[vals[m]],
            early_stopping=stops[m], standardize=True,
            **{**settings, "learning_rate": settings["learning_rate"][m]},
        )  # fmt: skip
        assert len(single.rows) == len(population[m].rows)
        for ours, theirs in zip(population[m].rows, single.rows):
            for key in ours:
                if key != "epoch_time":
                    assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-7), key
        assert population[m].final == pytest.approx(single.final, rel=1e-5, abs=1e-7)
        assert population[m].best_epoch == single.best_epoch


def test_loss_is_data_loss_plus_penalty_and_validation_loss_has_no_penalty():
    x, y = _data()
    h = fit(mlp([8], kernel_regularizer=L2(0.05)), x, y, epochs=2, validation_data=(x, y))
    for row in h.rows:
        assert row["loss"] == pytest.approx(row["data_loss"] + row["penalty"])
        assert row["penalty"] > 0
    # Evaluated on the training data itself, val_loss is a data loss (close to data_loss).
    assert h.rows[-1]["val_loss"] < h.rows[-1]["loss"]


def test_training_metric_is_the_running_mean_over_the_epoch():
    x, y = _data()
    # A learning rate so small the weights do not move: the running mean must equal the
    # loss of the fixed model over all training rows.
    h = fit(mlp([8]), x, y, epochs=1, batch_size=10, optimizer="sgd", learning_rate=1e-12)
    assert h.rows[0]["data_loss"] == pytest.approx(h.final["loss"], rel=1e-5)
    assert h.rows[0]["accuracy"] == pytest.approx(h.final["accuracy"])


def test_diverging_member_is_marked_and_stops_while_others_train_on():
    x, _ = _data()
    y_reg = x.sum(1) * 100
    histories = fit(mlp([16], members=2), x, y_reg, epochs=5, optimizer="sgd",
                    learning_rate=[1e3, 1e-4], seed=[0, 1])  # fmt: skip
    assert histories[0].diverged and histories[0].diverged_epoch == len(histories[0].rows)
    assert not histories[1].diverged and len(histories[1].rows) == 5


def test_restore_best_also_when_training_ends_without_stopping():
    x, y = _data()
    vx, vy = _data(seed=3)
    es = EarlyStopping(monitor="val_loss", patience=100, restore_best=True)
    h = fit(
        mlp([32]), x, y, epochs=12, validation_data=(vx, vy), early_stopping=es, learning_rate=0.05
    )
    assert h.stopped_epoch == 0
    best = min(h.rows, key=lambda r: r["val_loss"])
    assert h.best_epoch == int(best["epoch"])
    assert h.final["val_loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_stopped_member_stops_changing():
    x, y = _data()
    es = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after epoch 2
    model = mlp([8], members=2)
    histories = fit(
        model, x, y, epochs=6, seed=[0, 1], early_stopping=[es, None], record_weights=True
    )
    assert histories[0].stopped_epoch == 2 and len(histories[0].rows) == 2
    assert len(histories[1].rows) == 6
    alone = mlp([8])
    fit(alone, x, y, epochs=2, seed=0)
    for name, kernel in alone.kernels(0).items():
        np.testing.assert_allclose(model.kernels(0)[name], kernel, rtol=1e-5, atol=1e-7)


def test_same_seed_gives_same_numbers():
    x, y = _data()
    a = fit(mlp([8], dropout=0.3), x, y, epochs=2, seed=7)
    b = fit(mlp([8], dropout=0.3), x, y, epochs=2, seed=7)
    assert [r["loss"] for r in a.rows] == [r["loss"] for r in b.rows]


def test_population_trains_bit_for_bit_like_its_members_alone():
    # Adam turns rounding differences in near-zero gradients into visible drift, so a
    # member's arithmetic must not depend on the population's size: not in the loss
    # (a log_softmax whose rounding depended on the batch's shape once made members
    # drift 5e-5 in 5 epochs), not in the optimizer (a whole-bank update rounded a
    # member's last weights differently unless rows are padded), not in the epoch's
    # short last batch (1,347 rows of batch 32 leave 3, padded to 8).
    from reglab import load_dataset

    data = load_dataset("digits")
    x, y = (data.x_train / 16).astype(np.float32), data.y_train
    grid = [(p, d) for p in (None, L2(1e-4), L2(1e-3), L1(1e-4)) for d in (0.0, 0.2, 0.4, 0.6)]
    population = mlp([128], kernel_regularizer=[p for p, _ in grid], dropout=[d for _, d in grid])
    fit(population, x, y, epochs=5, batch_size=32, seed=list(range(16)))
    for m in (0, 5, 11, 13):
        penalty, rate = grid[m]
        single = mlp([128], kernel_regularizer=penalty, dropout=rate)
        fit(single, x, y, epochs=5, batch_size=32, seed=m)
        assert torch.equal(population.bank[m], single.bank[0]), m
