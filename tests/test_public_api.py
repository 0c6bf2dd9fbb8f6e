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
