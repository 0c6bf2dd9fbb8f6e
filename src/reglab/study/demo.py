"""The built-in demo studies, shipped as TOML files in ``reglab/study/demos/``.

They are ordinary specs: copy one with ``reglab`` installed as a starting point for a
study of your own.
"""

from __future__ import annotations

from importlib import resources

from reglab.errors import check_choice
from reglab.study.spec import Spec, load_spec

__all__ = ["DEMOS", "demo_path", "demo_spec"]

DEMOS = ("digits", "fashion_mnist")


def demo_path(dataset: str = "digits"):
    """The path of a demo's TOML spec inside the installed package.

    Examples
    --------
    >>> demo_path("digits").name
    'digits.toml'
    """
    name = check_choice("dataset", dataset.replace("-", "_"), DEMOS, owner="demo_spec")
    return resources.files("reglab.study").joinpath("demos", f"{name}.toml")


def demo_spec(dataset: str = "digits") -> Spec:
    """The built-in study on ``dataset``: baseline against each regularizer, 3 seeds.

    Parameters
    ----------
    dataset : {"digits", "fashion_mnist"}, default "digits"
        ``digits`` is embedded and takes about a minute on two CPU cores;
        ``fashion_mnist`` needs the dataset's files.

    Returns
    -------
    Spec

    Raises
    ------
    ReglabError
        For another dataset name.

    Examples
    --------
    >>> spec = demo_spec()
    >>> spec.name, spec.variant_names[:3], spec.seeds
    ('demo-digits', ['baseline', 'l2', 'l1_proximal'], [0, 1, 2])
    """
    return load_spec(demo_path(dataset))
