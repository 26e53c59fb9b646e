"""`learngpt export-hf`: a run as a Hugging Face GPT-2 directory.

    learngpt export-hf RUN DIR [--checkpoint best|latest]

transformers.AutoModelForCausalLM.from_pretrained(DIR) then loads it and computes the same
logits. The run's options must fit GPT-2 (learned positions, LayerNorm, no bias on the head);
the tokenizer goes along when it is a byte-level BPE.
"""

from __future__ import annotations

import argparse
import sys

from learngpt.interop.gpt2 import export_gpt2


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("export-hf", help="export a run as a Hugging Face GPT-2 directory")
    p.add_argument("run_dir", metavar="RUN", help="the run directory to export")
    p.add_argument("dir", metavar="DIR", help="the new directory to write")
    p.add_argument(
        "--checkpoint", choices=("best", "latest"), default="best", help="default: best val loss"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for note in export_gpt2(args.run_dir, args.dir, which=args.checkpoint):
        print(f"note: {note}", file=sys.stderr)
    print(f"exported {args.run_dir} to {args.dir}", file=sys.stderr)
    return 0
