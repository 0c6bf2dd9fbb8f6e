"""What reglab knows about each dataset without opening a file: files, checksums, sizes.

Checksums are the published ones: SHA-256 from Keras' ``keras/src/datasets/*.py``
(``file_hash=``) for the files Keras serves, MD5 for the two word-index JSONs (Keras
publishes only MD5 for them). IDX files are also pinned by the SHA-256 of their
*decompressed* bytes: distributions re-gzip them (Debian's ``dataset-fashion-mnist``
does), which changes the ``.gz`` bytes but not the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "KERAS_ORIGIN",
    "KNOWN_DATASETS",
    "WORD_INDEX_FILES",
    "DataFile",
    "DatasetInfo",
    "Layout",
]

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class DataFile:
    """One published file.

    ``name`` is the file name; an IDX file is named without ``.gz`` and is found either
    gzipped or raw. ``sha256`` / ``md5`` pin the published bytes (used for downloads and
    for non-IDX local files), ``content_sha256`` the decompressed IDX bytes.
    """

    name: str
    sha256: str | None = None
    md5: str | None = None
    content_sha256: str | None = None
    idx: bool = False
    keras_subdir: str = ""  # where Keras' get_file puts it under ~/.keras/datasets

    @property
    def download_name(self) -> str:
        return self.name + ".gz" if self.idx else self.name

    @property
    def url(self) -> str:
        return KERAS_ORIGIN + self.download_name

    @property
    def known_hash(self) -> str | None:
        """The hash of the downloadable file in pooch's ``"alg:hex"`` form."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        return f"md5:{self.md5}" if self.md5 else None


@dataclass(frozen=True)
class Layout:
    """One way a dataset can be stored: a format and the files it needs (all of them)."""

    format: str  # "idx", "npz" or "csv"
    files: tuple[DataFile, ...]
    downloadable: bool = False


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset, enough to describe it when its files are missing."""

    name: str
    description: str
    input_kind: str  # "images", "tabular", "sequences" or "signals"
    task: str  # shown in `reglab datasets`; the real Task is inferred from the labels
    n_train: int
    n_test: int
    input_shape: tuple[int, ...] | None  # None: variable-length sequences
    layouts: tuple[Layout, ...] = ()
    options: dict[str, object] = field(default_factory=dict)  # accepted options, defaults
    package: str = "scikit-learn"  # what makes an embedded set (it has no layouts)

    @property
    def embedded(self) -> bool:
        """True for the sets a package makes (scikit-learn's, MNIST-1D): no file needed."""
        return not self.layouts


def _idx(name: str, content_sha256: str, gz_sha256: str | None = None, subdir: str = ""):
    return DataFile(
        name, sha256=gz_sha256, content_sha256=content_sha256, idx=True, keras_subdir=subdir
    )


# SHA-256 of the decompressed IDX files (MNIST from LeCun's archives, Fashion-MNIST from
# Zalando's, whose .gz MD5s the Fashion-MNIST README publishes) and of Keras' .gz copies.
_MNIST_RAW = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_RAW = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
_FASHION_KERAS_GZ = {
    "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
_KERAS_SHA256 = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    "boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
}

_MNIST_IDX = Layout("idx", tuple(_idx(name, raw) for name, raw in _MNIST_RAW.items()))
_FASHION_IDX = Layout(
    "idx",
    tuple(
        _idx(name, raw, _FASHION_KERAS_GZ[name], "fashion-mnist")
        for name, raw in _FASHION_RAW.items()
    ),
    downloadable=True,
)


def _keras_npz(name: str) -> Layout:
    return Layout("npz", (DataFile(name, sha256=_KERAS_SHA256[name]),), downloadable=True)


WORD_INDEX_FILES = {
    "imdb": DataFile("imdb_word_index.json", md5="bfafd718b763782e994055a2d397834f"),
    "reuters": DataFile("reuters_word_index.json", md5="4d44cc38712099c9e383dc6e5f11a921"),
}

# Keras' defaults, so that reglab's numbers match a Keras tutorial's.
_TEXT_OPTIONS = {
    "num_words": None,
    "skip_top": 0,
    "maxlen": None,
    "seed": 113,
    "start_char": 1,
    "oov_char": 2,
    "index_from": 3,
}
_SKLEARN_OPTIONS = {"test_split": 0.25, "seed": 0}


def _sklearn(name: str, description: str, task: str, n: int, features: int) -> DatasetInfo:
    n_test = -(-n // 4)  # scikit-learn's train_test_split rounds the test share up
    return DatasetInfo(
        name,
        description,
        "tabular",
        task,
        n - n_test,
        n_test,
        (features,),
        options=dict(_SKLEARN_OPTIONS),
    )


KNOWN_DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "mnist",
            "MNIST handwritten digits, 28x28 grayscale",
            "images",
            "multiclass (10 classes)",
            60000,
            10000,
            (28, 28),
            (_MNIST_IDX, _keras_npz("mnist.npz")),
            {},
        ),
        DatasetInfo(
            "fashion_mnist",
            "Fashion-MNIST clothing images, 28x28 grayscale",
            "images",
            "multiclass (10 classes)",
            60000,
            10000,
            (28, 28),
            (_FASHION_IDX,),
            {},
        ),
        DatasetInfo(
            "imdb",
            "IMDB movie reviews as word-index sequences, sentiment",
            "sequences",
            "binary",
            25000,
            25000,
            None,
            (_keras_npz("imdb.npz"),),
            dict(_TEXT_OPTIONS),
        ),
        DatasetInfo(
            "reuters",
            "Reuters newswires as word-index sequences, 46 topics",
            "sequences",
            "multiclass (46 classes)",
            8982,
            2246,
            None,
            (_keras_npz("reuters.npz"),),
            {**_TEXT_OPTIONS, "test_split": 0.2},
        ),
        DatasetInfo(
            "boston_housing",
            "Boston house prices (1970s), 13 features",
            "tabular",
            "regression",
            404,
            102,
            (13,),
            (
                _keras_npz("boston_housing.npz"),
                Layout("csv", (DataFile("BostonHousing.csv"),)),
                Layout("csv", (DataFile("housing.csv"),)),
            ),
            {"test_split": 0.2, "seed": 113},
        ),
        DatasetInfo(
            "mnist1d",
            "MNIST-1D: 1-D digit signals of 40 values, generated offline by the mnist1d package",
            "signals",
            "multiclass (10 classes)",
            4000,
            1000,
            (40,),
            package="mnist1d",
        ),
        _sklearn(
            "digits",
            "scikit-learn's 8x8 handwritten digits, flattened to 64 features",
            "multiclass (10 classes)",
            1797,
            64,
        ),
        _sklearn(
            "breast_cancer", "scikit-learn's Wisconsin breast cancer diagnosis", "binary", 569, 30
        ),
        _sklearn(
            "diabetes",
            "scikit-learn's diabetes progression (scaled features)",
            "regression",
            442,
            10,
        ),
        _sklearn(
            "wine",
            "scikit-learn's wine cultivars by chemical analysis",
            "multiclass (3 classes)",
            178,
            13,
        ),
        _sklearn("iris", "scikit-learn's iris flowers", "multiclass (3 classes)", 150, 4),
    )
}
