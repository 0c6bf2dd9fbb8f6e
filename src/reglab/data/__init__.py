"""Data: finding and loading datasets, file formats, preprocessing, and task inference.

``load_dataset(name, **options)`` is the one entry point; the preprocessing functions
follow Keras' semantics, and :func:`infer_task` reads the problem type from the targets.
"""

from reglab.data.augmentation import Augment
from reglab.data.catalog import KNOWN_DATASETS
from reglab.data.dataset import Dataset
from reglab.data.loading import get_word_index, load_dataset
from reglab.data.multihot import MultiHot, multi_hot
from reglab.data.preprocessing import Standardizer, scale_images, to_categorical
from reglab.data.status import DatasetStatus, dataset_statuses, print_datasets
from reglab.data.tasks import Task, infer_task

__all__ = [
    "KNOWN_DATASETS",
    "Augment",
    "Dataset",
    "DatasetStatus",
    "MultiHot",
    "Standardizer",
    "Task",
    "dataset_statuses",
    "get_word_index",
    "infer_task",
    "load_dataset",
    "multi_hot",
    "print_datasets",
    "scale_images",
    "to_categorical",
]
