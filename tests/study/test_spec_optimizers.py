"""Keras' optimizer keys in a spec: parsed, resolved per training semantics, checked, and
trained with (each run of a study equals ``fit`` with those settings)."""

import pytest

from reglab import fit, mlp
from reglab.study import SpecError, load_spec, load_study, parse_spec, run_study
from reglab.study import executors as executors_module
from reglab.study.identity import TRAINING_SEMANTICS
from reglab.study.inputs import prepare_data
from reglab.study.planner import plan_study
from reglab.study.settings import RunSettings


def _spec(**overrides):
    data = {"name": "s", "dataset": "iris", "variants": {"baseline": {}}}
    data.update(overrides)
    return data


def test_optimizer_keys_resolve_variant_over_model():
    spec = parse_spec(
        _spec(
            model={"optimizer": "rmsprop", "rho": 0.8, "epsilon": 1e-3, "clipnorm": 1.0},
            variants={"a": {"centered": True, "clipnorm": 0.5}, "b": {}},
        )
    )
    a, b = spec.resolve("a"), spec.resolve("b")
    assert (a.rho, a.epsilon, a.centered, a.clipnorm) == (0.8, 1e-3, True, 0.5)
    assert (b.centered, b.clipnorm) == (None, 1.0)
    assert a.semantics == TRAINING_SEMANTICS == 2


def test_written_constants_win_and_unset_ones_follow_the_semantics():
    settings = RunSettings(optimizer="adam", beta_1=0.8)
    assert settings.optimizer_constants() == dict(
        formula="keras", beta_1=0.8, beta_2=0.999, epsilon=1e-7
    )
    assert settings.optimizer_constants(semantics=1) == dict(
        formula="torch", beta_1=0.8, beta_2=0.999, epsilon=1e-8
    )
    adamw = RunSettings(optimizer="adamw", semantics=1)
    assert adamw.optimizer_constants()["weight_decay"] == 0.0  # the first release's default
    assert RunSettings(optimizer="adamw").optimizer_constants()["weight_decay"] == 0.004


def test_weight_decay_exclude_parses_to_a_tuple():
    spec = parse_spec(
        _spec(variants={"a": {"optimizer": "adamw", "weight_decay_exclude": ["Bias"]}})
    )
    assert spec.resolve("a").weight_decay_exclude == ("bias",)


def test_clipping_thresholds_differ_within_one_population():
    spec = parse_spec(
        _spec(variants={"a": {"clipnorm": 0.5}, "b": {"clipnorm": 2.0}, "c": {}, "d": {"rho": 0.5,
              "optimizer": "rmsprop"}})
    )  # fmt: skip
    plan = plan_study(spec, n_train=112, n_features=4, n_outputs=3)
    assert [len(p.runs) for p in plan.populations] == [3, 1]  # rho is one per population


BAD = [
    ({"optimizer": "adam", "rho": 0.9}, r"rho at variants\.a applies to rmsprop only, not 'adam'"),
    ({"optimizer": "sgd", "beta_2": 0.9}, r"beta_2 at variants\.a applies to adam and adamw only"),
    ({"optimizer": "rmsprop", "nesterov": True}, r"nesterov at variants\.a applies to sgd only"),
    ({"optimizer": "adam", "weight_decay_exclude": ["bias"]},
     r"weight_decay_exclude at variants\.a applies to adamw only, not 'adam'"),
    ({"optimizer": "sgd", "nesterov": True},
     r"variants\.a: Invalid value for `nesterov`: Nesterov momentum has no effect with momentum 0"),
    ({"clipnorm": 1.0, "clipvalue": 0.5},
     r"variants\.a: Invalid clipping arguments: give at most one of clipnorm, clipvalue and "
     r"global_clipnorm per model \(Keras' rule\)\. Received: clipnorm=1\.0, clipvalue=0\.5\."),
    ({"optimizer": "adamw", "weight_decay": 0.0, "weight_decay_exclude": ["bias"]},
     r"there is no weight decay to exclude from"),
    ({"optimizer": "adamw", "weight_decay_exclude": ["batchnorm"]},
     r"weight_decay_exclude at variants\.a names 'batchnorm' but the model has no batch"),
    ({"optimizer": "adamw", "weight_decay_exclude": ["kernel"]},
     r"`variants\.a\.weight_decay_exclude`: expected one of 'bias', 'batchnorm'\. "
     r"Received: \['kernel'\]"),
    ({"clipnorm": 0.0}, r"`variants\.a\.clipnorm`: expected greater than 0"),
    ({"epsilon": 0.0, "optimizer": "adam"}, r"`variants\.a\.epsilon`: expected greater than 0"),
    ({"beta_1": 1.0, "optimizer": "adam"}, r"`variants\.a\.beta_1`: expected less than 1"),
]  # fmt: skip


