"""Sparse multi-hot inputs, argument checking, checkpoints and evaluation helpers."""

import numpy as np
import pytest
import torch

from reglab import ModelCheckpoint, evaluate, fit, mlp, predict
from reglab.data import multi_hot
from reglab.errors import ReglabError
from reglab.train.inputs import Inputs


def _sequences(n=64, vocab=50, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [list(rng.integers(1, vocab, size=rng.integers(3, 12))) for _ in range(n)]
    labels = np.array([int(sum(s) % 2) for s in seqs])
    return seqs, labels


def test_sparse_first_layer_equals_dense_forward_and_gradients():
    seqs, y = _sequences()
    dense = multi_hot(seqs, 50)
    sparse = multi_hot(seqs, 50, sparse=True)
    a, b = mlp([6], members=2), mlp([6], members=2)
    ha = fit(a, dense, y, epochs=3, batch_size=16, seed=[0, 1], optimizer="rmsprop")
    hb = fit(b, sparse, y, epochs=3, batch_size=16, seed=[0, 1], optimizer="rmsprop")
    for ra, rb in zip(ha, hb):
        for row_a, row_b in zip(ra.rows, rb.rows):
            assert row_a["loss"] == pytest.approx(row_b["loss"], rel=1e-5)
    torch.testing.assert_close(a.bank, b.bank, rtol=1e-4, atol=1e-6)
    # One step's gradients, directly.
    index = torch.arange(8).view(1, 8).expand(2, 8)
    ga = _grad(a, Inputs(dense, torch.device("cpu")).gather(index), y[:8])
    gb = _grad(b, Inputs(sparse, torch.device("cpu")).gather(index), y[:8])
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict(a, dense), predict(b, sparse), rtol=1e-5, atol=1e-6)


def _grad(model, xb, y):
    target = torch.as_tensor(y, dtype=torch.float32).view(1, -1, 1).expand(2, -1, -1)
    model.train_step(xb, target, None)
    return model.grad.clone()


def test_model_and_data_shapes_that_disagree_name_both():
    x = np.zeros((10, 4), np.float32)
    y = np.arange(10) % 2
    model = mlp([3])
    fit(model, x, y)
    with pytest.raises(
        ReglabError, match=r"built for samples of shape \(4,\) but x has shape \(10, 5\)"
    ):
        fit(model, np.zeros((10, 5), np.float32), y)


def test_x_and_y_lengths_must_agree():
    with pytest.raises(ReglabError, match="Received 10 rows of x and 9 of y"):
        fit(mlp([3]), np.zeros((10, 4), np.float32), np.zeros(9))


def test_unknown_optimizer_lists_the_known_ones():
    with pytest.raises(
        ReglabError,
        match=r"expected one of 'sgd', 'rmsprop', 'adam', 'adamw'\..*did you mean 'adam'",
    ):
        fit(mlp([3]), np.zeros((4, 2), np.float32), np.arange(4) % 2, optimizer="adma")


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(
        ReglabError, match=r"`activation` of mlp: expected one of 'relu'.*did you mean 'relu'"
    ):
        mlp([3], activation="rleu")


def test_per_member_lists_must_have_one_value_per_member():
    with pytest.raises(ReglabError, match="dropout has 2, dropconnect has 3"):
        mlp([3], dropout=[0.1, 0.2], dropconnect=[0.0, 0.1, 0.2])
    with pytest.raises(
        ReglabError, match=r"`seed` of fit: expected one value per model member \(2\)"
    ):
        fit(mlp([3], members=2), np.zeros((4, 2), np.float32), np.arange(4) % 2, seed=[1, 2, 3])


def test_validation_sources_are_exclusive():
    x = np.zeros((10, 2), np.float32)
    with pytest.raises(ReglabError, match="give at most one of validation_data, validation_split"):
        fit(
            mlp([3]),
            x,
            np.arange(10) % 2,
            validation_data=(x, np.arange(10) % 2),
            validation_split=0.2,
        )


def test_weight_decay_with_adam_is_refused_as_not_l2():
    with pytest.raises(ReglabError, match="applies to optimizer 'adamw' only"):
        fit(mlp([3]), np.zeros((4, 2), np.float32), np.arange(4) % 2, weight_decay=0.01)


def test_cuda_request_without_cuda_is_one_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ReglabError, match="no CUDA device is available"):
        fit(mlp([3]), np.zeros((4, 2), np.float32), np.arange(4) % 2, device="cuda")


