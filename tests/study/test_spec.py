"""Spec validation: every problem reported at once, one line, with its dotted path."""

import pytest

from reglab.study import SpecError, load_spec, parse_spec


def _spec(**overrides):
    data = {"name": "s", "dataset": "iris", "variants": {"baseline": {}}}
    data.update(overrides)
    return data


def test_variant_keys_override_study_keys():
    spec = parse_spec(
        _spec(
            epochs=7,
            model={"hidden": [4], "optimizer": "sgd"},
            variants={"a": {"epochs": 2, "learning_rate": 0.5}},
        )
    )
    resolved = spec.resolve("a")
    assert (resolved.epochs, resolved.hidden, resolved.optimizer) == (2, (4,), "sgd")
    assert resolved.resolved_learning_rate == 0.5


def test_learning_rate_defaults_to_keras_default_of_the_optimizer():
    spec = parse_spec(_spec(model={"optimizer": "sgd"}))
    assert spec.resolve("baseline").resolved_learning_rate == 0.01  # keras.optimizers.SGD


def test_penalty_builds_the_engine_penalty():
    spec = parse_spec(
        _spec(
            variants={
                "en": {"penalty": {"l1": 0.1, "l2": 0.2}},
                "prox": {"penalty": {"l1": 0.1, "proximal_l1": True}},
            }
        )
    )
    net = spec.resolve("en").penalty.build()
    prox = spec.resolve("prox").penalty.build()
    assert (type(net).__name__, net.l1, net.l2) == ("ElasticNet", 0.1, 0.2)
    assert type(prox).__name__ == "L1" and prox.proximal


def test_unknown_key_names_path_and_closest_key():
    with pytest.raises(
        SpecError,
        match=r"^s\.toml: unknown key 'l3' at variants\.l2\.penalty; "
        r"did you mean 'l2'\?$",
    ):
        parse_spec(_spec(variants={"l2": {"penalty": {"l3": 0.1}}}), source="s.toml")


def test_wrong_type_is_refused_without_coercion():
    with pytest.raises(
        SpecError,
        match=r"Invalid value for `epochs`: expected a valid integer\. "
        r"Received: '10'",
    ):
        parse_spec(_spec(epochs="10"))


def test_float_epochs_are_refused():
    with pytest.raises(SpecError, match=r"`epochs`: expected a valid integer"):
        parse_spec(_spec(epochs=10.0))


def test_impossible_value_is_refused():
    with pytest.raises(
        SpecError,
        match=r"`variants\.d\.dropout`: expected less than 1\. "
        r"Received: 1\.5",
    ):
        parse_spec(_spec(variants={"d": {"dropout": 1.5}}))


def test_unknown_choice_suggests_the_closest():
    with pytest.raises(
        SpecError,
        match=r"`model\.optimizer`: expected one of 'sgd', 'rmsprop', "
        r"'adam', 'adamw'\. Received: 'adma'; did you mean 'adam'\?",
    ):
        parse_spec(_spec(model={"optimizer": "adma"}))


def test_several_problems_are_reported_at_once_in_one_line():
    with pytest.raises(SpecError) as caught:
        parse_spec(
            _spec(epochs=0, batch_size="x", variants={"a": {"dropuot": 0.5}}), source="s.toml"
        )
    assert len(caught.value.problems) == 3
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("; ") >= 3
    assert "unknown key 'dropuot' at variants.a; did you mean 'dropout'?" in message
    assert "`epochs`" in message and "`batch_size`" in message


def test_unknown_dataset_uses_the_data_layer_message():
    with pytest.raises(SpecError, match=r"dataset: Unknown dataset 'irsi'.*did you mean 'iris'\?"):
        parse_spec(_spec(dataset="irsi"))


def test_unknown_dataset_option_is_refused():
    with pytest.raises(
        SpecError,
        match=r"Unknown option `num_word` for dataset 'imdb'.*"
        r"did you mean 'num_words'\?",
    ):
        parse_spec(_spec(dataset={"name": "imdb", "num_word": 100}))


