"""7b, 8a, 8b, 9c, 10c: the 5-seed results of `learngpt experiment`, read from its JSON file.

`learngpt experiment all --json docs/experiments.json` trains every pair of models on five
seeds (many minutes on a CPU) and saves what it found. Rather than train again, the answers
quote the mean row of each experiment's table, computed from that file by the same code that
prints the table (learngpt/experiments/report.py), so a test can compare the answers with it.
"""

from __future__ import annotations

from learngpt.experiments import ExperimentResult
from learngpt.experiments.report import table_rows

QUESTIONS = {
    "multi-head": "7b",
    "ffn": "8a",
    "residual": "8b",
    "layer-norm": "9c",
    "dropout": "10c",
}


def claim_rows(result: ExperimentResult) -> list[list[str]]:
    """Header and the one row of a question: both models' mean final losses, margin, seeds."""
    e = result.experiment
    mean = table_rows(result)[-1]  # mean, train and val of both models, val margin, holds on
    return [
        [
            f"{QUESTIONS[e.name]}: experiment",
            "baseline",
            "variant",
            "train loss baseline / variant",
            "val loss baseline / variant",
            "val margin",
            "holds on seeds",
        ],
        [
            f"`{e.name}`",
            e.baseline.label,
            e.variant.label,
            f"{mean[1]} / {mean[2]}",
            f"{mean[3]} / {mean[4]}",
            mean[5],
            mean[6],
        ],
    ]
