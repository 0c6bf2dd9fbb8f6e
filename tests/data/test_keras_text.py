"""IMDB and Reuters options give exactly what Keras' load_data gives on the same files.

The reference below restates Keras' ``imdb.load_data`` / ``reuters.load_data`` line by line
(keras/src/datasets/imdb.py, reuters.py); the fixtures are written in Keras' layout.
"""

import numpy as np
import pytest

from reglab.data import get_word_index, load_dataset
from reglab.errors import DataError, ReglabError

TRAIN = [[1, 2, 3], [4, 5, 6, 7, 8], [2, 2], [9, 1, 10, 11], [3]]
TEST = [[5, 6], [12, 1, 1, 2, 3, 4], [7]]
REUTERS = TRAIN + TEST + [[13, 2], [4, 4, 4]]


def keras_imdb(
    xtr,
    ytr,
    xte,
    yte,
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xtr))
    rng.shuffle(indices)
    xtr, ytr = xtr[indices], ytr[indices]
    indices = np.arange(len(xte))
    rng.shuffle(indices)
    xte, yte = xte[indices], yte[indices]
    if start_char is not None:
        xtr = [[start_char] + [w + index_from for w in x] for x in xtr]
        xte = [[start_char] + [w + index_from for w in x] for x in xte]
    elif index_from:
        xtr = [[w + index_from for w in x] for x in xtr]
        xte = [[w + index_from for w in x] for x in xte]
    else:
        xtr, xte = [list(x) for x in xtr], [list(x) for x in xte]
    if maxlen:
        keep = [i for i, x in enumerate(xtr) if len(x) < maxlen]
        xtr, ytr = [xtr[i] for i in keep], ytr[keep]
        keep = [i for i, x in enumerate(xte) if len(x) < maxlen]
        xte, yte = [xte[i] for i in keep], yte[keep]
    xs, labels = xtr + xte, np.concatenate([ytr, yte])
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if (skip_top <= w < num_words) else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(xtr)
    return xs[:idx], labels[:idx], xs[idx:], labels[idx:]


def keras_reuters(
    x,
    y,
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    xs, labels = x[indices], y[indices]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in s] for s in xs]
    elif index_from:
        xs = [[w + index_from for w in s] for s in xs]
    else:
        xs = [list(s) for s in xs]
    if maxlen:
        keep = [i for i, s in enumerate(xs) if len(s) < maxlen]
        xs, labels = [xs[i] for i in keep], labels[keep]
    if not num_words:
        num_words = max(max(s) for s in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in s] for s in xs]
    else:
        xs = [[w for w in s if skip_top <= w < num_words] for s in xs]
    idx = int(len(xs) * (1 - test_split))
    return xs[:idx], labels[:idx], xs[idx:], labels[idx:]


@pytest.fixture
def imdb_arrays(files, isolated, monkeypatch):
    arrays = {
        "x_train": files.objects(TRAIN),
        "y_train": np.array([0, 1, 1, 0, 1]),
        "x_test": files.objects(TEST),
        "y_test": np.array([1, 0, 0]),
    }
    path = isolated["data"] / "imdb.npz"
    np.savez(path, **arrays)
    files.pin_hash(monkeypatch, "imdb", "imdb.npz", path)
    return arrays


@pytest.fixture
def reuters_arrays(files, isolated, monkeypatch):
    arrays = {"x": files.objects(REUTERS), "y": np.array([0, 3, 2, 1, 4, 0, 3, 2, 1, 4])}
    path = isolated["data"] / "reuters" / "reuters.npz"
    path.parent.mkdir()
    np.savez(path, **arrays)
    files.pin_hash(monkeypatch, "reuters", "reuters.npz", path)
    return arrays


