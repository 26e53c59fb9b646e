"""nanoGPT's Shakespeare recipe against learngpt's, same data, same metric, back to back.

    .venv/bin/python bench/vs_nanogpt.py NANOGPT_DIR [--device cuda]
    .venv/bin/python bench/vs_nanogpt.py /tmp/nanoGPT --device cpu --n-layers 2 --embed-size 64 \\
        --n-heads 2 --block-size 64 --batch-size 8 --max-iters 60 --eval-interval 30 --eval-iters 5

NANOGPT_DIR is a checkout of karpathy/nanoGPT (nothing of it ships here). The script writes the
shipped Shakespeare in nanoGPT's format (train.bin / val.bin / meta.pkl: the sorted characters,
the first 90% of the text for training, as nanoGPT's prepare.py does and as learngpt splits it),
runs nanoGPT's train.py with config/train_shakespeare_char.py (6 layers, 384 channels, 6 heads,
block 256, batch 64, 5000 iterations, dropout 0.2; the flags scale it down), then
`learngpt train` with the same hyper-parameters, each as its own process, timed from start to
end. Both best checkpoints are then scored with learngpt's exact full-split loss
(learngpt/evaluate.py: every validation token predicted once).

learngpt uses its own levers: dropout in nanoGPT's places (--nanogpt-dropout), and on CUDA
bf16 autocast and torch.compile (nanoGPT uses both there too); --learngpt-args adds more.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import shlex
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import torch

from learngpt.data import encode, load_text, split_text
from learngpt.evaluate import split_loss
from learngpt.resources import shakespeare_path
from learngpt.runs import load_run
from learngpt.tokenizers import CharTokenizer


def prepare_data(work: Path) -> tuple[Path, torch.Tensor]:
    """nanoGPT's data files in work/data; returns the text's path and the val tokens."""
    text = load_text(shakespeare_path())
    tokenizer = CharTokenizer.from_text(text)  # sorted characters, as nanoGPT's prepare.py
    train_text, val_text = split_text(text, 0.9)
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train_text), ("val", val_text)):
        with open(data / f"{name}.bin", "wb") as f:
            array("H", tokenizer.encode(part)).tofile(f)  # uint16, as np.memmap reads it
    meta = {
        "vocab_size": tokenizer.vocab_size,
        "itos": dict(enumerate(tokenizer.chars)),
        "stoi": {c: i for i, c in enumerate(tokenizer.chars)},
    }
    (data / "meta.pkl").write_bytes(pickle.dumps(meta))
    (work / "input.txt").write_text(text, encoding="utf-8")
    return work / "input.txt", encode(tokenizer, val_text)


def timed(command: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    print("$", shlex.join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True)
    return time.perf_counter() - started


def run_nanogpt(nanogpt: Path, work: Path, args) -> float:
    cuda = args.device.startswith("cuda")
    flags = {
        "dataset": work / "data",  # an absolute path: os.path.join("data", it) is itself
        "out_dir": work / "nanogpt",
        "device": args.device,
        "compile": cuda,
        "dtype": "bfloat16" if cuda else "float32",
        "n_layer": args.n_layers,
        "n_embd": args.embed_size,
        "n_head": args.n_heads,
        "block_size": args.block_size,
        "batch_size": args.batch_size,
        "max_iters": args.max_iters,
        "lr_decay_iters": args.max_iters,
        "eval_interval": args.eval_interval,
        "eval_iters": args.eval_iters,
        "dropout": args.dropout,
        "warmup_iters": min(100, args.max_iters // 10),
    }
    command = [sys.executable, "train.py", "config/train_shakespeare_char.py"]
    command += [f"--{k}={v}" for k, v in flags.items()]
    return timed(command, cwd=nanogpt)  # train.py reads configurator.py from its cwd


def run_learngpt(text: Path, work: Path, args) -> float:
    cuda = args.device.startswith("cuda")
    command = [sys.executable, "-m", "learngpt", "train", "--data", str(text)]
    command += ["--out", str(work / "learngpt"), "--overwrite", "--device", args.device]
    command += ["--n-layers", str(args.n_layers), "--embed-size", str(args.embed_size)]
    command += ["--n-heads", str(args.n_heads), "--block-size", str(args.block_size)]
    command += ["--ffwd-size", str(4 * args.embed_size)]  # nanoGPT's MLP is 4x wide
    command += ["--batch-size", str(args.batch_size), "--max-iters", str(args.max_iters)]
    command += ["--eval-interval", str(args.eval_interval), "--eval-iters", str(args.eval_iters)]
    command += ["--dropout", str(args.dropout), "--nanogpt-dropout", "--max-time", "0"]
    # nanoGPT's recipe: AdamW 1e-3 -> 1e-4 (cosine), betas (0.9, 0.99), decay 0.1, clip 1.0,
    # learned positions, no biases, a tied head, no convolution before the feed-forward
    # (learngpt's feed-forward is ReLU, nanoGPT's GELU)
    command += ["--learning-rate", "1e-3", "--min-lr-ratio", "0.1", "--beta2", "0.99"]
    command += ["--warmup-iters", str(min(100, args.max_iters // 10)), "--weight-decay", "0.1"]
    command += ["--grad-clip", "1.0", "--no-bias", "--no-rotary", "--tie-weights", "--no-muon"]
    command += ["--ffwd-conv", "0"]
    command += ["--bf16", "--compile"] if cuda else ["--no-bf16", "--no-compile"]
    command += shlex.split(args.learngpt_args)
    return timed(command)


def nanogpt_val_loss(nanogpt: Path, checkpoint: Path, val: torch.Tensor, device: str) -> float:
    spec = importlib.util.spec_from_file_location("nanogpt_model", nanogpt / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved = torch.load(checkpoint, map_location=device, weights_only=True)
    model = module.GPT(module.GPTConfig(**saved["model_args"]))
    prefix = "_orig_mod."  # what torch.compile adds to the names
    weights = {k.removeprefix(prefix): v for k, v in saved["model"].items()}
    model.load_state_dict(weights)
    model.to(device)
    return split_loss(model, val, saved["model_args"]["block_size"])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nanogpt", type=Path, help="a checkout of karpathy/nanoGPT")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument("--n-layers", type=int, default=6)
    parser.add_argument("--embed-size", type=int, default=384)
    parser.add_argument("--n-heads", type=int, default=6)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-iters", type=int, default=5000)
    parser.add_argument("--eval-interval", type=int, default=250)
    parser.add_argument("--eval-iters", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--learngpt-args", default="", help="more `learngpt train` flags")
    args = parser.parse_args()
    nanogpt = args.nanogpt.resolve()
    if not (nanogpt / "train.py").is_file():
        parser.error(f"{nanogpt} has no train.py; pass a checkout of karpathy/nanoGPT")
    with tempfile.TemporaryDirectory() as scratch:
        work = (args.work or Path(scratch)).resolve()
        text, val = prepare_data(work)
        seconds = {
            "nanoGPT": run_nanogpt(nanogpt, work, args),
            "learngpt": run_learngpt(text, work, args),
        }
        run = load_run(work / "learngpt", "best", args.device)
        loss = {
            "nanoGPT": nanogpt_val_loss(nanogpt, work / "nanogpt" / "ckpt.pt", val, args.device),
            "learngpt": split_loss(run.model, val.to(run.device), run.config.block_size)[0],
        }
    print(
        f"\ndevice {args.device}; {args.max_iters} iterations of {args.n_layers} layers x "
        f"{args.embed_size} channels, batch {args.batch_size} x block {args.block_size}"
    )
    print("| trainer | wall time (s) | full-split val loss |")
    print("|---|---|---|")
    for name in seconds:
        print(f"| {name} | {seconds[name]:.1f} | {loss[name]:.4f} |")
    print(
        f"learngpt / nanoGPT: time {seconds['learngpt'] / seconds['nanoGPT']:.2f}x "
        f"(goal <= 0.8), val loss {loss['learngpt'] - loss['nanoGPT']:+.4f}"
    )


if __name__ == "__main__":
    main()
