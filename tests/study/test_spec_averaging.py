"""Spec keys label_smoothing, mixup, cutmix, ema and swa: parsed, per member, reaching fit."""

import pytest

import reglab.study.executors as executors
from reglab import SWA
from reglab.study.identity import variant_identity
from reglab.study.inputs import prepare_data
from reglab.study.planner import plan_study
from reglab.study.spec import parse_spec
from reglab.study.spec_errors import SpecError

SPEC = {
    "name": "breadth",
    "dataset": "iris",
    "epochs": 3,
    "batch_size": 16,
    "seeds": [0],
    "model": {"hidden": [4], "label_smoothing": 0.1},
    "variants": {
        "base": {},
        "mixup": {"mixup": {"alpha": 0.4}},
        "ema": {"ema": {}},
        "swa": {"swa": {"start_epoch": 2, "lr": 0.01}, "label_smoothing": 0.0},
    },
}


def test_keys_resolve_with_their_defaults_and_variants_override_the_model():
    spec = parse_spec(SPEC)
    assert spec.resolve("base").label_smoothing == 0.1
    assert spec.resolve("mixup").mixup.alpha == 0.4
    assert spec.resolve("ema").ema.momentum == 0.99  # Keras' ema_momentum default
    swa = spec.resolve("swa")
    assert (swa.swa.start_epoch, swa.swa.lr, swa.label_smoothing) == (2, 0.01, 0.0)
    assert spec.resolve("base").mixup is None and spec.resolve("base").swa is None


def test_unset_keys_stay_out_of_identity_and_resolved_json():
    spec = parse_spec(SPEC)
    assert "ema" not in variant_identity(spec, "base")
    assert variant_identity(spec, "ema")["ema"] == {}
    resolved = spec.resolve("base").to_json()
    assert "ema" not in resolved and "swa" not in resolved and resolved["label_smoothing"] == 0.1


def test_runs_that_differ_in_these_keys_share_one_population():
    spec = parse_spec(SPEC)
    data = prepare_data(spec)
    plan = plan_study(spec, n_train=data.n_train, n_features=data.n_features,
                      n_outputs=data.task.n_outputs, y_train=data.y_train,
                      input_shape=data.sample_shape)  # fmt: skip
    assert len(plan.populations) == 1 and len(plan.populations[0].runs) == 4


def test_each_member_reaches_fit_with_its_own_values(monkeypatch):
    spec = parse_spec(SPEC)
    data = prepare_data(spec)
    plan = plan_study(spec, n_train=data.n_train, n_features=data.n_features,
                      n_outputs=data.task.n_outputs, y_train=data.y_train,
                      input_shape=data.sample_shape)  # fmt: skip
    seen = {}
    real_fit = executors.fit

    def spying_fit(*args, **kwargs):
        seen.update(kwargs)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(executors, "fit", spying_fit)
    population = plan.populations[0]
    results = executors.train_population(population, data, device="cpu")
    order = [run.variant for run in population.runs]
    by_variant = dict(zip(order, range(len(order))))
    assert seen["label_smoothing"][by_variant["base"]] == 0.1
    assert seen["label_smoothing"][by_variant["swa"]] == 0.0
    assert seen["mixup"][by_variant["mixup"]] == 0.4 and seen["mixup"][by_variant["base"]] is None
    assert seen["ema"][by_variant["ema"]] == 0.99 and seen["cutmix"] == [None] * 4
    swa = seen["swa"][by_variant["swa"]]
    assert isinstance(swa, SWA) and (swa.start_epoch, swa.lr) == (2, 0.01)
    assert all(result.status == "done" for result in results)


@pytest.mark.parametrize(
    "variant, message",
    [
        ({"cutmix": {"alpha": 1.0}}, "cutmix at variants.bad needs image data"),
        ({"ema": {"momentum": 0.0}}, "variants.bad.ema.momentum"),
        ({"swa": {"lr": 0.1}}, "variants.bad.swa.start_epoch"),
        ({"swa": {"start_epoch": 9}}, r"swa.start_epoch = 9 at variants.bad is after the last"),
        ({"mixup": {"alpha": 0.2, "beta": 1}}, "unknown key 'beta' at variants.bad.mixup"),
    ],
)
def test_bad_values_are_one_line_with_their_path(variant, message):
    spec = dict(SPEC, variants={"bad": variant})
    with pytest.raises(SpecError, match=message):
        parse_spec(spec)
