"""The course's "X helps" claims, checked on several seeds (`learngpt experiment`).

  models.py   the models the claims compare (builders: config, vocab_size -> GPTVer4)
  claims.py   the five experiments: which two models, the margin, the course's and tests' set-up
  runner.py   run_experiment(): both models of a claim on the same batches, once per seed
  results.py  what a run found (dataclasses), and its JSON file (ResultsFile)
  report.py   a text table for the terminal; a markdown page with loss-curve plots for docs/

The course's tests (tests/test_7.py ... test_10.py) call `run_experiment` with one seed. The
measuring helpers the course's other claims use are re-exported here for them.
"""

from learngpt.experiments.claims import (
    EXPERIMENTS,
    SETUPS,
    Experiment,
    Model,
    get_experiment,
    make_experiments,
)
from learngpt.experiments.gradients import gradient_ratio
from learngpt.experiments.models import (
    REFERENCE,
    CourseModels,
    attention_only,
    attention_then_ffn,
    deep_stack,
    multi_head,
    single_head,
)
from learngpt.experiments.report import format_markdown, format_table, plot, write_markdown
from learngpt.experiments.results import ExperimentResult, ResultsFile, SeedResult
from learngpt.experiments.runner import experiment_data, run_experiment
from learngpt.measure import best_time, count_flops, one_cpu_thread

__all__ = [
    "REFERENCE",
    "CourseModels",
    "make_experiments",
    "EXPERIMENTS",
    "SETUPS",
    "Experiment",
    "ExperimentResult",
    "Model",
    "ResultsFile",
    "SeedResult",
    "attention_only",
    "attention_then_ffn",
    "best_time",
    "count_flops",
    "deep_stack",
    "experiment_data",
    "format_markdown",
    "format_table",
    "get_experiment",
    "gradient_ratio",
    "multi_head",
    "one_cpu_thread",
    "plot",
    "run_experiment",
    "single_head",
    "write_markdown",
]
