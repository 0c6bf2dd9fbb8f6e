"""The planner: runs expanded, keys stable, populations grouped and bounded."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from reglab.study import parse_spec
from reglab.study.planner import member_bytes, plan_study, run_key

SPEC = {"name": "s", "dataset": "iris", "seeds": [0, 1, 2],
        "validation": {"folds": 3, "repeats": 2},
        "variants": {"base": {}, "drop": {"dropout": 0.5}, "bn": {"batchnorm": True},
                     "wide": {"hidden": [32]}}}  # fmt: skip


def _plan(spec=SPEC, **kw):
    return plan_study(parse_spec(spec), n_train=112, n_features=4, n_outputs=3, **kw)


def test_runs_are_variant_by_seed_by_repeat_by_fold():
    plan = _plan()
    assert len(plan.runs) == 4 * 3 * 2 * 3
    assert len({r.key for r in plan.runs}) == len(plan.runs)
    first = [(r.variant, r.seed, r.repeat, r.fold) for r in plan.runs[:7]]
    assert first[:4] == [("base", 0, 0, 0), ("base", 0, 0, 1), ("base", 0, 0, 2), ("base", 0, 1, 0)]
    assert [r.position for r in plan.runs] == list(range(len(plan.runs)))


def test_each_repeat_is_a_partition_of_the_training_rows():
    plan = _plan()
    runs = [r for r in plan.runs if r.variant == "base" and r.seed == 0 and r.repeat == 1]
    validation = np.sort(np.concatenate([r.validation_index for r in runs]))
    assert validation.tolist() == list(range(112))
    for r in runs:
        assert not set(r.train_index) & set(r.validation_index)


def test_test_set_validation_has_one_run_per_variant_and_seed():
    plan = _plan({**SPEC, "validation": "test"})
    assert len(plan.runs) == 12 and all(r.train_index is None for r in plan.runs)


def test_changing_a_setting_changes_only_that_variants_keys():
    before = {r.key for r in _plan().runs if r.variant == "drop"}
    base_before = {r.key for r in _plan().runs if r.variant == "base"}
    changed = json.loads(json.dumps(SPEC))
    changed["variants"]["drop"]["dropout"] = 0.25
    after = _plan(changed)
    assert before.isdisjoint({r.key for r in after.runs if r.variant == "drop"})
    assert base_before == {r.key for r in after.runs if r.variant == "base"}


def test_key_is_sha256_prefix_of_canonical_json():
    import hashlib

    expected = hashlib.sha256(b'{"a":1,"b":[2]}').hexdigest()[:16]
    assert run_key({"b": [2], "a": 1}) == expected


def test_keys_are_the_same_in_another_process():
    code = (
        "import json, sys; from reglab.study import parse_spec;"
        "from reglab.study.planner import plan_study;"
        f"spec = parse_spec(json.loads({json.dumps(json.dumps(SPEC))}));"
        "print(json.dumps([r.key for r in plan_study(spec, n_train=112, n_features=4,"
        " n_outputs=3).runs]))"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PYTHONHASHSEED": "123"},
    )
    assert json.loads(out.stdout) == [r.key for r in _plan().runs]


def test_batchnorm_and_other_widths_get_their_own_populations():
    plan = _plan()
    variants = [sorted({r.variant for r in p.runs}) for p in plan.populations]
    assert variants == [["base", "drop"], ["bn"], ["wide"]]
    assert sum(len(p.runs) for p in plan.populations) == len(plan.runs)


def test_populations_are_split_to_fit_the_memory_budget():
    spec = parse_spec(SPEC)
    per_member = member_bytes(spec.resolve("base"), 4, 3)
    budget = 5 * per_member
    plan = _plan(memory_budget=budget)
    for population in plan.populations:
        used = sum(member_bytes(r.settings, 4, 3) for r in population.runs)
        assert used <= budget
    assert [len(p.runs) for p in plan.populations][:4] == [5, 5, 5, 5]
    assert sum(len(p.runs) for p in plan.populations) == len(plan.runs)


def test_member_bytes_counts_parameters_state_and_activations():
    from reglab.study.settings import RunSettings

    s = RunSettings(hidden=(10,), optimizer="adam", batch_size=8)
    params = (4 + 1) * 10 + (10 + 1) * 3
    activations = 8 * (4 + 3 * 10 + 3)
    assert member_bytes(s, 4, 3) == 4 * (4 * params + activations)  # w, grad, adam m and v


def test_max_members_caps_population_size():
    plan = _plan({**SPEC, "max_members": 4})
    assert max(len(p.runs) for p in plan.populations) == 4
