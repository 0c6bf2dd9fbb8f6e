"""Validation: which rows each run trains and validates on, and summaries over runs.

Pure NumPy, scikit-learn and scipy; nothing here trains or needs torch.
"""

from reglab.validate.aggregate import (
    Comparison,
    CurveBand,
    MeanCI,
    compare_means,
    mean_ci,
    mean_curve,
    smooth_curve,
)
from reglab.validate.splits import Fold, kfold, validation_split

__all__ = [
    "Comparison",
    "CurveBand",
    "Fold",
    "MeanCI",
    "compare_means",
    "kfold",
    "mean_ci",
    "mean_curve",
    "smooth_curve",
    "validation_split",
]
