"""Studies that name any model: reglab layers by Keras' names, or your own module."""

import json
import sqlite3
import textwrap

import pytest

from reglab.data.status import dataset_statuses
from reglab.study import load_spec, parse_spec, run_study
from reglab.study.planner import plan_study
from reglab.study.spec_errors import SpecError

LAYERS = """
name = "layers"
dataset = "digits"
epochs = 2
batch_size = 32
seeds = [0, 1]
train_size = 200

[model]
layers = [
  { type = "dense", units = 32, activation = "relu", kernel_regularizer = { l2 = 0.001 } },
  { type = "dropout", rate = 0.2 },
  { type = "gaussian_noise", stddev = 0.1 },
  { type = "dense", units = 10 },
]

[variants.baseline]

[variants.more_dropout]
dropout = 0.5

[variants.wider]
layers = [ { type = "dense", units = 64, activation = "tanh" }, { type = "dense", units = 10 } ]
"""


def spec_of(text, **changes):
    import tomllib

    data = tomllib.loads(textwrap.dedent(text))
    data.update(changes)
    return parse_spec(data, source="study.toml")


def test_variants_that_differ_in_per_member_values_share_one_population():
    spec = spec_of(LAYERS)
    assert spec.resolve("more_dropout").layers[1]["rate"] == 0.5
    assert spec.resolve("baseline").layers[1]["rate"] == 0.2
    plan = plan_study(spec, n_train=200, n_features=64, n_outputs=10, input_shape=(64,))
    assert sorted(len(p.runs) for p in plan.populations) == [2, 4]  # wider is its own shape


def test_a_study_with_layers_runs_end_to_end(tmp_path):
    out = run_study(spec_of(LAYERS), store=tmp_path / "s.db", progress=False)
    assert out.trained == 6
    with sqlite3.connect(tmp_path / "s.db") as db:
        statuses = {row[0] for row in db.execute("SELECT status FROM runs")}
        spec = json.loads(db.execute("SELECT spec FROM studies").fetchone()[0])
        layers = {row[0] for row in db.execute("SELECT DISTINCT layer FROM histograms")}
    assert statuses == {"done"}
    assert spec["model"]["layers"][0]["kernel_regularizer"] == {"l2": 0.001, "proximal_l1": False}
    assert {"dense_0/kernel", "dense_1/kernel"} <= layers


FACTORY = """
import torch


def small_net():
    return torch.nn.Sequential(
        torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(16, 10)
    )


def not_a_module():
    return 42
"""

MODULE_SPEC = """
name = "module"
dataset = "digits"
epochs = 2
seeds = [0, 1]
train_size = 120

[model]
module = "mynets:small_net"

[variants.baseline]

[variants.l2]
penalty = { l2 = 0.01 }
"""


