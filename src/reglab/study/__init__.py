"""Studies: the spec, the planner, the executors, the SQLite store and the runner.

A spec (TOML) names the dataset, the model, the variants, the seeds and the folds;
:func:`run_study` trains every (variant x seed x fold) that the store does not hold yet,
many at once as populations, and writes each finished run to the store.
"""

from reglab.study.demo import demo_spec
from reglab.study.records import RunRecord, StudyRecord, WeightHistogram
from reglab.study.reduced import reduced_spec
from reglab.study.runner import StudyOutcome, run_study
from reglab.study.spec import Spec, load_spec, parse_spec
from reglab.study.spec_errors import SpecError
from reglab.study.store import Store, list_studies, load_study
from reglab.study.sweeps import SweepPoint, expand_sweeps
from reglab.study.tables import print_runs

__all__ = [
    "RunRecord",
    "Spec",
    "SpecError",
    "Store",
    "StudyOutcome",
    "StudyRecord",
    "SweepPoint",
    "WeightHistogram",
    "demo_spec",
    "expand_sweeps",
    "list_studies",
    "load_spec",
    "load_study",
    "parse_spec",
    "print_runs",
    "reduced_spec",
    "run_study",
]
