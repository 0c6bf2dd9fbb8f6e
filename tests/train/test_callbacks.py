"""Callbacks see and steer their own member through a view, and keep their state after fit.

References: the History that fit returns (what each member's callback must have seen),
``model.kernels(m)`` for the weights, and a hand-computed SGD step for the rate a view
sets.
"""

import numpy as np
import pytest
import torch

from reglab import EarlyStopping, fit, mlp
from reglab.errors import ReglabError, ReglabTypeError
from reglab.train import Callback, MemberView, ReduceLROnPlateau, StepDecay
from reglab.train.optimizers import make_optimizer


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x, y


class Recorder(Callback):
    """Keeps every row it is shown, and its member's weights when training ends."""

    def on_train_begin(self):
        super().on_train_begin()
        self.losses, self.begun, self.weights = [], [], None

    def on_epoch_begin(self, epoch):
        self.begun.append(epoch)

    def on_epoch_end(self, epoch, logs):
        self.losses.append(logs["loss"])

    def on_train_end(self):
        self.weights = self.view.weights()


def test_the_passed_recorder_is_member_0_and_lists_every_member_after_a_k3_fit():
    x, y = data()
    recorder = Recorder()
    histories = fit(mlp([4], members=3), x, y, epochs=3, seed=[0, 1, 2], callbacks=[recorder])
    assert sorted(recorder.members_) == [0, 1, 2]
    assert recorder.members_[0] is recorder
    assert len({id(c) for c in recorder.members_.values()}) == 3
    for m, history in enumerate(histories):
        member = recorder.members_[m]
        assert member.view.member == m
        assert member.losses == history.history["loss"]
        assert member.begun == [1, 2, 3]


def test_an_early_stopping_passed_in_shows_its_best_epoch_after_fit():
    x, y = data()
    es = EarlyStopping(monitor="val_loss", patience=100)
    histories = fit(mlp([4], members=3), x, y, epochs=5, seed=[0, 1, 2],
                    validation_data=data(seed=1), early_stopping=es)  # fmt: skip
    assert es.best_epoch_ > 0
    for m, history in enumerate(histories):
        member = es.members_[m]
        assert member.best_epoch_ == history.best_epoch
        # Its best_ is the lowest val_loss of its own member's History.
        assert member.best_ == min(history.history["val_loss"])


def test_per_member_early_stopping_objects_each_serve_their_member():
    x, y = data()
    a, b = EarlyStopping(patience=100), EarlyStopping(patience=100)
    histories = fit(mlp([4], members=3), x, y, epochs=3, seed=[0, 1, 2],
                    validation_data=data(seed=1), early_stopping=[a, None, b])  # fmt: skip
    assert list(a.members_) == [0] and list(b.members_) == [2]
    assert (a.view.member, b.view.member) == (0, 2)
    assert b.best_ == min(histories[2].history["val_loss"])
    assert histories[1].best_epoch == 0


def test_the_view_reads_the_members_kernels():
    x, y = data()
    recorder = Recorder()
    model = mlp([4], members=2)
    fit(model, x, y, epochs=2, seed=[0, 1], callbacks=[recorder])
    for m in range(2):
        kept, now = recorder.members_[m].weights, model.kernels(m)
        assert kept.keys() == now.keys()
        assert all(np.array_equal(kept[k], now[k]) for k in kept)


def test_a_schedule_on_one_member_changes_only_that_members_rate():
    x, y = data()
    step = StepDecay(decay_epochs=1, decay_rate=0.5)
    histories = fit(mlp([4], members=3), x, y, epochs=3, seed=[0, 1, 2], learning_rate=0.01,
                    lr_schedule=[None, step, None])  # fmt: skip
    assert [h.history["lr"] for h in histories] == [
        [0.01, 0.01, 0.01], [0.01, 0.005, 0.0025], [0.01, 0.01, 0.01],
    ]  # fmt: skip


def test_setting_a_views_rate_moves_only_that_member_by_the_new_rate():
    # Hand computation of one SGD step: w - lr * g, with member 1's rate set to 0.5.
    bank, grad = torch.zeros(3, 2), torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    optimizer = make_optimizer("sgd", bank, grad, [0.1, 0.1, 0.1])
    model = mlp([2], members=3)
    view = MemberView(model, optimizer, 1)
    view.learning_rate = 0.5
    assert optimizer.learning_rates == [0.1, 0.5, 0.1] and view.learning_rate == 0.5
    optimizer.step()
    assert torch.allclose(bank, torch.tensor([[-0.1, -0.2], [-0.5, -1.0], [-0.1, -0.2]]))
    view.learning_rate = 0.1  # all equal again: the whole-bank rate is a float once more
    assert optimizer._lr_all == 0.1
    assert torch.equal(optimizer._lr_column, torch.full((3, 1), 0.1))


