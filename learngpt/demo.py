"""`learngpt demo`: train the week-1 model (GPTVer3 + HeadVer4) briefly and print a sample."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from learngpt.config import load_config
from learngpt.course import GPTVer3, HeadVer4
from learngpt.data import encode_splits, load_text
from learngpt.tokenizers import CharTokenizer
from learngpt.training import train

ROOT = Path(__file__).resolve().parent.parent


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("demo", help="train a small model on Shakespeare and print a sample")
    p.add_argument("--data", default=str(ROOT / "data" / "input.txt"))
    p.add_argument("--max-iters", type=int, default=3000)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    config = load_config(ROOT / "configs" / "course.yaml").replace(
        max_iters=args.max_iters, embed_size=64, block_size=32, eval_iters=20
    )
    text = load_text(args.data)
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = encode_splits(text, tokenizer, config.train_ratio)
    torch.manual_seed(config.seed)
    head = HeadVer4(config.block_size, config.embed_size, config.embed_size)
    model = GPTVer3(head, tokenizer.vocab_size, config.block_size, config.embed_size)
    history = train(model, train_data, val_data, config)
    for step, tr, va in zip(history.steps, history.train_loss, history.val_loss, strict=True):
        print(f"step {step:5d}  train loss {tr:.3f}  val loss {va:.3f}")
    context = torch.tensor([tokenizer.encode("\n")])
    print(tokenizer.decode(model.generate(context, 500)[0].tolist()))
