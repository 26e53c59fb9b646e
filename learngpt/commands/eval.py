"""`learngpt eval`: the exact mean loss of a trained run over a whole split of its data.

The run's own token files (a text run writes them into its run directory) or a token directory
(`learngpt prepare`) are read in place, window by window, so a split bigger than memory streams;
a text file given with --data is split and encoded here.

learngpt eval --out DIR [--split val|train] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from learngpt.commands.advice import checkpoint_advice, other_checkpoint
from learngpt.data import (
    encode,
    holds_token_files,
    is_token_dir,
    load_text,
    open_token_dir,
    split_text,
)
from learngpt.errors import UserError
from learngpt.evaluate import split_loss
from learngpt.runs import LoadedRun, load_run, read_run_info


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("eval", help="exact loss of a trained run on a whole split")
    p.add_argument("--out", required=True, help="the run directory that `learngpt train` wrote")
    p.add_argument("--split", choices=("val", "train"), default="val", help="default val")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--checkpoint", choices=("best", "latest"), default="best", help="default: best val loss"
    )
    p.add_argument(
        "--data", help="the text file or token directory (default: the one the run trained on)"
    )
    p.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be a positive integer, got {args.batch_size}")
    with checkpoint_advice(other_checkpoint(args.checkpoint)):
        loaded = load_run(args.out, args.checkpoint, args.device)
    data, split_chars = split_to_evaluate(args, loaded)
    loss, tokens = split_loss(
        model=loaded.model,
        data=data,
        block_size=loaded.config.block_size,
        batch_size=args.batch_size,
    )
    # the characters those predictions cover: all but the first token's (unknown for ids)
    chars = None
    if split_chars is not None:
        chars = split_chars - len(loaded.tokenizer.decode(data[:1].tolist()))
    result = {
        "split": args.split,
        "loss": loss,
        "tokens": tokens,
        "chars": chars,
        "bits_per_char": loss * tokens / (chars * math.log(2)) if chars else None,
        "step": loaded.manifest["step"],
        "checkpoint": loaded.which,
    }
    if args.json:
        print(json.dumps(result))
    else:
        bits = result["bits_per_char"]
        per_char = f" ({bits:.4f} bits per character)" if bits is not None else ""
        print(
            f"{args.split} loss {loss:.4f} over {tokens} tokens{per_char}, "
            f"{loaded.which} checkpoint at step {result['step']}"
        )
    sys.stdout.flush()
    return 0


def split_to_evaluate(args: argparse.Namespace, loaded: LoadedRun):
    """The split's ids, and the characters of text they encode (None if unknown: ids only).

    --data, else the run's own token files (a text run's), else the data run.json names.
    """
    out = Path(args.out)
    data_path = args.data or (out if holds_token_files(out) else read_run_info(out).get("data"))
    if not data_path:
        raise UserError(f"{args.out} does not say which text it trained on; pass --data FILE")
    if is_token_dir(data_path):  # token files, read in place: the split streams from disk
        tokens = open_token_dir(data_path, loaded.config.gpt2_dir)
        return tokens.split(args.split), tokens.meta.get("chars", {}).get(args.split)
    text = load_text(data_path)
    train_text, val_text = split_text(text, loaded.config.train_ratio)
    part = val_text if args.split == "val" else train_text
    try:
        return encode(loaded.tokenizer, part), len(part)
    except UserError as exc:
        raise UserError(f"data file {data_path}: {exc}; evaluate on the run's text") from None