def test_a_view_refuses_a_negative_rate():
    view = MemberView(mlp([2]), make_optimizer("sgd", torch.zeros(1, 2), torch.zeros(1, 2),
                                               [0.1]), 0)  # fmt: skip
    with pytest.raises(ReglabError, match=r"`learning_rate` of MemberView: expected a float in "
                                          r"\[0, inf\)\. Received: learning_rate=-1"):  # fmt: skip
        view.learning_rate = -1


def test_after_fit_the_view_is_released_and_says_so():
    x, y = data()
    recorder = Recorder()
    fit(mlp([4]), x, y, epochs=1, callbacks=[recorder])
    assert recorder.view.member == 0
    with pytest.raises(ReglabError, match=r"The view of member 0 is only usable while fit "
                                          r"trains it"):  # fmt: skip
        recorder.view.learning_rate  # noqa: B018


def test_a_callback_with_the_first_releases_bind_still_works():
    class OldStyle(Callback):
        def bind(self, model, member):
            self.seen = (model.members, member)

        def on_epoch_end(self, epoch, logs):
            self.last = logs["loss"]

    x, y = data()
    old = OldStyle()
    histories = fit(mlp([4], members=2), x, y, epochs=2, seed=[0, 1], callbacks=[old])
    assert [old.members_[m].seen for m in range(2)] == [(2, 0), (2, 1)]
    assert old.members_[1].last == histories[1].history["loss"][-1]


def test_a_reused_callback_starts_over_in_the_next_fit():
    x, y = data()
    recorder = Recorder()
    fit(mlp([4], members=3), x, y, epochs=2, seed=[0, 1, 2], callbacks=[recorder])
    fit(mlp([4]), x, y, epochs=3, callbacks=[recorder])
    assert list(recorder.members_) == [0] and len(recorder.losses) == 3


def test_a_clone_takes_neither_the_view_nor_the_other_members():
    x, y = data()
    recorder = Recorder()
    fit(mlp([4], members=2), x, y, epochs=1, seed=[0, 1], callbacks=[recorder])
    twin = recorder.clone()
    assert twin.view is None and twin.members_ == {} and twin.losses == []


def test_one_callback_given_twice_for_a_member_is_refused():
    x, y = data()
    es = EarlyStopping()
    with pytest.raises(ReglabError, match=r"EarlyStopping\(.*\) is given twice for member 0; "
                                          r"give each callback once"):  # fmt: skip
        fit(mlp([4]), x, y, validation_data=(x, y), early_stopping=es, callbacks=[es])


def test_two_callbacks_setting_one_members_rate_are_refused():
    x, y = data()
    with pytest.raises(ReglabError, match=r"member 0 has 2 callbacks that set its learning rate "
                                          r"\(StepDecay, ReduceLROnPlateau\)"):  # fmt: skip
        fit(mlp([4]), x, y, validation_data=(x, y), lr_schedule=StepDecay(2, 0.5),
            reduce_lr_on_plateau=ReduceLROnPlateau())  # fmt: skip


@pytest.mark.parametrize(
    "argument, message",
    [
        ("lr_schedule", r"`lr_schedule` of fit: expected a StepDecay, ExponentialDecay or "
                        r"CosineDecay, a list of them \(None for members without\), or None\. "
                        r"Received: 'cosine'"),
        ("reduce_lr_on_plateau", r"`reduce_lr_on_plateau` of fit: expected a ReduceLROnPlateau"),
    ],
)  # fmt: skip
def test_a_wrong_object_for_a_rate_argument_is_named(argument, message):
    x, y = data()
    with pytest.raises(ReglabTypeError, match=message):
        fit(mlp([4]), x, y, **{argument: "cosine"})


def test_the_lr_column_records_keras_default_without_any_callback():
    x, y = data()
    history = fit(mlp([4]), x, y, epochs=2, optimizer="sgd")
    assert history.history["lr"] == [0.01, 0.01]  # Keras' SGD default


def test_restoring_best_weights_through_the_view_touches_only_that_member():
    # Member 0 restores its best epoch's weights, member 1 keeps its last: each equals
    # its own single fit.
    x, y = data()
    val_x, val_y = data(seed=1)
    val = (val_x, 1 - val_y)  # flipped labels: validation only gets worse, best epoch is 1

    def stopping():
        return [EarlyStopping(patience=100, restore_best=True), None]

    model = mlp([4], members=2)
    histories = fit(model, x, y, epochs=6, seed=[0, 1], learning_rate=0.05,
                    validation_data=val, early_stopping=stopping())  # fmt: skip
    assert histories[0].best_epoch == 1 and histories[1].best_epoch == 0
    for m in range(2):
        alone = mlp([4])
        fit(alone, x, y, epochs=6, seed=m, learning_rate=0.05, validation_data=val,
            early_stopping=stopping()[m])  # fmt: skip
        together, single = model.kernels(m), alone.kernels(0)
        assert all(np.allclose(together[k], single[k], atol=1e-6) for k in single), m
