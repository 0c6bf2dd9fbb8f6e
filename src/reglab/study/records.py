"""What a finished study looks like when read back from the store.

These plain dataclasses are the read API the report is built on: the report never
touches SQL, and the store never knows how a report is drawn. Every value is a plain
Python value (floats, ints, strings, lists, dicts), so a record can be printed,
compared in a test, or turned into JSON as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunRecord", "StudyRecord", "WeightHistogram"]


@dataclass(frozen=True)
class WeightHistogram:
    """A histogram of one layer's kernel at one moment of training.

    Parameters
    ----------
    layer : str
        The layer's name as the engine reports it (``"dense_0"``...).
    epoch : str
        ``"first"`` (after epoch 1) or ``"last"`` (at the end of training).
    edges : list of float
        The ``len(counts) + 1`` bin edges, as ``numpy.histogram`` returns them.
    counts : list of int
        How many weights fell in each bin.

    Examples
    --------
    >>> h = WeightHistogram("dense_0", "last", [-1.0, 0.0, 1.0], [3, 5])
    >>> sum(h.counts)
    8
    """

    layer: str
    epoch: str
    edges: list[float]
    counts: list[int]


@dataclass(frozen=True)
class RunRecord:
    """One trained run: a variant, a seed, and a fold of a repeat.

    Parameters
    ----------
    key : str
        Stable identity of the run (16 hex characters of the sha256 of its settings).
    variant : str
        The variant's name in the spec.
    seed : int
        The run's seed (initialisation, dropout masks, shuffling).
    fold : int
        The fold index (0 when the study validates on a hold-out set or split).
    repeat : int
        The repeat index of iterated K-fold (0 otherwise).
    status : str
        ``"done"``, ``"diverged"`` (the loss became NaN/Inf) or ``"failed"``.
    error : str or None
        The error text of a failed run.
    seconds : float or None
        Wall time of the population that trained this run.
    metric : str
        The metric's name: ``"accuracy"`` or ``"mae"``.
    train_loss, train_metric : float or None
        Loss and metric on the run's training rows, in eval mode, after training.
    test_loss, test_metric : float or None
        Loss and metric on the dataset's test set, scored once after training; None when
        the run did not score it (a store made before schema 3 for a split or K-fold).
    best_epoch, stopped_epoch : int
        1-based; 0 means none (as Keras' ``stopped_epoch``).
    epochs_run : int
        How many epochs were trained.
    sparsity : float or None
        Fraction of exact zeros over all kernels.
    history : list of dict, default []
        One dict per epoch with every History column (``epoch``, ``loss``, ``val_loss``...).
    histograms : list of WeightHistogram, default []
        Kernel histograms after the first and the last epoch.
    val_loss, val_metric : float or None, default None
        Loss and metric on the run's validation rows (its split or fold; the test set
        itself when the study validates on it), after training; None for a refit run,
        which has no validation rows.

    Examples
    --------
    >>> run = RunRecord("0123456789abcdef", "l2", 0, 0, 0, "done", None, 1.5, "accuracy",
    ...                 0.1, 0.99, 0.3, 0.95, 10, 0, 10, 0.0)
    >>> round(run.train_metric - run.test_metric, 2)
    0.04
    """

    key: str
    variant: str
    seed: int
    fold: int
    repeat: int
    status: str
    error: str | None
    seconds: float | None
    metric: str
    train_loss: float | None
    train_metric: float | None
    test_loss: float | None
    test_metric: float | None
    best_epoch: int
    stopped_epoch: int
    epochs_run: int
    sparsity: float | None
    history: list[dict] = field(default_factory=list)
    histograms: list[WeightHistogram] = field(default_factory=list)
    val_loss: float | None = None
    val_metric: float | None = None

    @property
    def refit(self) -> bool:
        """A K-fold study's final run on all training rows (``fold == -1``)."""
        return self.fold < 0


@dataclass(frozen=True)
class StudyRecord:
    """A study as stored: its resolved spec, where it ran, and all its runs.

    Parameters
    ----------
    name : str
        The study's name.
    spec : dict
        The resolved spec (every default filled in) as plain JSON values.
    created : str
        When the study was first run (ISO 8601, UTC).
    dataset : str
        The dataset's name.
    device : str
        The device it trained on (``"cpu"``, ``"cuda"``...).
    reglab_version, torch_version : str
        The versions that produced the numbers.
    runs : list of RunRecord, default []
        Every run in the store for this study, ordered by variant (spec order), seed,
        repeat and fold.

    Examples
    --------
    >>> study = StudyRecord("demo", {"epochs": 5}, "2024-01-01T00:00:00+00:00", "digits",
    ...                     "cpu", "0.1.0", "2.4.0")
    >>> study.runs
    []
    """

    name: str
    spec: dict
    created: str
    dataset: str
    device: str
    reglab_version: str
    torch_version: str
    runs: list[RunRecord] = field(default_factory=list)
