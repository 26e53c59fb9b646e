"""What an experiment found, and the JSON file that keeps it.

`learngpt experiment ... --json FILE` writes every result (each seed's loss curves of both
models, and the set-up) to FILE; docs/experiments.json is that file for the documented run.
The markdown page, the plots, `learngpt answers` and the tests read the numbers from there.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from learngpt.config import CourseConfig
from learngpt.errors import UserError
from learngpt.experiments.claims import Experiment, get_experiment
from learngpt.fileio import atomic_write_text, read_text
from learngpt.training.loop import History

FORMAT = "learngpt-experiments/1"  # what a results file says it is


@dataclass
class SeedResult:
    seed: int
    baseline: History
    variant: History

    @property
    def val_margin(self) -> float:
        """How much lower the variant's final validation loss is (positive: the claim holds)."""
        return final_loss(self.baseline, "val") - final_loss(self.variant, "val")

    @property
    def train_margin(self) -> float:
        """How much lower the variant's final train loss is."""
        return final_loss(self.baseline, "train") - final_loss(self.variant, "train")


def final_loss(history: History, split: str) -> float:
    """The final loss; a model that diverged (nan) counts as infinitely bad."""
    loss = history.final[split]
    return math.inf if math.isnan(loss) else loss


@dataclass
class ExperimentResult:
    experiment: Experiment
    config: CourseConfig
    seeds: list[SeedResult]

    def holds(self, seed_result: SeedResult) -> bool:
        """Whether the claim holds on one seed, with the experiment's margin."""
        e = self.experiment
        ok = seed_result.val_margin >= e.min_margin
        if e.variant_trains_worse:
            ok = ok and -seed_result.train_margin >= e.min_margin
        return ok

    @property
    def holds_on(self) -> int:
        """On how many seeds the claim holds."""
        return sum(self.holds(s) for s in self.seeds)


@dataclass
class ResultsFile:
    """The results of one `learngpt experiment` run and the command that produced them."""

    command: str
    results: list[ExperimentResult]

    def to_json(self) -> str:
        experiments = [
            {
                "name": r.experiment.name,
                "claim": r.experiment.claim,  # for a reader; the code's definition is used
                "baseline": r.experiment.baseline.label,
                "variant": r.experiment.variant.label,
                "config": dataclasses.asdict(r.config),
                "seeds": [dataclasses.asdict(s) for s in r.seeds],
            }
            for r in self.results
        ]
        data = {"format": FORMAT, "command": self.command, "experiments": experiments}
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ResultsFile:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a results file of format {FORMAT}")
        results = []
        for e in data["experiments"]:
            seeds = [
                SeedResult(s["seed"], History(**s["baseline"]), History(**s["variant"]))
                for s in e["seeds"]
            ]
            results.append(
                ExperimentResult(get_experiment(e["name"]), CourseConfig(**e["config"]), seeds)
            )
        return cls(data["command"], results)

    def write(self, path: Path) -> None:
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def read(cls, path: Path) -> ResultsFile:
        path = Path(path)
        if not path.is_file():
            raise UserError(
                f"{path} does not exist; run `learngpt experiment all --json {path}` first"
            )
        try:
            return cls.from_json(read_text(path, "results file"))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"{path} is not a results file of `learngpt experiment --json` ({exc})"
            ) from None
