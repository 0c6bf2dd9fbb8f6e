"""The MLP shorthand's gaussian_noise, gaussian_dropout and kernel_constraint spec keys."""

import numpy as np
import pytest

from reglab import fit, mlp
from reglab.nn.constraints import MaxNorm
from reglab.study import load_study, parse_spec, run_study
from reglab.study.models import population_model
from reglab.study.planner import plan_study
from reglab.study.spec import SpecError

BASE = {"name": "s", "dataset": "iris", "epochs": 3, "batch_size": 16,
        "model": {"hidden": [8]}}  # fmt: skip
VARIANTS = {
    "baseline": {},
    "noise": {"gaussian_noise": 0.3},
    "gdrop": {"gaussian_dropout": 0.2},
    "maxnorm": {"kernel_constraint": {"max_norm": 0.5}},
}


def test_the_keys_build_the_layers_per_member_in_one_population():
    plan = plan_study(parse_spec({**BASE, "variants": VARIANTS}), n_train=112, n_features=4,
                      n_outputs=3)  # fmt: skip
    assert len(plan.populations) == 1  # they differ per member, not in shape
    model = population_model(plan.populations[0].runs)
    layers = {}
    for layer in model.layers:  # the first of each type: dense_0, not the output layer
        layers.setdefault(layer.type_name, layer)
    assert layers["gaussian_noise"].stddev == [0.0, 0.3, 0.0, 0.0]
    assert layers["gaussian_dropout"].rate == [0.0, 0.0, 0.2, 0.0]
    constraints = layers["dense"].kernel_constraint
    assert [c is None for c in constraints] == [True, True, True, False]
    assert constraints[3].max_value == 0.5


def test_a_spec_variant_trains_as_its_python_twin(tmp_path):
    spec = parse_spec({**BASE, "variants": {"maxnorm": VARIANTS["maxnorm"]}, "seeds": [4]})
    run_study(spec, store=tmp_path / "s.db", progress=False)
    stored = load_study(tmp_path / "s.db", "s").runs[0]
    from reglab.study.inputs import prepare_data

    data = prepare_data(spec)
    twin = fit(mlp([8], kernel_constraint=MaxNorm(0.5)), data.x_train, data.y_train,
               epochs=3, batch_size=16, seed=4, standardize=True, record_weights=True,
               validation_data=(data.x_test, data.y_test))  # fmt: skip
    losses = [row["loss"] for row in stored.history]
    assert losses == pytest.approx(twin.history["loss"], rel=1e-5)
    kernel = np.asarray(twin.weights["last"]["dense_0/kernel"])
    norms = np.linalg.norm(kernel, axis=0)  # per unit, over its inputs (Keras: axis 0)
    assert norms.max() <= 0.5 + 1e-5 and norms.max() > 0.4  # held at the bound


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"kernel_constraint": {"max_nrom": 3.0}}, "expected one of { max_norm = VALUE }"),
        ({"gaussian_dropout": 1.0}, "gaussian_dropout"),
        ({"gaussian_noise": -0.1}, "gaussian_noise"),
        (
            {
                "layers": [{"type": "flatten"}, {"type": "dense", "units": None}],
                "gaussian_noise": 0.1,
            },
            "gaussian_noise at variants.a applies to the MLP shorthand",
        ),
    ],
)
def test_bad_values_are_one_line_each(variant, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, "variants": {"a": variant}})
