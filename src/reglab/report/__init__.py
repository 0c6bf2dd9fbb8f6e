"""The report: figures (matplotlib), the self-contained HTML report, TensorBoard export.

Every figure is a function from plain data (History rows, stored histograms) to a
matplotlib ``Figure``, usable directly in a notebook.
"""

from reglab.report.document import render_report, write_report
from reglab.report.figures import kfold_validation_curve, learning_curves, weight_histograms
from reglab.report.tensorboard import export_tensorboard

__all__ = [
    "export_tensorboard",
    "kfold_validation_curve",
    "learning_curves",
    "render_report",
    "weight_histograms",
    "write_report",
]
