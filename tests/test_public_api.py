"""The public names: what ``__all__`` lists is importable, documented, and nothing is missing."""

import inspect

import reglab

REQUIRED = {
    "load_dataset", "mlp", "fit", "evaluate", "predict", "History", "L1", "L2", "ElasticNet",
    "Dropout", "DropConnect", "EarlyStopping", "to_categorical", "multi_hot", "smooth_curve",
    "kfold", "cross_validate",
}  # fmt: skip


def test_all_lists_exactly_the_importable_public_names():
    for name in reglab.__all__:
        assert hasattr(reglab, name), name
    public = {
        name
        for name, value in vars(reglab).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(reglab.__all__) - {"__version__"}


def test_the_issue_names_are_exported():
    assert set(reglab.__all__) >= REQUIRED


def test_every_public_callable_has_a_numpydoc_docstring_with_an_example():
    for name in reglab.__all__:
        value = getattr(reglab, name)
        if not callable(value):
            continue
        doc = inspect.getdoc(value) or ""
        assert doc.strip(), f"{name} has no docstring"
        assert "Examples" in doc or "Example" in doc, f"{name} has no example"


def test_importing_reglab_and_its_cli_waits_for_no_heavy_library():
    # Ctrl-C during start-up is one line only if the libraries load inside `main`'s try.
    import subprocess
    import sys

    code = "import sys, reglab, reglab.cli; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_layers_stay_reachable_as_attributes():
    assert reglab.data.load_dataset is reglab.load_dataset
    assert callable(reglab.study.run_study)
