"""The report: figures (matplotlib), the self-contained HTML report, TensorBoard export.

Every figure is a function from plain data (History rows, stored histograms) to a
matplotlib ``Figure``, usable directly in a notebook.
"""

from reglab.report.document import render_report, write_report
from reglab.report.figures import (
    forest_plot,
    kfold_validation_curve,
    learning_curves,
    strength_curve,
    weight_histograms,
)
from reglab.report.forest import forest_rows
from reglab.report.strength import strength_curves
from reglab.report.tensorboard import export_tensorboard

__all__ = [
    "export_tensorboard",
    "forest_plot",
    "forest_rows",
    "kfold_validation_curve",
    "learning_curves",
    "render_report",
    "strength_curve",
    "strength_curves",
    "weight_histograms",
    "write_report",
]
