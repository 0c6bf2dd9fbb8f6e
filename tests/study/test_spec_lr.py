"""The spec keys `lr_schedule` and `reduce_lr_on_plateau`: parsed, per member, reaching fit.

References: the library objects the keys must build (their arguments as written), the
rates Keras' formulas give (written out here), and a single fit of the same settings.
"""

import pytest

from reglab import CosineDecay, ReduceLROnPlateau, StepDecay
from reglab.study import SpecError, parse_spec, run_study
from reglab.study.identity import run_identity
from reglab.study.planner import plan_study
from reglab.study.store import load_study


def _spec(**overrides):
    data = {"name": "s", "dataset": "iris", "epochs": 4, "variants": {"baseline": {}}}
    data.update(overrides)
    return data


def test_each_schedule_type_builds_its_library_schedule():
    spec = parse_spec(_spec(variants={
        "step": {"lr_schedule": {"type": "step", "decay_epochs": 2, "decay_rate": 0.5}},
        "exp": {"lr_schedule": {"type": "Exponential", "decay_epochs": 3, "decay_rate": 0.9,
                                "warmup_epochs": 1}},
        "cos": {"lr_schedule": {"type": "cosine", "decay_epochs": 10, "alpha": 0.1}},
    }))  # fmt: skip
    step = spec.resolve("step").lr_schedule.build()
    assert isinstance(step, StepDecay) and (step.decay_epochs, step.decay_rate) == (2, 0.5)
    exp = spec.resolve("exp").lr_schedule.build()
    assert repr(exp) == ("ExponentialDecay(decay_epochs=3, decay_rate=0.9, staircase=False, "
                         "warmup_epochs=1)")  # fmt: skip
    cos = spec.resolve("cos").lr_schedule.build()
    assert isinstance(cos, CosineDecay) and (cos.alpha, cos.warmup_epochs) == (0.1, 0)


def test_reduce_lr_on_plateau_has_keras_defaults():
    spec = parse_spec(_spec(variants={"p": {"reduce_lr_on_plateau": {}}}))
    plateau = spec.resolve("p").reduce_lr_on_plateau.build()
    assert isinstance(plateau, ReduceLROnPlateau)
    settings = (plateau.monitor, plateau.factor, plateau.patience, plateau.mode,
                plateau.min_delta, plateau.cooldown, plateau.min_lr)  # fmt: skip
    assert settings == ("val_loss", 0.1, 10, "auto", 1e-4, 0, 0.0)


def test_a_study_wide_schedule_applies_to_every_variant_unless_overridden():
    spec = parse_spec(_spec(
        model={"lr_schedule": {"type": "step", "decay_epochs": 2, "decay_rate": 0.5}},
        variants={"a": {}, "b": {"lr_schedule": {"type": "cosine", "decay_epochs": 3}}},
    ))  # fmt: skip
    assert isinstance(spec.resolve("a").lr_schedule.build(), StepDecay)
    assert isinstance(spec.resolve("b").lr_schedule.build(), CosineDecay)


def test_variants_that_differ_only_in_their_rate_control_share_one_population():
    spec = parse_spec(_spec(variants={
        "base": {},
        "step": {"lr_schedule": {"type": "step", "decay_epochs": 1, "decay_rate": 0.5}},
        "plateau": {"reduce_lr_on_plateau": {"patience": 1}},
    }))  # fmt: skip
    plan = plan_study(spec, n_train=112, n_features=4, n_outputs=3)
    assert len(plan.populations) == 1 and len(plan.populations[0].runs) == 3


def test_the_keys_enter_a_runs_identity_only_when_written():
    spec = parse_spec(_spec(variants={
        "base": {}, "step": {"lr_schedule": {"type": "step", "decay_epochs": 1, "decay_rate": 0.5}},
    }))  # fmt: skip
    base = run_identity(spec, "base", 0, 0, 0)
    assert "lr_schedule" not in str(base) and "reduce_lr_on_plateau" not in str(base)
    assert "lr_schedule" in str(run_identity(spec, "step", 0, 0, 0))


