"""load_dataset: names and options checked, each source read into the same Dataset shape."""

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split

from reglab.data import KNOWN_DATASETS, finder, load_dataset
from reglab.errors import DataError, ReglabError, ReglabTypeError

SKLEARN_SETS = ["digits", "breast_cancer", "diabetes", "wine", "iris"]
BOSTON = [
    "crim",
    "zn",
    "indus",
    "chas",
    "nox",
    "rm",
    "age",
    "dis",
    "rad",
    "tax",
    "ptratio",
    "b",
    "lstat",
    "medv",
]


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(
        ReglabError,
        match=r"Unknown dataset 'fashion_mnsit': expected one of "
        r"mnist, fashion_mnist, .*did you mean 'fashion_mnist'\?",
    ):
        load_dataset("fashion_mnsit")


def test_dataset_names_accept_dashes_and_capitals():
    assert load_dataset("Breast-Cancer").name == "breast_cancer"


def test_every_unknown_option_is_reported_with_the_closest_valid_one():
    with pytest.raises(
        ReglabError,
        match=r"Unknown option `nmu_words` for dataset 'imdb' \(valid "
        r"options: num_words, .*\). Received: nmu_words=5; did you mean 'num_words'"
        r"\?; Unknown option `maxlne`.*did you mean 'maxlen'\?",
    ):
        load_dataset("imdb", nmu_words=5, maxlne=10)


def test_option_the_dataset_does_not_have_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"Unknown option `num_words` for dataset 'iris' \(valid "
        r"options: test_split, seed\)",
    ):
        load_dataset("iris", num_words=100)


@pytest.mark.parametrize(
    ("name", "options", "error", "message"),
    [
        (
            "imdb",
            {"num_words": 0},
            ReglabError,
            r"Invalid value for `num_words` of load_dataset\('imdb'\): expected an int >= 1. "
            r"Received: num_words=0.",
        ),
        ("imdb", {"skip_top": 1.5}, ReglabTypeError, r"`skip_top`.*expected an int >= 0"),
        (
            "reuters",
            {"test_split": 1.0},
            ReglabError,
            r"`test_split`.*expected a float in \[0, 1\). Received: test_split=1.0.",
        ),
        ("iris", {"test_split": 0.0}, ReglabError, r"expected a float in \(0, 1\)"),
        (
            "mnist",
            {"trusted": "yes"},
            ReglabTypeError,
            r"`trusted` of load_dataset: expected True, False, or a list of the data files "
            r"you vouch for. Received: trusted='yes'",
        ),
    ],
)
def test_bad_option_values_are_refused(name, options, error, message):
    with pytest.raises(error, match=message):
        load_dataset(name, **options)


@pytest.mark.parametrize("name", SKLEARN_SETS)
def test_sklearn_sets_match_the_catalog_sizes_and_are_embedded(name):
    data = load_dataset(name)
    info = KNOWN_DATASETS[name]
    assert (len(data.x_train), len(data.x_test)) == (info.n_train, info.n_test)
    assert data.x_train.shape[1:] == info.input_shape
    assert data.source == "scikit-learn" and data.input_kind == "tabular"


@pytest.mark.parametrize("name", SKLEARN_SETS)
def test_sklearn_split_is_scikit_learns_seeded_split(name):
    bunch = getattr(datasets, f"load_{name}")()
    stratify = None if name == "diabetes" else bunch.target
    _, x_test, _, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.25, random_state=0, stratify=stratify
    )
    data = load_dataset(name)
    np.testing.assert_allclose(data.x_test, x_test, rtol=1e-6)
    np.testing.assert_allclose(data.y_test, y_test, rtol=1e-6)


def test_classification_split_is_stratified():
    data = load_dataset("wine")
    train_share = np.bincount(data.y_train) / len(data.y_train)
    test_share = np.bincount(data.y_test) / len(data.y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.03)


@pytest.mark.parametrize(
    ("name", "kind", "outputs"),
    [
        ("digits", "multiclass", 10),
        ("breast_cancer", "binary", 1),
        ("diabetes", "regression", 1),
        ("wine", "multiclass", 3),
        ("iris", "multiclass", 3),
    ],
)
def test_sklearn_tasks_are_inferred(name, kind, outputs):
    task = load_dataset(name).task
    assert (task.kind, task.n_outputs) == (kind, outputs)