@pytest.fixture
def factory_dir(tmp_path, monkeypatch):
    (tmp_path / "mynets.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_study_with_a_module_runs_and_records_its_source_hash(factory_dir):
    import hashlib

    out = run_study(spec_of(MODULE_SPEC), store=factory_dir / "m.db", progress=False)
    assert out.trained == 4
    with sqlite3.connect(factory_dir / "m.db") as db:
        spec = json.loads(db.execute("SELECT spec FROM studies").fetchone()[0])
        statuses = {row[0] for row in db.execute("SELECT status FROM runs")}
    assert statuses == {"done"}
    expected = hashlib.sha256((factory_dir / "mynets.py").read_bytes()).hexdigest()
    assert spec["resolved"]["l2"]["module"] == "mynets:small_net"
    assert spec["resolved"]["l2"]["module_sha256"] == expected


def test_editing_the_module_changes_its_runs_identity(factory_dir):
    spec = spec_of(MODULE_SPEC)
    before = plan_study(spec, n_train=120, n_features=64, n_outputs=10).runs[0].key
    (factory_dir / "mynets.py").write_text(FACTORY + "\n# an edit\n")
    after = plan_study(spec, n_train=120, n_features=64, n_outputs=10).runs[0].key
    assert before != after


FASHION = next(s for s in dataset_statuses() if s.name == "fashion_mnist")


@pytest.mark.skipif(not FASHION.found, reason="Fashion-MNIST is not installed")
def test_a_convolutional_study_runs_on_images(tmp_path):
    text = """
    name = "cnn"
    dataset = "fashion_mnist"
    epochs = 1
    seeds = [0]
    train_size = 128

    [model]
    layers = [
      { type = "conv2d", filters = 4, kernel_size = 3, activation = "relu" },
      { type = "max_pool2d", pool_size = 2 },
      { type = "flatten" },
      { type = "dense", units = 16, activation = "relu", kernel_regularizer = { l2 = 0.001 } },
      { type = "dropout", rate = 0.5 },
      { type = "dense", units = 10 },
    ]

    [variants.baseline]

    [variants.augmented]
    augment = { rotation = 10.0 }
    """
    out = run_study(spec_of(text), store=tmp_path / "c.db", progress=False)
    assert out.trained == 2 and out.failed == 0


@pytest.mark.parametrize(
    ("layers", "message"),
    [([{"type": "dense_layer", "units": 3}],
      r"model.layers: layer 0: unknown layer type 'dense_layer'; did you mean 'dense'\?"),
     ([{"units": 3}], r"layer 0: missing key `type`: one of 'activation', "),
     ([{"type": "dense", "unit": 10}], r"layer 0: unknown argument 'unit' of a dense layer; did "
                                       r"you mean 'units'\?"),
     ([{"type": "dense", "units": 8}, {"type": "dropout", "rate": 1.5}],
      r"layer 1: Invalid value for `rate` of Dropout: expected a float in \[0, 1\)"),
     ([{"type": "dense", "units": 10, "kernel_regularizer": {"l3": 0.1}}],
      r"layer 0: kernel_regularizer: "),
     ([{"type": "dropout", "rate": [0.1, 0.2]}, {"type": "dense", "units": 10}],
      r"rate of a dropout layer takes one value in a spec"),
     ("dense", r"model.layers"),
     ([{"type": "conv2d", "filters": 4, "kernel_size": 3}, {"type": "flatten"},
       {"type": "dense", "units": 10}],
      r"layers at variants.a cannot take digits's samples \(64,\): Invalid model: Conv2D "
      r"'conv2d_0' takes images"),
     ([{"type": "dense", "units": 8}, {"type": "dense", "units": 3}],
      r"the last layer gives outputs of shape \(3,\) but the task needs 10 logits")],
)  # fmt: skip
def test_bad_layer_tables_get_one_line_with_their_path(layers, message):
    with pytest.raises(SpecError, match=message) as error:
        spec_of('name = "x"\ndataset = "digits"\n[variants.a]\n', model={"layers": layers})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("model", "variant", "message"),
    [({"layers": [{"type": "dense", "units": 10}]}, {"hidden": [8]},
      r"hidden at variants.a applies to the MLP shorthand; with `layers` write it"),
     ({"layers": [{"type": "dense", "units": 10}]}, {"dropout": 0.5},
      r"dropout at variants.a sets the rate of the model's Dropout layers, and its layers have "
      r"none"),
     ({"module": "nowhere_to_be_found:make"}, {},
      r"model.module: cannot import 'nowhere_to_be_found' from the working directory"),
     ({"module": "mynets:missing"}, {}, r"module 'mynets' has no callable 'missing'"),
     ({"module": "mynets:not_a_module"}, {},
      r"the factory 'mynets:not_a_module' returned int, not a torch.nn.Module"),
     ({"module": "mynets"}, {}, r'expected "package.module:factory"'),
     ({"module": "mynets:small_net"}, {"dropout": 0.5},
      r"dropout at variants.a applies to the MLP shorthand or `layers`; a `module` makes its "
      r"own layers"),
     ({"module": "mynets:small_net", "layers": [{"type": "dense", "units": 10}]}, {},
      r"names both `layers` and `module`")],
)  # fmt: skip
def test_model_keys_that_do_not_fit_the_model_form_are_refused(factory_dir, model, variant,
                                                                message):  # fmt: skip
    with pytest.raises(SpecError, match=message):
        spec_of('name = "x"\ndataset = "digits"\n', model=model, variants={"a": variant})


def test_a_spec_file_with_layers_loads(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(LAYERS))
    assert load_spec(path).resolve("wider").layers[0]["activation"] == "tanh"


def test_layer_tables_take_constraints_and_gaussian_dropout():
    from reglab.nn import MaxNorm
    from reglab.study.models import population_model

    layers = [
        {"type": "dense", "units": 16, "kernel_constraint": {"max_norm": 3.0}},
        {"type": "gaussian_dropout", "rate": 0.2},
        {"type": "dense", "units": 10},
    ]
    spec = spec_of('name = "x"\ndataset = "digits"\n[variants.a]\n', model={"layers": layers})
    plan = plan_study(spec, n_train=100, n_features=64, n_outputs=10)
    model = population_model(plan.populations[0].runs)
    assert model.layers[0].kernel_constraint == [MaxNorm(3.0)]
    assert model.layers[1].rate == [0.2]


@pytest.mark.parametrize(
    ("constraint", "message"),
    [({"max_nrom": 3.0}, r"kernel_constraint: expected one of \{ max_norm = VALUE \}"),
     ({"unit_norm": 1}, r"kernel_constraint.unit_norm: expected true"),
     ({"max_norm": -1.0}, r"`max_value` of MaxNorm")],
)  # fmt: skip
def test_bad_constraint_tables_are_named(constraint, message):
    layers = [{"type": "dense", "units": 10, "kernel_constraint": constraint}]
    with pytest.raises(SpecError, match=message):
        spec_of('name = "x"\ndataset = "digits"\n[variants.a]\n', model={"layers": layers})