def test_the_keys_reach_fit_and_the_store_keeps_the_lr_column(tmp_path):
    spec = parse_spec(_spec(
        model={"hidden": [4], "optimizer": "sgd", "learning_rate": 0.1},
        variants={
            "base": {},
            "step": {"lr_schedule": {"type": "step", "decay_epochs": 1, "decay_rate": 0.5}},
            "cos": {"lr_schedule": {"type": "cosine", "decay_epochs": 2, "warmup_epochs": 1}},
            "plateau": {"reduce_lr_on_plateau": {"monitor": "loss", "patience": 1,
                                                 "min_delta": 10.0}},
        },
    ))  # fmt: skip
    run_study(spec, store=tmp_path / "s.db", progress=False)
    runs = {r.variant: r for r in load_study(tmp_path / "s.db", "s").runs}
    lr = {v: [row["lr"] for row in r.history] for v, r in runs.items()}
    assert lr["base"] == [0.1] * 4
    assert lr["step"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert lr["cos"] == pytest.approx([0.0, 0.1, 0.05, 0.0])  # warmup, then Keras' cosine
    assert lr["plateau"] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    # The rate is the one training used: epoch 1 (same seed, same rate) is the baseline's
    # to rounding, epoch 2 (half the rate) is not.
    base, step = runs["base"].history, runs["step"].history
    assert step[0]["val_loss"] == pytest.approx(base[0]["val_loss"], abs=1e-6)
    assert abs(step[1]["val_loss"] - base[1]["val_loss"]) > 1e-4


@pytest.mark.parametrize(
    "table, message",
    [
        ({"type": "step", "decay_epochs": 2},
         r"variants\.baseline\.lr_schedule: lr_schedule type 'step' needs `decay_rate`"),
        ({"type": "cosine", "decay_epochs": 2, "decay_rate": 0.5},
         r"`decay_rate` does not apply to lr_schedule type 'cosine', which takes "
         r"`decay_epochs`, `alpha`, `warmup_epochs`"),
        ({"type": "cosin", "decay_epochs": 2},
         r"`variants\.baseline\.lr_schedule\.type`: expected one of 'step', 'exponential', "
         r"'cosine'\. Received: 'cosin'; did you mean 'cosine'\?"),
        ({"type": "exponential", "decay_epochs": 0, "decay_rate": 0.5},
         r"`decay_epochs` of ExponentialDecay: expected an int >= 1\. Received: decay_epochs=0"),
        ({"type": "exponential", "decay_epochs": 2, "decay_rate": 1.0},
         r"a rate of 1 leaves the learning rate unchanged"),
        ({"decay_epochs": 2}, r"lr_schedule\.type"),
        ({"type": "step", "decay_epochs": 2, "decay_rate": 0.5, "warmup": 1},
         r"unknown key 'warmup'.*did you mean 'warmup_epochs'"),
    ],
)  # fmt: skip
def test_bad_lr_schedule_tables_are_one_line_with_their_path(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(variants={"baseline": {"lr_schedule": table}}))


@pytest.mark.parametrize(
    "table, message",
    [
        ({"factor": 2.0}, r"`factor` of ReduceLROnPlateau: expected a float in \(0, 1\)"),
        ({"monitor": "val_acc"},
         r"`reduce_lr_on_plateau\.monitor` at variants\.baseline: expected a History column of "
         r"this study's runs \(.*\)\. Received: 'val_acc'; did you mean 'val_accuracy'\?"),
        ({"mode": "maxx"}, r"did you mean 'max'"),
        ({"cooldown": -1}, r"`cooldown` of ReduceLROnPlateau: expected an int >= 0"),
        ({"patience": 1.5}, r"reduce_lr_on_plateau\.patience"),
    ],
)  # fmt: skip
def test_bad_reduce_lr_on_plateau_tables_are_one_line_with_their_path(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(variants={"baseline": {"reduce_lr_on_plateau": table}}))


def test_a_schedule_and_a_plateau_for_one_variant_are_refused():
    message = r"lr_schedule and reduce_lr_on_plateau at variants\.a would each overwrite the"
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(
            model={"lr_schedule": {"type": "step", "decay_epochs": 2, "decay_rate": 0.5}},
            variants={"a": {"reduce_lr_on_plateau": {}}},
        ))  # fmt: skip
