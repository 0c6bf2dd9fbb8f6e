"""Checking the keyword options of :func:`reglab.data.load_dataset` against what a dataset has."""

from __future__ import annotations

from reglab.data.catalog import KNOWN_DATASETS, DatasetInfo
from reglab.errors import ReglabError, check_int, check_number, did_you_mean, invalid

__all__ = ["dataset_info", "resolve_options"]

# Options that may be None to switch a step off, as in Keras.
_OPTIONAL_INTS = {"num_words": 1, "maxlen": 1, "start_char": 0, "oov_char": 0}
_INTS = {"skip_top": 0, "index_from": 0, "seed": 0}
_MAX_SEED = 2**32 - 1  # NumPy's RandomState, which Keras' shuffles use


def dataset_info(name: object) -> DatasetInfo:
    """The catalog entry for ``name``, or an error naming the closest known dataset.

    Parameters
    ----------
    name : str
        A dataset name; case and ``-`` / ``_`` do not matter.

    Returns
    -------
    DatasetInfo

    Raises
    ------
    ReglabError
        If no dataset has that name.

    Examples
    --------
    >>> dataset_info("mnsit")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Unknown dataset 'mnsit': ... did you mean 'mnist'?
    """
    if isinstance(name, str) and name.lower().replace("-", "_") in KNOWN_DATASETS:
        return KNOWN_DATASETS[name.lower().replace("-", "_")]
    listed = ", ".join(KNOWN_DATASETS)
    hint = did_you_mean(str(name).lower(), KNOWN_DATASETS)
    raise ReglabError(
        f"Unknown dataset {name!r}: expected one of {listed}. Received: name={name!r}{hint or '.'}"
    )


def resolve_options(info: DatasetInfo, options: dict[str, object]) -> dict[str, object]:
    """The dataset's defaults updated with ``options``, each checked.

    Parameters
    ----------
    info : DatasetInfo
        The dataset, with the options it accepts and their defaults.
    options : dict
        The options the user passed.

    Returns
    -------
    dict

    Raises
    ------
    ReglabError
        Listing every unknown option with the closest valid name, or for a bad value.

    Examples
    --------
    >>> resolve_options(dataset_info("iris"), {"seed": 3})
    {'test_split': 0.25, 'seed': 3}
    >>> resolve_options(dataset_info("imdb"), {"nmu_words": 100})
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Unknown option `nmu_words` for dataset 'imdb' ...
    """
    unknown = [key for key in options if key not in info.options]
    if unknown:
        listed = ", ".join(info.options) or "none"
        problems = "; ".join(
            f"Unknown option `{key}` for dataset '{info.name}' (valid options: {listed}). "
            f"Received: {key}={options[key]!r}{did_you_mean(key, info.options) or '.'}"
            for key in unknown
        )
        raise ReglabError(problems)
    resolved = dict(info.options)
    owner = f"load_dataset('{info.name}')"
    for key, value in options.items():
        resolved[key] = _checked(key, value, owner, embedded=info.embedded)
    return resolved


def _checked(key: str, value: object, owner: str, *, embedded: bool) -> object:
    if key in _OPTIONAL_INTS:
        return (
            None if value is None else check_int(key, value, owner=owner, low=_OPTIONAL_INTS[key])
        )
    if key in _INTS:
        number = check_int(key, value, owner=owner, low=_INTS[key])
        if key == "seed" and number > _MAX_SEED:
            raise ReglabError(invalid(key, f"an int in [0, {_MAX_SEED}]", value, owner=owner))
        return number
    if key == "test_split":
        # Keras allows 0 (everything trains); a scikit-learn split needs both parts.
        return check_number(
            key, value, owner=owner, low=0.0, high=1.0, high_open=True, low_open=embedded
        )
    raise AssertionError(f"option {key} has no check")  # a catalog entry without a checker