def test_mnist_npz_in_the_keras_cache_is_read(files, isolated, monkeypatch):
    path = isolated["home"] / ".keras/datasets/mnist.npz"
    path.parent.mkdir(parents=True)
    x = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    np.savez(
        path,
        x_train=x,
        y_train=np.array([0, 9, 4], np.uint8),
        x_test=x[:1],
        y_test=np.array([7], np.uint8),
    )
    files.pin_hash(monkeypatch, "mnist", "mnist.npz", path)
    data = load_dataset("mnist")
    np.testing.assert_array_equal(data.x_train, x)
    assert data.input_kind == "images" and data.task.n_outputs == 10
    assert data.source == str(path.parent)


def _keras_boston_split(x, y, test_split=0.2, seed=113):
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return x[:n], y[:n], x[n:], y[n:]


@pytest.fixture
def boston_table():
    rng = np.random.default_rng(1)
    return rng.uniform(0, 50, size=(23, 14)).round(3)


def test_boston_npz_uses_keras_split_semantics(files, isolated, monkeypatch, boston_table):
    path = isolated["data"] / "boston_housing.npz"
    np.savez(path, x=boston_table[:, :13], y=boston_table[:, 13])
    files.pin_hash(monkeypatch, "boston_housing", "boston_housing.npz", path)
    expected = _keras_boston_split(boston_table[:, :13], boston_table[:, 13], 0.3, 5)
    data = load_dataset("boston_housing", test_split=0.3, seed=5)
    for got, want in zip(
        (data.x_train, data.y_train, data.x_test, data.y_test), expected, strict=True
    ):
        np.testing.assert_array_equal(got, want)
    assert data.task.kind == "regression"


@pytest.mark.parametrize("file_name", ["BostonHousing.csv", "housing.csv"])
def test_boston_csv_columns_in_any_order_and_case_give_keras_features(
    isolated, boston_table, file_name
):
    order = [13, *range(12, -1, -1)]  # medv first, features reversed
    header = ",".join(BOSTON[i].upper() for i in order)
    lines = [",".join(str(v) for v in row[order]) for row in boston_table]
    (isolated["data"] / file_name).write_text("\n".join([header, *lines]) + "\n\n")
    expected = _keras_boston_split(boston_table[:, :13], boston_table[:, 13])
    data = load_dataset("boston_housing")
    np.testing.assert_allclose(data.x_train, expected[0])
    np.testing.assert_allclose(data.y_test, expected[3])


def test_boston_csv_with_missing_columns_names_them(isolated):
    (isolated["data"] / "housing.csv").write_text("crim,zn,indus,rm,medv\n1,2,3,4,5\n")
    with pytest.raises(
        DataError,
        match=r"housing.csv lacks Boston housing columns chas, nox, age, "
        r"dis, rad, tax, ptratio, b, lstat: expected crim, .* found crim, zn, "
        r"indus, rm, medv",
    ):
        load_dataset("boston_housing")


def test_boston_csv_with_a_non_number_names_the_line(isolated):
    rows = [",".join(BOSTON), ",".join(["1"] * 14), ",".join(["1"] * 13 + ["NA?"])]
    (isolated["data"] / "housing.csv").write_text("\n".join(rows))
    with pytest.raises(DataError, match=r"housing.csv, line 3: expected 14 numbers"):
        load_dataset("boston_housing")


def test_real_fashion_mnist_when_installed(monkeypatch, files):
    monkeypatch.setattr(finder, "OS_DATASET_ROOTS", files.real_os_roots)
    if finder.locate_layout(KNOWN_DATASETS["fashion_mnist"]) is None:
        pytest.skip("Fashion-MNIST is not installed (Debian: apt install dataset-fashion-mnist)")
    data = load_dataset("fashion_mnist")
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    assert set(np.unique(data.y_train)) == set(range(10))
    assert np.all(np.bincount(data.y_test) == 1000)  # Fashion-MNIST's test set is balanced
    assert data.task.kind == "multiclass" and data.task.n_outputs == 10


def test_idx_images_and_labels_of_different_counts_are_refused(files, isolated):
    folder = isolated["os"] / "fashion-mnist"
    files.write_idx_set(folder)
    files.write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8), gz=True)
    with pytest.raises(
        DataError,
        match=r"train-images-idx3-ubyte.gz holds 6 images but .*"
        r"train-labels-idx1-ubyte.gz holds 5 labels",
    ):
        load_dataset("fashion_mnist", trusted=True)


def test_idx_image_file_with_labels_in_it_is_refused(files, isolated):
    folder = isolated["data"] / "mnist"
    files.write_idx_set(folder, gz=False)
    files.write_idx(folder / "t10k-images-idx3-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(
        DataError,
        match=r"t10k-images-idx3-ubyte has the wrong number of "
        r"dimensions: expected 3, found 1",
    ):
        load_dataset("mnist", trusted=True)