OPTIONS = [
    {},
    {"seed": 7},
    {"num_words": 8},
    {"num_words": 9, "skip_top": 5},
    {"maxlen": 5},
    {"start_char": None},
    {"start_char": None, "index_from": 0},
    {"oov_char": None, "num_words": 8},
    {"index_from": 10, "start_char": 4, "oov_char": 0, "num_words": 14},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_imdb_matches_keras(imdb_arrays, options):
    expected = keras_imdb(*imdb_arrays.values(), **options)
    data = load_dataset("imdb", **options)
    assert [list(x) for x in data.x_train] == expected[0]
    assert [list(x) for x in data.x_test] == expected[2]
    np.testing.assert_array_equal(data.y_train, expected[1])
    np.testing.assert_array_equal(data.y_test, expected[3])


@pytest.mark.parametrize(
    "options",
    [*OPTIONS, {"test_split": 0.5}, {"test_split": 0.0}],
    ids=lambda o: ",".join(o) or "defaults",
)
def test_reuters_matches_keras(reuters_arrays, options):
    expected = keras_reuters(reuters_arrays["x"], reuters_arrays["y"], **options)
    data = load_dataset("reuters", **options)
    assert [list(x) for x in data.x_train] == expected[0]
    assert [list(x) for x in data.x_test] == expected[2]
    np.testing.assert_array_equal(data.y_train, expected[1])
    np.testing.assert_array_equal(data.y_test, expected[3])


def test_imdb_sequences_are_1d_object_arrays_of_int_lists(imdb_arrays):
    data = load_dataset("imdb")
    assert data.x_train.dtype == object and data.x_train.ndim == 1
    assert all(isinstance(x, list) and all(isinstance(w, int) for w in x) for x in data.x_train)


def test_hand_computed_first_imdb_review_with_default_options(imdb_arrays):
    # RandomState(113) puts training review 1 ([4, 5, 6, 7, 8]) first; with start_char 1 and
    # index_from 3 it reads [1, 7, 8, 9, 10, 11]; num_words = max id 15 keeps them all.
    order = np.arange(5)
    np.random.RandomState(113).shuffle(order)
    assert order[0] == 1
    assert list(load_dataset("imdb").x_train[0]) == [1, 7, 8, 9, 10, 11]


def test_num_words_covers_every_id_for_multi_hot(imdb_arrays):
    data = load_dataset("imdb", num_words=8)
    largest = max(max(x) for part in (data.x_train, data.x_test) for x in part)
    assert data.num_words == 8 and largest < 8
    assert data.input_kind == "sequences" and data.task.kind == "binary"


def test_maxlen_that_keeps_nothing_is_an_error(imdb_arrays):
    with pytest.raises(DataError, match=r"No training sequence is shorter than maxlen=2"):
        load_dataset("imdb", maxlen=2)


def test_trusted_file_loads_without_a_checksum(files, isolated):
    np.savez(
        isolated["data"] / "imdb.npz",
        x_train=files.objects(TRAIN),
        y_train=np.ones(5, int),
        x_test=files.objects(TEST),
        y_test=np.zeros(3, int),
    )
    assert len(load_dataset("imdb", trusted=True).x_train) == 5


def test_word_index_is_read_from_the_json_file(files, isolated, monkeypatch):
    path = isolated["data"] / "imdb_word_index.json"
    path.write_text('{"the": 1, "and": 2}')
    with pytest.raises(
        DataError,
        match=r"Checksum mismatch for .*imdb_word_index.json: expected "
        r"MD5 bfafd718b763782e994055a2d397834f",
    ):
        get_word_index("imdb")
    assert get_word_index("imdb", trusted=True) == {"the": 1, "and": 2}


def test_word_index_of_another_dataset_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"No word index for dataset 'reuter'.*did you mean "
        r"'reuters'\?",
    ):
        get_word_index("reuter")


def test_malformed_word_index_is_refused(isolated):
    (isolated["data"] / "reuters_word_index.json").write_text("[1, 2]")
    with pytest.raises(DataError, match=r"expected a JSON object mapping words to integer"):
        get_word_index("reuters", trusted=True)
