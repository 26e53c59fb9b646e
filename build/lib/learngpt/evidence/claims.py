"""7b, 8a, 8b, 9c, 10c: the 5-seed results of `learngpt experiment`, read back from its page.

`learngpt experiment all --markdown docs/experiments.md` trains every pair of models on five
seeds (minutes to hours on a CPU) and writes a table per experiment. Rather than train again,
the answers quote the mean row of each table; this module reads it, so that the answers and the
experiments page can be compared by a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from learngpt.errors import UserError

QUESTIONS = {
    "multi-head": "7b",
    "ffn": "8a",
    "residual": "8b",
    "layer-norm": "9c",
    "dropout": "10c",
}


@dataclass
class Summary:
    name: str  # the experiment's name, e.g. "multi-head"
    header: list[str]  # seed, <baseline> train, <variant> train, <baseline> val, <variant> val, ...
    mean: list[str]  # the table's mean row, as written

    @property
    def baseline(self) -> str:
        return self.header[1].removesuffix(" train")

    @property
    def variant(self) -> str:
        return self.header[2].removesuffix(" train")


def command_of(page: str) -> str:
    """The command that generated the experiments page (its first fenced code block)."""
    match = re.search(r"```(?:bash)?\n(.*?)\n```", page, re.DOTALL)
    return match.group(1).strip() if match else ""


def read_summaries(path: Path) -> dict[str, Summary]:
    """The header and mean row of every experiment's table on the page, by experiment name."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"{path} does not exist; run `learngpt experiment all --markdown {path}` first, "
            "or leave the experiments out with --no-experiments"
        )
    summaries = {}
    for section in path.read_text(encoding="utf-8").split("\n## ")[1:]:
        name = section.split(":", 1)[0].strip()
        rows = [table_cells(line) for line in section.splitlines() if line.startswith("|")]
        rows = [row for row in rows if not all(set(cell) <= set("-") for cell in row)]
        means = [row for row in rows if row[0] == "mean"]
        if rows and means:
            summaries[name] = Summary(name, rows[0], means[0])
    return summaries


def table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def claim_rows(summary: Summary) -> list[list[str]]:
    """Header and the one row of a question: both models' mean final losses, margin, seeds."""
    return [
        [
            f"{QUESTIONS[summary.name]}: experiment",
            "baseline",
            "variant",
            "train loss baseline / variant",
            "val loss baseline / variant",
            "val margin",
            "holds on seeds",
        ],
        [
            f"`{summary.name}`",
            summary.baseline,
            summary.variant,
            f"{summary.mean[1]} / {summary.mean[2]}",
            f"{summary.mean[3]} / {summary.mean[4]}",
            summary.mean[5],
            summary.mean[6],
        ],
    ]
