"""`learngpt eval`: the exact mean loss of a trained run over a whole split of its text.

    learngpt eval --out DIR [--split val|train] [--json]

During training the loss is *estimated* on a few random batches. Here the split is cut into
consecutive windows of block_size tokens and every token after the first is predicted exactly
once (each window predicts its own tokens shifted by one), so the number is deterministic and
two runs can be compared without sampling noise. Bits per character (loss in bits, times the
tokens, over the characters they cover) compares a character run with a BPE run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
from torch import nn

from learngpt.data import load_text
from learngpt.errors import UserError
from learngpt.rundir import encode, load_run, read_run_info, split_text


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("eval", help="exact loss of a trained run on a whole split")
    p.add_argument("--out", required=True, help="the run directory that `learngpt train` wrote")
    p.add_argument("--split", choices=("val", "train"), default="val")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best")
    p.add_argument("--data", help="the text file (default: the one the run trained on)")
    p.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.set_defaults(run=run)


@torch.no_grad()
def split_loss(model: nn.Module, data: torch.Tensor, block_size: int, batch_size: int = 32):
    """(mean loss, tokens predicted) over `data` cut into consecutive block_size windows.

    Window i holds tokens i*T .. i*T+T-1 and predicts tokens i*T+1 .. i*T+T; the last window
    is shorter, so every token but the first is predicted exactly once.
    """
    model.eval()
    device = next(model.parameters()).device
    predicted = len(data) - 1
    if predicted < 1:
        raise UserError("the split is too short to evaluate: it needs at least 2 tokens")
    n_full = predicted // block_size
    total = 0.0
    windows = data[: n_full * block_size + 1]
    x_all = windows[:-1].view(n_full, block_size)  # (N, T)
    y_all = windows[1:].view(n_full, block_size)  # (N, T)
    for start in range(0, n_full, batch_size):
        x = x_all[start : start + batch_size].to(device)
        y = y_all[start : start + batch_size].to(device)
        _, loss = model(x, y)  # the mean over x.numel() predictions
        total += loss.item() * y.numel()
    rest = predicted - n_full * block_size
    if rest:
        tail = data[n_full * block_size :]  # rest + 1 tokens
        _, loss = model(tail[:-1][None].to(device), tail[1:][None].to(device))
        total += loss.item() * rest
    return total / predicted, predicted


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be a positive integer, got {args.batch_size}")
    loaded = load_run(args.out, args.checkpoint, args.device)
    data_path = args.data or read_run_info(Path(args.out)).get("data")
    if not data_path:
        raise UserError(f"{args.out} does not say which text it trained on; pass --data FILE")
    text = load_text(data_path)
    train_text, val_text = split_text(text, loaded.config.train_ratio)
    split_text_ = val_text if args.split == "val" else train_text
    try:
        data = encode(loaded.tokenizer, split_text_)
    except UserError as exc:
        raise UserError(f"data file {data_path}: {exc}; evaluate on the run's own text") from None
    loss, tokens = split_loss(
        model=loaded.model,
        data=data,
        block_size=loaded.config.block_size,
        batch_size=args.batch_size,
    )
    # the characters those predictions cover: all but the first token's
    chars = len(split_text_) - len(loaded.tokenizer.decode(data[:1].tolist()))
    result = {
        "split": args.split,
        "loss": loss,
        "tokens": tokens,
        "chars": chars,
        "bits_per_char": loss * tokens / (chars * math.log(2)),
        "step": loaded.manifest["step"],
        "checkpoint": loaded.which,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.split} loss {loss:.4f} over {tokens} tokens ({result['bits_per_char']:.4f} "
            f"bits per character), {loaded.which} checkpoint at step {result['step']}"
        )
    sys.stdout.flush()
    return 0
