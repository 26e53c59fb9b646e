"""Training tokens/s in 1 and in N processes (DDP), and the scaling efficiency, in one run.

Each run is a real `learngpt train` (N > 1: `--nproc N`) with the same global batch, so N
processes share each step's rows; each process gets --threads CPU threads. The speed is the one
log.jsonl records at the end: tokens per second of training steps, estimates excluded.
Efficiency = tokens/s with N processes / (N x tokens/s with one): 100% is perfect scaling.

    .venv/bin/python bench/ddp.py [--nproc 2] [--steps 200] [--device cpu] [-- TRAIN FLAGS...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def tokens_per_s(nproc: int, args: argparse.Namespace, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = [sys.executable, "-m", "learngpt", "train", "--out", str(out), "--nproc", str(nproc)]
        argv += ["--max-iters", str(args.steps), "--eval-interval", str(args.steps)]
        argv += ["--eval-iters", "1", "--max-time", "0", "--device", args.device]
        argv += ["--threads", str(args.threads), *extra]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        run = subprocess.run(argv, env=env, capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"learngpt train --nproc {nproc} failed:\n{run.stderr[-3000:]}")
        last = (out / "log.jsonl").read_text().splitlines()[-1]
        return json.loads(last)["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2, help="processes to compare with one")
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (one GPU per process)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]  # flags for learngpt train, e.g. --batch-size 48

    one = tokens_per_s(1, args, extra)
    many = tokens_per_s(args.nproc, args, extra)
    print(f"1 process:    {one:10.0f} tokens/s")
    print(f"{args.nproc} processes: {many:10.0f} tokens/s")
    print(f"speed-up {many / one:.2f}x, scaling efficiency {many / (args.nproc * one):.0%}")


if __name__ == "__main__":
    main()
