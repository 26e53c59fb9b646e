"""The recipe's training tokens/s, old code against new, alternating in one run (issue 27).

Each side is a copy of learngpt/ at a git revision (`git archive`, no worktree is touched),
the new side by default the working tree. Both train the recipe (TrainConfig's defaults) for
--steps steps on the shipped Shakespeare in a fresh process, taking turns, so that a change in
the machine's load hits both alike; a run's speed is its last estimate's tokens/s (the steps
since the previous estimate, estimates excluded). Prints the CPU, every run, the medians and
new / old, and the median of each round's own new / old. On a machine that others share,
`--together` starts each round's two runs at the same moment (one thread each is fairest), so
that both meet the same load, their order swapped from round to round.

    .venv/bin/python bench/refactor_speed.py [--old 6290e54] [--new WORKTREE] [--rounds 5]
                                             [--together --threads 1]
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


def start(code: Path, out: Path, steps: int, threads: int) -> subprocess.Popen:
    """A recipe run of `steps` steps with the learngpt under `code`, started."""
    argv = [sys.executable, "-m", "learngpt", "train", "--out", str(out), "--overwrite"]
    argv += ["--max-iters", str(steps), "--eval-interval", str(steps), "--max-time", "0"]
    argv += ["--device", "cpu", "--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.Popen(
        argv, env=env, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def tokens_per_s(run: subprocess.Popen, out: Path) -> float:
    """The finished run's training tokens/s (its last estimate's)."""
    if run.wait():
        raise SystemExit(f"a training run failed (status {run.returncode}): {run.args}")
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return records[-1]["tokens_per_s"]


def cpu_name() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if "Model name" in line), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="6290e54", help="git revision of the old code")
    parser.add_argument("--new", default=str(ROOT), help="directory holding the new learngpt/")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, alternating")
    parser.add_argument("--steps", type=int, default=150, help="training steps per run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument(
        "--together", action="store_true", help="run each round's two at once (a shared machine)"
    )
    args = parser.parse_args()
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"old": export(args.old, Path(tmp) / "old"), "new": Path(args.new)}
        speeds: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(args.rounds):
            order = ("old", "new") if i % 2 == 0 else ("new", "old")
            outs = {name: Path(tmp) / f"run-{name}" for name in order}
            runs = {}
            for name in order:
                runs[name] = start(sides[name], outs[name], args.steps, args.threads)
                if not args.together:  # one after the other
                    speeds[name].append(tokens_per_s(runs[name], outs[name]))
            for name in order:
                if args.together:
                    speeds[name].append(tokens_per_s(runs[name], outs[name]))
                print(f"round {i + 1} {name}: {speeds[name][-1]:,.0f} tokens/s", flush=True)
    old, new = (statistics.median(speeds[n]) for n in ("old", "new"))
    print(f"median old {old:,.0f} tokens/s, new {new:,.0f} tokens/s: new / old = {new / old:.3f}")
    # each round's two runs are neighbours in time (or simultaneous): their ratio cancels most of
    # the load's drift
    paired = statistics.median(n / o for n, o in zip(speeds["new"], speeds["old"], strict=True))
    print(f"median of each round's new / old: {paired:.3f}")


if __name__ == "__main__":
    main()
