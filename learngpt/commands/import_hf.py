"""`learngpt import-hf`: a Hugging Face GPT-2 directory as a learngpt run.

    learngpt import-hf DIR --out RUN

DIR holds config.json, model.safetensors (or pytorch_model.bin) and vocab.json + merges.txt,
e.g. from `huggingface-cli download gpt2 --local-dir DIR` on a machine with internet. Nothing is
downloaded here. The run then works with sample, eval and `train --init-from RUN`.
"""

from __future__ import annotations

import argparse
import sys

from learngpt.interop.gpt2 import import_gpt2


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("import-hf", help="import a Hugging Face GPT-2 directory as a run")
    p.add_argument("dir", help="the Hugging Face model directory (config.json, weights, vocab)")
    p.add_argument("--out", required=True, help="the new run directory to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = import_gpt2(args.dir, args.out)
    print(f"imported {args.dir} into {out}; try: learngpt sample --out {out}", file=sys.stderr)
    return 0
