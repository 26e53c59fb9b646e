"""The recipe's training tokens/s, old code against new, alternating in one run (issue 27).

Each side is a copy of learngpt/ at a git revision (`git archive`, no worktree is touched),
the new side by default the working tree. Both train the recipe (TrainConfig's defaults) for
--steps steps on the shipped Shakespeare in a fresh process, taking turns, so that a change in
the machine's load hits both alike; a run's speed is its last estimate's tokens/s (the steps
since the previous estimate, estimates excluded). Prints every run, the medians and new / old,
and the median of each round's own new / old.

    .venv/bin/python bench/refactor_speed.py [--old 6290e54] [--new WORKTREE] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export(revision: str, into: Path) -> Path:
    """learngpt/ as it was at `revision`, under `into`."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "learngpt"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def tokens_per_s(code: Path, out: Path, steps: int, threads: int) -> float:
    """One recipe run of `steps` steps with the learngpt under `code`; its training tokens/s."""
    argv = [sys.executable, "-m", "learngpt", "train", "--out", str(out), "--overwrite"]
    argv += ["--max-iters", str(steps), "--eval-interval", str(steps), "--max-time", "0"]
    argv += ["--device", "cpu", "--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run(argv, check=True, env=env, cwd=code, capture_output=True)
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return records[-1]["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="6290e54", help="git revision of the old code")
    parser.add_argument("--new", default=str(ROOT), help="directory holding the new learngpt/")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, alternating")
    parser.add_argument("--steps", type=int, default=150, help="training steps per run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"old": export(args.old, Path(tmp) / "old"), "new": Path(args.new)}
        speeds: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(args.rounds):
            for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
                out = Path(tmp) / f"run-{name}"
                speeds[name].append(tokens_per_s(sides[name], out, args.steps, args.threads))
                print(f"round {i + 1} {name}: {speeds[name][-1]:,.0f} tokens/s", flush=True)
    old, new = (statistics.median(speeds[n]) for n in ("old", "new"))
    print(f"median old {old:,.0f} tokens/s, new {new:,.0f} tokens/s: new / old = {new / old:.3f}")
    # each round's two runs are neighbours in time: their ratio cancels most of the load's drift
    paired = statistics.median(n / o for n, o in zip(speeds["new"], speeds["old"], strict=True))
    print(f"median of each round's new / old: {paired:.3f}")


if __name__ == "__main__":
    main()
