"""Every figure of the report, as functions from plain data to a matplotlib ``Figure``."""

from reglab.report.figures.curves import learning_curves
from reglab.report.figures.forest import forest_plot
from reglab.report.figures.histograms import weight_histograms
from reglab.report.figures.kfold import kfold_validation_curve
from reglab.report.figures.strength import strength_curve

__all__ = [
    "forest_plot",
    "kfold_validation_curve",
    "learning_curves",
    "strength_curve",
    "weight_histograms",
]