def test_checkpoint_holds_the_best_epoch_weights_and_loads_weights_only(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    path = tmp_path / "best.pt"
    model = mlp([8])
    h = fit(model, x, y, epochs=6, validation_data=(x, y), callbacks=[ModelCheckpoint(path)],
            learning_rate=0.05)  # fmt: skip
    state = torch.load(path, weights_only=True)
    clone = mlp([8])
    fit(clone, x, y, epochs=1)
    clone.load_member_state_dict(0, state)
    best = min(h.rows, key=lambda r: r["val_loss"])
    assert evaluate(clone, x, y)["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_evaluate_and_predict_need_a_trained_model():
    with pytest.raises(ReglabError, match="has not been trained yet"):
        predict(mlp([3]), np.zeros((2, 2), np.float32))


def test_user_module_trains_as_a_population_of_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    h = fit(net, x, y, epochs=30, batch_size=16, learning_rate=0.01)
    assert h.rows[-1]["mae"] < h.rows[0]["mae"] / 2


def test_short_last_batch_is_padded_to_a_multiple_of_8_rows_of_weight_0():
    from reglab.train.inputs import epoch_batches

    orders = [np.arange(35), np.arange(35)[::-1].copy()]
    batches = epoch_batches(orders, 32, [True, True], torch.device("cpu"))
    assert [tuple(b.index.shape) for b in batches] == [(2, 32), (2, 8)]
    last = batches[-1]
    assert last.counts == [3, 3] and last.members is None
    assert last.sample_weight[:, :, 0].tolist() == [[1.0] * 3 + [0.0] * 5] * 2
    assert last.index[:, :3].tolist() == [[32, 33, 34], [2, 1, 0]]
    full = epoch_batches([np.arange(40)], 32, [True], torch.device("cpu"))[-1]
    assert full.sample_weight is None and tuple(full.index.shape) == (1, 8)


def test_transposed_rows_match_a_reference():
    # Off the CPU the kernel gradient of the multi-hot layer reads the batch's rows
    # transposed: for each word, the samples containing it in sample order, and where
    # each word starts.
    from reglab.nn.sparse import transposed

    vocabulary = 30
    seqs, _ = _sequences(n=40, vocab=vocabulary)
    rows = Inputs(multi_hot(seqs, vocabulary, sparse=True), torch.device("cpu"))
    ids, offsets = rows.gather(torch.arange(40).view(1, 40)).bags()[0]
    ends = [*offsets[1:].tolist(), len(ids)]
    expected_samples, expected_starts = [], []
    for word in range(vocabulary):
        expected_starts.append(len(expected_samples))
        expected_samples += [
            s for s, (a, b) in enumerate(zip(offsets.tolist(), ends)) if word in ids[a:b]
        ]
    samples, starts = transposed(ids, offsets, vocabulary)
    assert samples.tolist() == expected_samples
    assert starts.tolist() == expected_starts


def test_compiled_multi_hot_layer_equals_embedding_bags_bit_for_bit():
    # On the CPU the first layer runs as compiled loops over the compressed rows; off it
    # (and under autograd) as embedding bags. Same sums in the same order: same bits.
    from reglab.nn.sparse import sparse_dense, sparse_dense_kernel_grad, transposed

    vocabulary = 50
    seqs, _ = _sequences(n=64, vocab=vocabulary)
    inputs = Inputs(multi_hot(seqs, vocabulary, sparse=True), torch.device("cpu"))
    index = torch.stack([torch.randperm(64)[:24], torch.randperm(64)[:24]])
    batch = inputs.gather(index)
    kernel = torch.randn(2, vocabulary, 5)
    upstream = torch.randn(2, 24, 5)
    compiled = sparse_dense(batch, kernel)
    bags = batch.bags()
    for k in range(2):
        ids, offsets = bags[k]
        reference = torch.nn.functional.embedding_bag(ids, kernel[k], offsets, mode="sum")
        assert torch.equal(compiled[k], reference)
    grad = torch.empty(2, vocabulary, 5)
    sparse_dense_kernel_grad(batch, upstream, grad)
    for k in range(2):
        samples, starts = transposed(*bags[k], vocabulary)
        reference = torch.nn.functional.embedding_bag(samples, upstream[k], starts, mode="sum")
        assert torch.equal(grad[k], reference)
