"""A study made smaller for a quick check: fewer epochs, training rows and seeds.

The shipped studies take minutes to hours; their tests, and a user trying a spec out,
run the same spec cut down (:func:`reduced_spec`) instead of a second copy of each
file that would drift from the first. Everything else (the model, the variants, the
validation scheme, the dataset's options) is kept, and the result is validated again.
"""

from __future__ import annotations

from reglab.errors import check_int
from reglab.study.spec import Spec, parse_spec

__all__ = ["reduced_spec"]


def reduced_spec(spec: Spec, *, epochs: int = 2, train_size: int = 200, seeds: int = 1) -> Spec:
    """``spec`` with at most ``epochs`` epochs, ``train_size`` training rows and ``seeds`` seeds.

    Variants that set their own ``epochs`` are capped too, and so is an SWA
    ``start_epoch`` past the new last epoch. The study is renamed ``NAME-reduced`` so
    that its runs never mix with the full study's in one store.

    Parameters
    ----------
    spec : Spec
        The study.
    epochs : int, default 2
        The most epochs any variant trains.
    train_size : int, default 200
        The most training rows (a spec's smaller ``train_size`` is kept).
    seeds : int, default 1
        How many of the spec's seeds to keep (the first ones).

    Returns
    -------
    Spec

    Raises
    ------
    ReglabError
        If a number is not a positive int.
    SpecError
        If the smaller study is not valid (say, more folds than training rows).

    Examples
    --------
    >>> from reglab.study.demo import demo_spec
    >>> small = reduced_spec(demo_spec("digits"), epochs=3, train_size=100)
    >>> small.name, small.epochs, small.train_size, small.seeds
    ('demo-digits-reduced', 3, 100, [0])
    """
    epochs = check_int("epochs", epochs, owner="reduced_spec", low=1)
    train_size = check_int("train_size", train_size, owner="reduced_spec", low=1)
    seeds = check_int("seeds", seeds, owner="reduced_spec", low=1)
    data = spec.model_dump(mode="json", exclude_unset=True)
    data["dataset"] = {"name": spec.dataset.name, **spec.dataset.written_options}
    data["name"] = f"{spec.name}-reduced"
    data["epochs"] = min(spec.epochs, epochs)
    data["train_size"] = min(spec.train_size or train_size, train_size)
    data["seeds"] = spec.seeds[:seeds]
    for table in (data.get("model", {}), *data["variants"].values()):
        if "epochs" in table:
            table["epochs"] = min(table["epochs"], epochs)
        swa = table.get("swa")
        if swa is not None and swa["start_epoch"] > epochs:
            swa["start_epoch"] = epochs
    return parse_spec(data, source=f"{spec.name} (reduced)")
