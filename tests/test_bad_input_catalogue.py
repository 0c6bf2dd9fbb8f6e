"""The bad-input catalogue: every mistake a user can make is one line, exit status 2.

Each case runs the real command line (``reglab.cli.main``, in this process for speed)
next to a store that holds one finished study, and checks: exit status 2, exactly one
line on stderr in reglab's format, no traceback, the expected words, and the store's
file byte for byte as it was. The cases are grouped by kind (spec, cli, store, data);
``test_the_catalogue_is_large`` keeps the count honest.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests

from reglab.cli import main
from reglab.data import finder

GOOD = """
name = "cat"
dataset = "iris"
epochs = 1
batch_size = 16
seeds = [0]

[model]
hidden = [4]

[variants.base]
"""

RUN = ["run", "bad.toml", "--store", "s.db", "--quiet"]


@dataclass(frozen=True)
class Case:
    kind: str  # spec, cli, store, data
    name: str
    message: str  # a regex the one line must contain
    argv: tuple = tuple(RUN)
    files: dict = field(default_factory=dict)  # name -> text, bytes or a function of the folder
    env: dict = field(default_factory=dict)


def spec(kind, name, message, text, **kw) -> Case:
    return Case(kind, name, message, files={"bad.toml": text, **kw.pop("files", {})}, **kw)


def with_model(extra: str) -> str:
    return GOOD.replace("[model]\n", f"[model]\n{extra}\n")


def with_variant(extra: str) -> str:
    return GOOD.replace("[variants.base]\n", f"[variants.base]\n{extra}\n")


def top(extra: str) -> str:
    return extra + "\n" + GOOD


def replaced(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# --- files the store and data cases plant -------------------------------------------


def sqlite_file(statements: list[str]):
    def make(folder: Path, name: str) -> None:
        db = sqlite3.connect(folder / name)
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()

    return make


def damaged_spec_cell(folder: Path, name: str) -> None:
    db = sqlite3.connect(folder / name)
    db.execute("UPDATE studies SET spec = '{not json'")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def npz(name: str, **arrays):
    def make(folder: Path, _: str) -> None:
        target = folder / "data" / name
        target.parent.mkdir(exist_ok=True)
        with open(target, "wb") as handle:
            np.savez(handle, **arrays)

    return make


def objects(items) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


class _RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def planted_imdb(folder: Path, _: str) -> None:
    labels = np.array([1])
    evil = objects([_RunsCommand(folder / "pwned")])
    npz("imdb.npz", x_train=evil, y_train=labels, x_test=objects([[1]]), y_test=labels)(folder, _)


def data_file(name: str, content: bytes):
    def make(folder: Path, _: str) -> None:
        (folder / "data").mkdir(exist_ok=True)
        (folder / "data" / name).write_bytes(content)

    return make


TRUST_MNIST = ("--trust-data", "data/mnist.npz")
TRUST_IMDB = ("--trust-data", "data/imdb.npz")
TRUST_FASHION = tuple(
    part
    for split in ("train", "t10k")
    for kind in ("images-idx3", "labels-idx1")
    for part in ("--trust-data", f"data/fashion_mnist/{split}-{kind}-ubyte")
)
IMDB = replaced('dataset = "iris"', 'dataset = "imdb"')
MNIST = replaced('dataset = "iris"', 'dataset = "mnist"')
PROC = Path("/proc")

CASES = [
    # --- spec: syntax and keys --------------------------------------------------------
    spec(
        "spec",
        "empty-file-names-every-missing-key",
        r"missing key `name`; missing key `dataset`; missing key `variants`",
        "",
    ),
    spec("spec", "invalid-toml", r"bad\.toml: invalid TOML", "name = \n"),
    spec(
        "spec",
        "unknown-top-key",
        r"unknown key 'epoch' at \(top level\); did you mean 'epochs'",
        top("epoch = 3"),
    ),
    spec(
        "spec",
        "unknown-variant-key",
        r"unknown key 'dropuot' at variants\.base; did you mean",
        with_variant("dropuot = 0.5"),
    ),
    spec(
        "spec",
        "unknown-model-key",
        r"unknown key 'hiden' at model; did you mean 'hidden'",
        with_model("hiden = [3]"),
    ),
    spec(
        "spec",
        "epochs-float",
        r"`epochs`: expected a valid integer\. Received: 10\.0",
        replaced("epochs = 1", "epochs = 10.0"),
    ),
    spec(
        "spec",
        "epochs-zero",
        r"`epochs`: expected greater than or equal to 1",
        replaced("epochs = 1", "epochs = 0"),
    ),
    spec(
        "spec",
        "epochs-string",
        r"`epochs`: expected a valid integer\. Received: '1'",
        replaced("epochs = 1", 'epochs = "1"'),
    ),
    spec(
        "spec",
        "batch-size-negative",
        r"`batch_size`: expected greater than or equal to 1",
        replaced("batch_size = 16", "batch_size = -1"),
    ),
    spec(
        "spec",
        "seeds-empty",
        r"`seeds`: expected at least 1 item\. Received: \[\]",
        replaced("seeds = [0]", "seeds = []"),
    ),
    spec(
        "spec",
        "seeds-repeated",
        r"seeds must be distinct",
        replaced("seeds = [0]", "seeds = [1, 1]"),
    ),
    spec(
        "spec",
        "seeds-negative",
        r"`seeds\.0`: expected greater than or equal to 0",
        replaced("seeds = [0]", "seeds = [-1]"),
    ),
    spec(
        "spec",
        "name-empty",
        r"`name`: expected a non-empty string",
        replaced('name = "cat"', 'name = ""'),
    ),
    spec(
        "spec",
        "max-members-zero",
        r"`max_members`: expected greater than or equal to 1",
        top("max_members = 0"),
    ),
    # --- spec: dataset -------------------------------------------------------------------
    spec(
        "spec",
        "dataset-misspelt",
        r"Unknown dataset 'irsi'.*did you mean 'iris'",
        replaced('dataset = "iris"', 'dataset = "irsi"'),
    ),
    spec(
        "spec",
        "dataset-number",
        r"`dataset`: expected a dataset name or a table",
        replaced('dataset = "iris"', "dataset = 3"),
    ),
    spec(
        "spec",
        "dataset-trusted-is-not-a-spec-key",
        r"`trusted` is not a spec key.*reglab run SPEC --trust-data FILE",
        replaced('dataset = "iris"', 'dataset = { name = "imdb", trusted = true }'),
    ),
    spec(
        "spec",
        "dataset-seed-beyond-32-bits",
        r"`seed` of load_dataset\('iris'\): expected an int",
        replaced('dataset = "iris"', 'dataset = { name = "iris", seed = 99999999999 }'),
    ),
    spec(
        "spec",
        "dataset-unknown-option",
        r"Unknown option `nmu_words`.*did you mean 'num_words'",
        replaced('dataset = "iris"', 'dataset = { name = "imdb", nmu_words = 5 }'),
    ),
    # --- spec: validation ----------------------------------------------------------------
    spec("spec", "validation-word", r'validation: expected "test"', top('validation = "train"')),
    spec(
        "spec",
        "validation-split-above-one",
        r"`validation\.split`: expected less than 1",
        top("validation = { split = 1.5 }"),
    ),
    spec(
        "spec",
        "validation-split-and-folds",
        r"give either `split` or `folds`",
        top("validation = { split = 0.2, folds = 3 }"),
    ),
    spec(
        "spec",
        "validation-seed-beyond-32-bits",
        r"`validation\.seed`: expected less than or equal to 4294967295",
        top("validation = { folds = 3, seed = 4294967296 }"),
    ),
    spec(
        "spec",
        "validation-repeats-without-folds",
        r"apply to K-fold only",
        top("validation = { repeats = 2 }"),
    ),
    spec(
        "spec",
        "validation-refit-without-folds",
        r"`repeats` and `refit` apply to K-fold only: add `folds`",
        top("validation = { split = 0.2, refit = true }"),
    ),
    spec(
        "spec",
        "validation-shuffle-without-split",
        r"`shuffle` applies to a split only \(K-fold always shuffles\)",
        top("validation = { folds = 3, shuffle = true }"),
    ),
    spec(
        "spec",
        "validation-seed-on-an-unshuffled-split",
        r"`seed` has no effect on a split that takes the last rows",
        top("validation = { split = 0.2, seed = 3 }"),
    ),
    spec(
        "spec",
        "validation-one-fold",
        r"`validation\.folds`: expected greater than or equal to 2",
        top("validation = { folds = 1 }"),
    ),
    spec(
        "spec",
        "too-many-folds",
        r"validation\.folds = 200 but only 10 training samples",
        top("train_size = 10\nvalidation = { folds = 200 }"),
    ),
    spec(
        "spec",
        "train-size-beyond-the-data",
        r"train_size = 100000 but dataset 'iris' has only",
        top("train_size = 100000"),
    ),
    spec(
        "spec", "label-noise-one", r"`label_noise`: expected less than 1", top("label_noise = 1.0")
    ),
    # --- spec: variants and model --------------------------------------------------------
    spec(
        "spec",
        "no-variants",
        r"variants: add at least one \[variants\.NAME\] table",
        top("variants = {}").replace("[variants.base]\n", ""),
    ),
    spec(
        "spec",
        "variant-not-a-table",
        r"`variants\.base`: expected a table",
        GOOD.replace("[variants.base]\n", "[variants]\nbase = 3\n"),
    ),
    spec(
        "spec",
        "model-not-a-table",
        r"`model`: expected a table",
        GOOD.replace("[model]\nhidden = [4]\n", 'model = "big"\n'),
    ),
    spec(
        "spec",
        "hidden-string",
        r"`model\.hidden`: expected a valid list",
        replaced("hidden = [4]", 'hidden = "4"'),
    ),
    spec(
        "spec",
        "hidden-zero",
        r"`model\.hidden\.0`: expected greater than or equal to 1",
        replaced("hidden = [4]", "hidden = [0]"),
    ),
    spec(
        "spec",
        "activation-misspelt",
        r"`model\.activation`.*did you mean 'relu'",
        with_model('activation = "relux"'),
    ),
    spec(
        "spec",
        "optimizer-misspelt",
        r"`model\.optimizer`.*did you mean 'adam'",
        with_model('optimizer = "adma"'),
    ),
    spec(
        "spec",
        "learning-rate-zero",
        r"`model\.learning_rate`: expected greater than 0",
        with_model("learning_rate = 0.0"),
    ),
    spec(
        "spec",
        "learning-rate-nan",
        r"`model\.learning_rate`: expected a finite number",
        with_model("learning_rate = nan"),
    ),
    spec(
        "spec",
        "dropout-one",
        r"`variants\.base\.dropout`: expected less than 1",
        with_variant("dropout = 1.0"),
    ),
    spec(
        "spec",
        "dropout-mode-misspelt",
        r"did you mean 'inverted'",
        with_variant('dropout_mode = "inverse"'),
    ),
    spec(
        "spec", "penalty-empty", r"a penalty needs `l1`, `l2` or both", with_variant("penalty = {}")
    ),
    spec(
        "spec",
        "sweep-empty",
        r"the sweep at variants\.base\.dropout is empty: give at least one value",
        with_variant("dropout = []"),
    ),
    spec(
        "spec",
        "sweep-of-a-string",
        r"Invalid value in the sweep at variants\.base\.penalty\.l2: expected numbers\. "
        r"Received: 'small'",
        with_variant('penalty = { l2 = [0.001, "small"] }'),
    ),
    spec(
        "spec",
        "sweep-of-a-list-key",
        r"hidden at variants\.base takes a list already, so a list of lists does not sweep it",
        with_variant("hidden = [[8], [16]]"),
    ),
    spec(
        "spec",
        "sweep-of-a-word",
        r"a list at variants\.base\.optimizer would sweep it, and only numeric keys sweep",
        with_variant('optimizer = ["adam", "sgd"]'),
    ),
    spec(
        "spec",
        "sweep-twice-in-one-variant",
        r"variants\.base sweeps dropout and learning_rate: one sweep per variant",
        with_variant("dropout = [0.1, 0.2]\nlearning_rate = [0.01, 0.1]"),
    ),
    spec(
        "spec",
        "sweep-name-taken",
        r"the sweep at variants\.base\.dropout names a variant 'base=0\.1', and the spec "
        r"already has one",
        with_variant('dropout = [0.1, 0.2]\n[variants."base=0.1"]'),
    ),
    spec(
        "spec",
        "sweep-in-the-model-table",
        r"a sweep at model\.dropout: sweeps go in a \[variants\.NAME\] table",
        with_model("dropout = [0.1, 0.2]"),
    ),
    spec(
        "spec",
        "penalty-unknown-norm",
        r"unknown key 'l3' at variants\.base\.penalty; did you mean 'l2'",
        with_variant("penalty = { l3 = 0.1 }"),
    ),
    spec(
        "spec",
        "penalty-negative",
        r"`variants\.base\.penalty\.l1`: expected greater than or equal",
        with_variant("penalty = { l1 = -0.1 }"),
    ),
    spec(
        "spec",
        "proximal-without-l1",
        r"`proximal_l1 = true` has no effect without an `l1`",
        with_variant("penalty = { l2 = 0.1, proximal_l1 = true }"),
    ),
    spec(
        "spec",
        "monitor-the-runs-will-not-have",
        r"`early_stopping\.monitor` at variants\.base: expected a History column of this "
        r"study's runs \(loss, data_loss, penalty, accuracy, val_loss, val_accuracy\)\. "
        r"Received: 'val_acc'; did you mean 'val_accuracy'\?",
        with_variant('early_stopping = { monitor = "val_acc" }'),
    ),
    spec(
        "spec",
        "monitor-of-another-task",
        r"Received: 'val_mae'",
        with_variant('early_stopping = { monitor = "val_mae" }'),
    ),
    spec(
        "spec",
        "early-stopping-mode-misspelt",
        r"did you mean 'max'",
        with_variant('early_stopping = { mode = "maxx" }'),
    ),
    spec(
        "spec",
        "early-stopping-patience-negative",
        r"patience`: expected greater than or equal",
        with_variant("early_stopping = { patience = -1 }"),
    ),
    spec(
        "spec",
        "early-stopping-not-a-table",
        r"`variants\.base\.early_stopping`: expected a table",
        with_variant("early_stopping = true"),
    ),
    spec(
        "spec",
        "lr-schedule-type-misspelt",
        r"`variants\.base\.lr_schedule\.type`: expected one of 'step', 'exponential', "
        r"'cosine'\. Received: 'cosin'; did you mean 'cosine'\?",
        with_variant('lr_schedule = { type = "cosin", decay_epochs = 5 }'),
    ),
    spec(
        "spec",
        "lr-schedule-step-without-decay-rate",
        r"variants\.base\.lr_schedule: lr_schedule type 'step' needs `decay_rate`",
        with_variant('lr_schedule = { type = "step", decay_epochs = 5 }'),
    ),
    spec(
        "spec",
        "lr-schedule-key-of-another-type",
        r"`alpha` does not apply to lr_schedule type 'exponential'",
        with_variant(
            'lr_schedule = { type = "exponential", decay_epochs = 5, decay_rate = 0.5, '
            "alpha = 0.1 }"
        ),
    ),
    spec(
        "spec",
        "lr-schedule-decay-rate-one",
        r"`decay_rate` of ExponentialDecay: a rate of 1 leaves the learning rate unchanged",
        with_variant('lr_schedule = { type = "exponential", decay_epochs = 5, decay_rate = 1.0 }'),
    ),
    spec(
        "spec",
        "lr-schedule-warmup-negative",
        r"`warmup_epochs` of CosineDecay: expected an int >= 0\. Received: warmup_epochs=-2",
        with_variant('lr_schedule = { type = "cosine", decay_epochs = 5, warmup_epochs = -2 }'),
    ),
    spec(
        "spec",
        "reduce-lr-factor-not-below-one",
        r"`factor` of ReduceLROnPlateau: expected a float in \(0, 1\)\. Received: factor=1\.5",
        with_variant("reduce_lr_on_plateau = { factor = 1.5 }"),
    ),
    spec(
        "spec",
        "reduce-lr-monitor-the-runs-will-not-have",
        r"`reduce_lr_on_plateau\.monitor` at variants\.base: expected a History column of "
        r"this study's runs .*Received: 'val_acc'; did you mean 'val_accuracy'\?",
        with_variant('reduce_lr_on_plateau = { monitor = "val_acc" }'),
    ),
    spec(
        "spec",
        "schedule-and-plateau-together",
        r"lr_schedule and reduce_lr_on_plateau at variants\.base would each overwrite",
        with_model('lr_schedule = { type = "step", decay_epochs = 2, decay_rate = 0.5 }').replace(
            "[variants.base]\n", "[variants.base]\nreduce_lr_on_plateau = { patience = 2 }\n"
        ),
    ),
    spec(
        "spec",
        "augment-on-tabular-data",
        r"augment at variants\.base needs image data",
        with_variant("augment = { rotation = 10.0 }"),
    ),
    spec(
        "spec",
        "augment-scale-one-number",
        r"`variants\.base\.augment\.scale`: expected at least 2",
        with_variant("augment = { scale = [1.0] }"),
    ),
    spec(
        "spec",
        "cutmix-on-tabular-data",
        r"cutmix at variants\.base needs image data; dataset 'iris' is tabular",
        with_variant("cutmix = { alpha = 1.0 }"),
    ),
    spec(
        "spec",
        "mixup-and-cutmix-together",
        r"mixup and cutmix at variants\.base: a run mixes one way",
        with_variant("mixup = { alpha = 0.2 }\ncutmix = { alpha = 1.0 }"),
    ),
    spec(
        "spec",
        "mixup-alpha-zero",
        r"`variants\.base\.mixup\.alpha`: .*greater than 0",
        with_variant("mixup = { alpha = 0.0 }"),
    ),
    spec(
        "spec",
        "label-smoothing-above-one",
        r"`variants\.base\.label_smoothing`: .*less than or equal to 1",
        with_variant("label_smoothing = 1.5"),
    ),
    spec(
        "spec",
        "label-smoothing-on-regression",
        r"label_smoothing at variants\.base applies to class labels; dataset 'diabetes'",
        replaced('dataset = "iris"', 'dataset = "diabetes"').replace(
            "[variants.base]\n", "[variants.base]\nlabel_smoothing = 0.1\n"
        ),
    ),
    spec(
        "spec",
        "ema-momentum-one",
        r"`variants\.base\.ema\.momentum`: .*less than 1",
        with_variant("ema = { momentum = 1.0 }"),
    ),
    spec(
        "spec",
        "ema-and-swa-together",
        r"ema and swa at variants\.base: a run ends with one average",
        with_variant("ema = { momentum = 0.9 }\nswa = { start_epoch = 1 }"),
    ),
    spec(
        "spec",
        "swa-after-the-last-epoch",
        r"swa\.start_epoch = 5 at variants\.base is after the last epoch \(1\)",
        with_variant("swa = { start_epoch = 5 }"),
    ),
    spec(
        "spec",
        "swa-with-restore-best",
        r"swa at variants\.base with early_stopping\.restore_best: .*would do nothing",
        with_variant("swa = { start_epoch = 1 }\nearly_stopping = { restore_best = true }"),
    ),
    spec(
        "spec",
        "weight-decay-without-adamw",
        r"weight_decay at variants\.base .*no effect",
        with_variant("weight_decay = 0.01"),
    ),
    spec(
        "spec",
        "momentum-with-adam",
        r"momentum at variants\.base applies to sgd and rmsprop",
        with_variant("momentum = 0.9"),
    ),
    spec(
        "spec",
        "rho-with-adam",
        r"rho at variants\.base applies to rmsprop only, not 'adam'",
        with_variant("rho = 0.8"),
    ),
    spec(
        "spec",
        "nesterov-without-momentum",
        r"variants\.base: Invalid value for `nesterov`: Nesterov momentum has no effect",
        with_variant('optimizer = "sgd"\nnesterov = true'),
    ),
    spec(
        "spec",
        "two-kinds-of-clipping",
        r"give at most one of clipnorm, clipvalue and global_clipnorm",
        with_variant("clipnorm = 1.0\nglobal_clipnorm = 2.0"),
    ),
    spec(
        "spec",
        "clipnorm-zero",
        r"`variants\.base\.clipnorm`: expected greater than 0",
        with_variant("clipnorm = 0.0"),
    ),
    spec(
        "spec",
        "weight-decay-exclude-misspelt",
        r"`variants\.base\.weight_decay_exclude`: expected one of 'bias', 'batchnorm'",
        with_variant('optimizer = "adamw"\nweight_decay_exclude = ["biases"]'),
    ),
    spec(
        "spec",
        "weight-decay-exclude-batchnorm-without-batchnorm",
        r"names 'batchnorm' but the model has no batch normalization",
        with_variant('optimizer = "adamw"\nweight_decay_exclude = ["batchnorm"]'),
    ),
    spec(
        "spec",
        "variant-epochs-float",
        r"`variants\.base\.epochs`: expected a valid integer",
        with_variant("epochs = 2.5"),
    ),
    spec(
        "spec",
        "label-noise-on-regression",
        r"`label_noise`: it applies to datasets with integer",
        replaced('dataset = "iris"', 'dataset = "diabetes"\nlabel_noise = 0.2'),
    ),
    spec(
        "spec",
        "a-model-larger-than-the-machine",
        r"one member of variants\.base needs about .* GiB to train .*more than this machine's",
        replaced("hidden = [4]", "hidden = [400000, 400000]"),
    ),
    spec("spec", "not-utf8", r"bad\.toml: cannot read the spec", b"name = '\xff\xfe'\n"),
    Case(
        "spec",
        "spec-missing",
        r"nothing\.toml: no such file",
        argv=("run", "nothing.toml", "--store", "s.db"),
    ),
    Case(
        "spec",
        "spec-is-a-folder",
        r"folder\.toml: cannot read the spec",
        argv=("run", "folder.toml", "--store", "s.db"),
        files={"folder.toml/x": "x"},
    ),
    # --- cli: options and output paths -----------------------------------------------------
    spec(
        "cli",
        "output-is-a-folder",
        r"`-o`: out is a folder; give a file",
        GOOD,
        argv=(*RUN, "-o", "out"),
        files={"out/keep": "x"},
    ),
    spec(
        "cli", "output-empty", r"`-o`: expected a path\. Received: ''", GOOD, argv=(*RUN, "-o", "")
    ),
    spec(
        "cli",
        "output-under-a-file",
        r"`-o`: cannot write blocker/r\.html, because blocker is a file",
        GOOD,
        argv=(*RUN, "-o", "blocker/r.html"),
        files={"blocker": "x"},
    ),
    spec(
        "cli",
        "tensorboard-into-a-file",
        r"`--tensorboard`: blocker is a file, not a folder",
        GOOD,
        argv=(*RUN, "--tensorboard", "blocker"),
        files={"blocker": "x"},
    ),
    spec(
        "cli",
        "tensorboard-under-a-file",
        r"`--tensorboard`: cannot write blocker/logs",
        GOOD,
        argv=(*RUN, "--tensorboard", "blocker/logs"),
        files={"blocker": "x"},
    ),
    spec(
        "cli",
        "trust-data-not-a-file",
        r"`--trust-data`: 'nowhere\.npz' is not a file",
        GOOD,
        argv=(*RUN, "--trust-data", "nowhere.npz"),
    ),
    spec(
        "cli",
        "device-unknown",
        r"argument --device: invalid choice: 'gpu'",
        GOOD,
        argv=(*RUN, "--device", "gpu"),
    ),
    spec(
        "cli",
        "option-misspelt",
        r"unrecognized arguments: --devcie",
        GOOD,
        argv=(*RUN, "--devcie", "cpu"),
    ),
    Case("cli", "run-without-spec", r"the following arguments are required: spec", argv=("run",)),
    Case("cli", "command-misspelt", r"invalid choice: 'rnu'", argv=("rnu",)),
    Case(
        "cli",
        "report-of-an-unknown-study",
        r"Unknown study 'dog' in store 's\.db'; it has: 'cat'",
        argv=("report", "dog", "--store", "s.db"),
    ),
    Case(
        "cli",
        "runs-of-an-unknown-study",
        r"Unknown study 'dog' in the store s\.db: it holds 'cat'",
        argv=("runs", "dog", "--store", "s.db"),
    ),
    Case(
        "cli",
        "report-into-a-folder",
        r"`-o`: out is a folder",
        files={"out/keep": "x"},
        argv=("report", "cat", "--store", "s.db", "-o", "out"),
    ),
    Case(
        "cli",
        "report-output-empty",
        r"`-o`: expected a path",
        argv=("report", "cat", "--store", "s.db", "-o", ""),
    ),
    # --- store -------------------------------------------------------------------------------
    spec(
        "store",
        "store-is-a-folder",
        r"The store path box is a folder: give a file in it",
        GOOD,
        argv=("run", "bad.toml", "--store", "box"),
        files={"box/keep": "x"},
    ),
    spec(
        "store",
        "store-under-a-file",
        r"Cannot create the store blocker/s\.db: blocker is a file",
        GOOD,
        argv=("run", "bad.toml", "--store", "blocker/s.db"),
        files={"blocker": "x"},
    ),
    spec(
        "store",
        "store-empty-path",
        r"`--store`: expected a path",
        GOOD,
        argv=("run", "bad.toml", "--store", ""),
    ),
    spec(
        "store",
        "another-programs-database",
        r"other\.db is another program's SQLite database \(tables notes\), not a reglab store",
        GOOD,
        argv=("run", "bad.toml", "--store", "other.db"),
        files={"other.db": sqlite_file(["CREATE TABLE notes (x)"])},
    ),
    spec(
        "store",
        "version-but-no-tables",
        r"The store v\.db says schema version 1 but lacks the tables studies, runs",
        GOOD,
        argv=("run", "bad.toml", "--store", "v.db"),
        files={"v.db": sqlite_file(["PRAGMA user_version = 1"])},
    ),
    spec(
        "store",
        "newer-schema",
        r"schema version 99, newer than this reglab understands",
        GOOD,
        argv=("run", "bad.toml", "--store", "n.db"),
        files={"n.db": sqlite_file(["CREATE TABLE future (x)", "PRAGMA user_version = 99"])},
    ),
    spec(
        "store",
        "not-an-sqlite-file",
        r"Cannot open the store notes\.db: file is not a database",
        GOOD,
        argv=("run", "bad.toml", "--store", "notes.db"),
        files={"notes.db": "notes " * 200},
    ),
    Case(
        "store",
        "report-from-a-damaged-spec-cell",
        r"The store s\.db is damaged: the stored JSON",
        argv=("report", "cat", "--store", "s.db"),
        files={"s.db": damaged_spec_cell},
    ),
    Case(
        "store",
        "runs-from-a-damaged-spec-cell",
        r"The store s\.db is damaged",
        argv=("runs", "--store", "s.db"),
        files={"s.db": damaged_spec_cell},
    ),
    spec(
        "store",
        "run-into-a-damaged-spec-cell",
        r"The store s\.db is damaged",
        GOOD,
        files={"s.db": damaged_spec_cell},
    ),
    Case(
        "store",
        "runs-of-a-missing-store",
        r"No store at none\.db: run a study first",
        argv=("runs", "--store", "none.db"),
    ),
    Case(
        "store",
        "report-of-a-missing-store",
        r"No store at 'none\.db'",
        argv=("report", "cat", "--store", "none.db"),
    ),
    spec(
        "store",
        "same-name-another-spec",
        r"already holds a study named 'cat' with a different spec and finished runs",
        replaced("epochs = 1", "epochs = 2"),
    ),
    spec(
        "store",
        "locked-by-another-program",
        r"The store s\.db is locked by another program \(waited 0\.2 s\)",
        GOOD,
        files={"s.db": "locked"},
        env={"REGLAB_LOCK_WAIT": "0.2"},
    ),
    # --- data files ----------------------------------------------------------------------------
    spec(
        "data",
        "npz-that-is-not-a-zip",
        r"mnist\.npz is not a readable \.npz archive",
        MNIST,
        argv=(*RUN, *TRUST_MNIST),
        files={"mnist": data_file("mnist.npz", b"<html>404</html>")},
    ),
    spec(
        "data",
        "npz-without-its-arrays",
        r"mnist\.npz lacks arrays 'x_train', 'y_train'",
        MNIST,
        argv=(*RUN, *TRUST_MNIST),
        files={"mnist": npz("mnist.npz", x_test=np.zeros(2))},
    ),
    spec(
        "data",
        "npz-with-another-checksum",
        r"Checksum mismatch for .*mnist\.npz.*--trust-data FILE",
        MNIST,
        files={"mnist": npz("mnist.npz", x_train=np.zeros(2))},
    ),
    spec(
        "data",
        "planted-pickle-untrusted",
        r"Checksum mismatch for .*imdb\.npz",
        IMDB,
        files={"imdb": planted_imdb},
    ),
    spec(
        "data",
        "planted-pickle-trusted-by-the-flag",
        r"refused to unpickle array 'x_train' \(refused to load `posix\.system`\)",
        IMDB,
        argv=(*RUN, *TRUST_IMDB),
        files={"imdb": planted_imdb},
    ),
    spec(
        "data",
        "pickle-of-strings",
        r"array 'x_train' holds a str; expected numbers",
        IMDB,
        argv=(*RUN, *TRUST_IMDB),
        files={
            "imdb": npz(
                "imdb.npz",
                x_train=objects(["a review"]),
                y_train=np.array([1]),
                x_test=objects([[1]]),
                y_test=np.array([0]),
            )
        },
    ),
    spec(
        "data",
        "idx-with-a-wrong-type-code",
        r"t10k-images-idx3-ubyte is mislabelled",
        replaced('dataset = "iris"', 'dataset = "fashion_mnist"'),
        argv=(*RUN, *TRUST_FASHION),
        files={"idx": "idx"},
    ),
    spec(
        "data", "nothing-found-and-offline", r"Cannot download imdb\.npz for dataset .imdb.", IMDB
    ),
    spec(
        "data",
        "boston-csv-without-its-columns",
        r"lacks Boston housing columns",
        replaced('dataset = "iris"', 'dataset = "boston_housing"'),
        files={"csv": data_file("BostonHousing.csv", b"a,b\n1,2\n")},
    ),
]

if PROC.is_dir():
    CASES += [
        spec(
            "cli",
            "output-in-an-unwritable-place",
            r"`-o`: cannot write /proc/reglab-none/r\.html",
            GOOD,
            argv=(*RUN, "-o", "/proc/reglab-none/r.html"),
        ),
        spec(
            "store",
            "store-in-an-unwritable-place",
            r"store /proc/reglab-none/s\.db",
            GOOD,
            argv=("run", "bad.toml", "--store", "/proc/reglab-none/s.db"),
        ),
    ]


def _write_idx_set(folder: Path) -> None:
    """Fashion-MNIST IDX files whose test images have a wrong magic number."""
    target = folder / "data" / "fashion_mnist"
    target.mkdir(parents=True)
    header = {"images": b"\x00\x00\x08\x03" + (1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2}
    for split in ("train", "t10k"):
        (target / f"{split}-images-idx3-ubyte").write_bytes(header["images"] + bytes(784))
        (target / f"{split}-labels-idx1-ubyte").write_bytes(
            b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x00"
        )
    (target / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x0c\x07" + bytes(100))


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> Path:
    """A store holding the finished study 'cat' (one run), checkpointed into one file."""
    from reglab.study import parse_spec, run_study
    from reglab.study.spec import tomllib

    folder = tmp_path_factory.mktemp("good")
    run_study(parse_spec(tomllib.loads(GOOD)), store=folder / "s.db", progress=False)
    db = sqlite3.connect(folder / "s.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder / "s.db"


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """Data found only in the test's `data` folder, and no network."""
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(finder, "OS_DATASET_ROOTS", (tmp_path / "os",))

    def offline(url, *args, **kwargs):
        raise requests.exceptions.ConnectionError(f"Failed to resolve host for {url}")

    monkeypatch.setattr(pooch, "retrieve", offline)