def test_augment_on_non_image_data_is_refused():
    with pytest.raises(
        SpecError,
        match=r"augment at variants\.a needs image data; dataset "
        r"'iris' is tabular",
    ):
        parse_spec(_spec(variants={"a": {"augment": {"rotation": 10.0}}}))


def test_more_folds_than_samples_is_refused():
    with pytest.raises(SpecError, match=r"validation\.folds = 20 but only 10 training samples"):
        parse_spec(_spec(train_size=10, validation={"folds": 20}))


def test_validation_needs_one_scheme():
    with pytest.raises(SpecError, match=r"validation: give either `split` or `folds`, not both"):
        parse_spec(_spec(validation={"split": 0.2, "folds": 3}))


def test_validation_string_other_than_test_is_refused():
    with pytest.raises(SpecError, match=r"validation: expected \"test\""):
        parse_spec(_spec(validation="tset"))


def test_penalty_without_strength_is_refused():
    with pytest.raises(SpecError, match=r"variants\.a\.penalty: a penalty needs `l1`, `l2`"):
        parse_spec(_spec(variants={"a": {"penalty": {}}}))


def test_proximal_without_l1_does_nothing_and_is_refused():
    with pytest.raises(SpecError, match=r"`proximal_l1 = true` has no effect without an `l1`"):
        parse_spec(_spec(variants={"a": {"penalty": {"l2": 0.1, "proximal_l1": True}}}))


def test_weight_decay_without_adamw_is_refused():
    with pytest.raises(SpecError, match=r"weight_decay at variants\.a is AdamW's decoupled"):
        parse_spec(_spec(variants={"a": {"weight_decay": 0.01}}))


def test_missing_name_and_variants_are_reported():
    with pytest.raises(SpecError, match=r"missing key `variants`"):
        parse_spec({"name": "s", "dataset": "iris"})
    with pytest.raises(SpecError, match=r"missing key `name`"):
        parse_spec({"dataset": "iris", "variants": {"a": {}}})


def test_duplicate_seeds_are_refused():
    with pytest.raises(SpecError, match=r"seeds: seeds must be distinct"):
        parse_spec(_spec(seeds=[0, 0]))


def test_toml_syntax_error_gives_line_and_column(write_spec):
    path = write_spec('name = "x"\nepochs = = 3\n')
    with pytest.raises(SpecError, match=r"spec\.toml: invalid TOML: .*line 2, column"):
        load_spec(path)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(SpecError, match=r"nothing\.toml: no such file$"):
        load_spec(tmp_path / "nothing.toml")


def test_the_documented_example_spec_loads(write_spec):
    path = write_spec("""
        name = "fashion-overfit"
        dataset = "fashion_mnist"
        epochs = 100
        batch_size = 64
        seeds = [0, 1, 2]
        validation = "test"

        [model]
        hidden = [1000]
        activation = "relu"
        optimizer = "adam"
        learning_rate = 0.001

        [variants.baseline]
        [variants.l2]
        penalty = { l2 = 0.1 }
        [variants.dropout]
        dropout = 0.75
        [variants.dropconnect]
        dropconnect = 0.5
        [variants.batchnorm]
        batchnorm = true
        [variants.early_stopping]
        early_stopping = { patience = 5, min_delta = 0.001, restore_best = true }
        [variants.augment]
        augment = { rotation = 10, scale = [0.9, 1.1], translate = 0.1 }
    """)
    spec = load_spec(path)
    assert spec.variant_names == [
        "baseline",
        "l2",
        "dropout",
        "dropconnect",
        "batchnorm",
        "early_stopping",
        "augment",
    ]
    assert spec.resolve("augment").augment.scale == [0.9, 1.1]
    assert spec.resolve("early_stopping").early_stopping.patience == 5