@pytest.mark.parametrize("variant, message", BAD)
def test_bad_optimizer_keys_are_refused_with_their_path(variant, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(variants={"a": variant}))


def test_batchnorm_exclusion_is_fine_with_batch_norm():
    spec = parse_spec(
        _spec(
            variants={
                "a": {"optimizer": "adamw", "batchnorm": True,
                      "weight_decay_exclude": ["bias", "batchnorm"]}
            }
        )
    )  # fmt: skip
    assert spec.resolve("a").weight_decay_exclude == ("bias", "batchnorm")


STUDY = """
name = "keras-optimizers"
dataset = "iris"
epochs = 3
batch_size = 16
seeds = [0, 1]

[model]
hidden = [8]
optimizer = "rmsprop"
rho = 0.8
epsilon = 1e-3
learning_rate = 0.05

[variants.tight]
clipnorm = 0.05

[variants.loose]
clipnorm = 5.0
"""


def test_each_run_of_a_study_equals_fit_with_its_settings(write_spec, tmp_path):
    path = write_spec(STUDY)
    store = tmp_path / "s.db"
    run_study(path, store=store, progress=False)
    study = load_study(store, "keras-optimizers")
    data = prepare_data(load_spec(path))
    assert len(study.runs) == 4
    for run in study.runs:
        alone = fit(
            mlp([8]), data.x_train, data.y_train, epochs=3, batch_size=16, optimizer="rmsprop",
            rho=0.8, epsilon=1e-3, learning_rate=0.05, seed=run.seed,
            clipnorm=0.05 if run.variant == "tight" else 5.0,
            validation_data=(data.x_test, data.y_test), standardize=data.standardize,
            task=data.task,
        )  # fmt: skip
        for stored, expected in zip(run.history, alone.rows):
            assert stored["loss"] == pytest.approx(expected["loss"], rel=1e-5)
            assert stored["val_loss"] == pytest.approx(expected["val_loss"], rel=1e-5)
    tight, loose = (
        [r.history[-1]["loss"] for r in study.runs if r.variant == v] for v in ("tight", "loose")
    )
    assert tight != pytest.approx(loose, rel=1e-3)  # the clip bites


def test_the_executor_passes_an_older_semantics_constants_to_fit(monkeypatch):
    spec = parse_spec(_spec(variants={"a": {"optimizer": "rmsprop", "clipvalue": 0.5}}))
    plan = plan_study(spec, n_train=112, n_features=4, n_outputs=3)
    population = plan.populations[0]
    old = RunSettings(**{**population.settings.__dict__, "semantics": 1})
    population.runs[0] = type(population.runs[0])(
        **{**population.runs[0].__dict__, "settings": old}
    )
    seen = {}

    class Stop(Exception):
        pass

    def recording_fit(model, x, y, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(executors_module, "fit", recording_fit)
    with pytest.raises(Stop):
        executors_module.train_population(population, prepare_data(spec))
    assert (seen["formula"], seen["rho"], seen["epsilon"]) == ("torch", 0.99, 1e-8)
    assert seen["clipvalue"] == [0.5]