def _plant(case: Case, folder: Path) -> None:
    for name, content in case.files.items():
        if name == "idx":
            _write_idx_set(folder)
        elif callable(content):
            content(folder, name)
        elif content == "locked":
            continue
        else:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                (folder / name).write_text(content)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every store file's bytes (the WAL index `-shm` is SQLite's scratch space, left out)."""
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and p.suffix in (".db", ".db-wal") and p.stat().st_size
    }


def _runs(store: Path) -> list:
    db = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("SELECT * FROM runs ORDER BY key").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}-{c.name}" for c in CASES])
def test_bad_input_is_one_line_exit_2_and_loses_nothing(
    case, good_store, tmp_path, monkeypatch, capsys
):
    shutil.copy(good_store, tmp_path / "s.db")
    _plant(case, tmp_path)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    before, runs_before = _snapshot(tmp_path), _runs(tmp_path / "s.db")
    lock = None
    if case.files.get("s.db") == "locked":
        lock = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
    try:
        try:
            status = main(list(case.argv))
        except SystemExit as stop:  # argparse's complaints
            status = stop.code
    finally:
        if lock is not None:
            lock.execute("ROLLBACK")
            lock.close()
    _, err = capsys.readouterr()
    assert status == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("reglab: error: ") and "Traceback" not in err
    assert re.search(case.message, err), err
    assert _snapshot(tmp_path) == before
    assert _runs(tmp_path / "s.db") == runs_before
    assert not (tmp_path / "pwned").exists()


def test_the_catalogue_is_large():
    kinds = Counter(case.kind for case in CASES)
    assert sum(kinds.values()) >= 60 and set(kinds) == {"spec", "cli", "store", "data"}, kinds
    assert len({(c.kind, c.name) for c in CASES}) == len(CASES)
