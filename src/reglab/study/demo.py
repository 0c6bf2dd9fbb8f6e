"""The shipped studies: TOML specs in ``reglab/study/demos/``, one per tutorial experiment.

They are ordinary specs: copy one (``demo_path(NAME)``) as a starting point for a study
of your own. :data:`DEMOS` says, for each, what it reproduces and roughly how long it
takes; the dataset is read from the spec itself, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from reglab.errors import check_choice
from reglab.study.spec import Spec, load_spec

__all__ = ["DEMOS", "Demo", "demo_lines", "demo_path", "demo_spec"]


@dataclass(frozen=True)
class Demo:
    """One shipped study.

    Parameters
    ----------
    name : str
        Its name (``reglab demo NAME``) and the stem of its TOML file.
    reproduces : str
        The experiment and the published claim, in a few words.
    duration : str
        Roughly how long the whole study took on two busy, shared CPU cores, as measured
        for docs/reproductions.md, or that it was not timed in full.
    """

    name: str
    reproduces: str
    duration: str


DEMOS: dict[str, Demo] = {
    demo.name: demo
    for demo in (
        Demo("digits", "what each regularizer does to an MLP that memorises noisy labels",
             "about 1.5 minutes"),
        Demo("fashion_mnist", "the classic overfitting study, shortened (6 regularizers)",
             "about 3 minutes"),
        Demo("mnist1d", "MNIST-1D: MLP about 68% vs CNN about 94%, with L2 and dropout",
             "about 12 minutes with --threads 1"),
        Demo("mnist_mlp", "784-1000-10 MLP at 5 vs 100 epochs, L2 0.1, batch norm, dropout",
             "over an hour (estimated from a 1/30 run: 195 s)"),
        Demo("dropout_forms", "classic vs inverted dropout vs DropConnect",
             "about 16 minutes (at load 9)"),
        Demo("cnn_early_stopping", "early stopping (patience 5) and batch norm after Conv2d",
             "about 16 minutes"),
        Demo("l1_augment", "L1 sparsity, augmentation and early stopping",
             "about 1.5 minutes"),
        Demo("dlwp_mnist", "Deep Learning with Python's 512-10 MLP (97.8% on MNIST)",
             "about 1 minute"),
        Demo("dlwp_imdb", "IMDB 16-16-1 (88%); L2 0.001 and dropout 0.5 narrow the gap",
             "not measured here (needs imdb.npz)"),
        Demo("dlwp_reuters", "Reuters 64-64-46 (about 78%)",
             "not measured here (needs reuters.npz)"),
        Demo("dlwp_boston", "Boston K-fold (MAE 2.38; the curve stops improving near 80)",
             "not measured here (needs boston_housing.npz)"),
        Demo("dlwp_boston_iterated", "Boston iterated K-fold (3 folds x 3 repeats)",
             "not measured here (needs boston_housing.npz)"),
    )
}  # fmt: skip


def demo_path(name: str = "digits"):
    """The path of a shipped study's TOML spec inside the installed package.

    Parameters
    ----------
    name : str, default "digits"
        One of :data:`DEMOS` (``-`` and ``_`` alike).

    Returns
    -------
    importlib.resources.abc.Traversable

    Raises
    ------
    ReglabError
        For another name, listing the shipped ones.

    Examples
    --------
    >>> demo_path("digits").name, demo_path("mnist-1d".replace("-", "")).name
    ('digits.toml', 'mnist1d.toml')
    """
    known = check_choice("demo", name.replace("-", "_"), tuple(DEMOS), owner="reglab demo")
    return resources.files("reglab.study").joinpath("demos", f"{known}.toml")


def demo_spec(dataset: str = "digits") -> Spec:
    """A shipped study's spec, read from its TOML file.

    Parameters
    ----------
    dataset : str, default "digits"
        The study's name in :data:`DEMOS` (the first two are named for their dataset:
        ``digits`` is embedded and takes about a minute on two CPU cores,
        ``fashion_mnist`` needs the dataset's files).

    Returns
    -------
    Spec

    Raises
    ------
    ReglabError
        For another name.

    Examples
    --------
    >>> spec = demo_spec()
    >>> spec.name, spec.variant_names[:3], spec.seeds
    ('demo-digits', ['baseline', 'l2', 'l1_proximal'], [0, 1, 2])
    >>> demo_spec("mnist1d").dataset.name
    'mnist1d'
    """
    return load_spec(demo_path(dataset))


def demo_lines() -> list[str]:
    """One line per shipped study for ``reglab demo --list``: name, claim, dataset, time.

    Returns
    -------
    list of str

    Examples
    --------
    >>> demo_lines()[0].split()[:2]
    ['digits', 'what']
    """
    width = max(len(name) for name in DEMOS)
    return [
        f"{demo.name:<{width}}  {demo.reproduces}; "
        f"{demo_spec(demo.name).dataset.name}; {demo.duration}"
        for demo in DEMOS.values()
    ]
