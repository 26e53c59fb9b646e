"""Token files, read in place: a directory that `learngpt prepare` (or nanoGPT) wrote.

DIR/train.bin, DIR/val.bin   the ids, raw little-endian uint16 or uint32 (nanoGPT's layout)
DIR/meta.json                 dtype, vocab_size, separator, token counts, tokens_sha256, files
DIR/tokenizer.json            the tokenizer (learngpt.tokenizers.Tokenizer.load reads it)

`TokenFile` maps a split into memory (np.memmap) and gives the same answers as a tensor of its
ids to what training and evaluation ask (len, slices, a tensor of positions): only the windows
read are paged in, from the page cache, never the whole file. A nanoGPT directory (train.bin and
val.bin of GPT-2 ids, no meta.json) trains with GPT-2's tokenizer; its meta.pkl is never read
(unpickling runs arbitrary code).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learngpt.data import TokenSplits
from learngpt.errors import UserError
from learngpt.tokenizers import Tokenizer

TRAIN, VAL, META, TOKENIZER = "train.bin", "val.bin", "meta.json", "tokenizer.json"
DTYPES = ("uint16", "uint32")


def dtype_for(vocab_size: int) -> str:
    """uint16 when every id fits, else uint32 (numpy's names)."""
    return "uint16" if vocab_size <= 1 << 16 else "uint32"


class TokenFile:
    """A split's ids, memory-mapped: indexing returns int64 tensors, like a tensor of the ids."""

    device = torch.device("cpu")  # windows are gathered here, then moved to the model's device

    def __init__(self, path: Path, dtype: str):
        self.path = Path(path)
        size = self.path.stat().st_size
        itemsize = np.dtype(dtype).itemsize
        if size % itemsize:
            raise UserError(f"token file {path} is not a whole number of {dtype} ids; re-prepare")
        # np.memmap refuses an empty file: an empty split is an empty array (too short later)
        self.array = np.memmap(path, np.dtype(dtype).newbyteorder("<"), "r") if size else None
        self.length = size // itemsize

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        if self.array is None:
            return torch.zeros(0, dtype=torch.long)[index]
        return torch.from_numpy(np.asarray(self.array[index], dtype=np.int64))

    def to(self, device) -> TokenFile:
        return self  # stays on disk: get_batch gathers the windows, the loop moves them

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r}, {self.length} tokens)"


@dataclass
class TokenData:
    """A token directory opened for training: its tokenizer, splits and fingerprint."""

    tokenizer: Tokenizer
    train: TokenFile
    val: TokenFile
    fingerprint: str  # meta.json's tokens_sha256 (a nanoGPT directory: sizes and ends)


def is_token_dir(path: str | Path) -> bool:
    return Path(path).is_dir()


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        dtype, tokens = meta["dtype"], meta["tokens"]
        ok = dtype in DTYPES and all(type(tokens[k]) is int for k in ("train", "val"))
        if not ok or not isinstance(meta["tokens_sha256"], str):
            raise ValueError("dtype, tokens or tokens_sha256 malformed")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{folder / META} is damaged ({exc}); prepare the data again") from None
    return meta


def open_token_dir(folder: str | Path, gpt2_dir: str = "") -> TokenData:
    """The splits of a prepared directory, or of a nanoGPT one with GPT-2's tokenizer."""
    folder = Path(folder)
    if not (folder / TRAIN).is_file() or not (folder / VAL).is_file():
        raise UserError(
            f"--data {folder} is a directory without train.bin and val.bin; prepare it with: "
            f"learngpt prepare --data FILES --out {folder}"
        )
    if (folder / META).is_file():
        meta = read_meta(folder)
        tokenizer = Tokenizer.load(folder / TOKENIZER)
        dtype, fingerprint = meta["dtype"], meta["tokens_sha256"]
        splits = TokenFile(folder / TRAIN, dtype), TokenFile(folder / VAL, dtype)
        if [len(s) for s in splits] != [meta["tokens"]["train"], meta["tokens"]["val"]]:
            raise UserError(f"the token files in {folder} do not match its meta.json; re-prepare")
    else:
        if not gpt2_dir:
            raise UserError(
                f"{folder} has no meta.json (a nanoGPT directory? its meta.pkl is never "
                "unpickled): for GPT-2 ids pass --tokenizer gpt2 --gpt2-dir DIR, else prepare "
                "it with learngpt prepare"
            )
        from learngpt.prepare.vocab import gpt2_tokenizer

        tokenizer = gpt2_tokenizer(gpt2_dir)
        splits = TokenFile(folder / TRAIN, "uint16"), TokenFile(folder / VAL, "uint16")
        fingerprint = quick_fingerprint(splits)
    return TokenData(tokenizer, *splits, fingerprint)


def token_splits(
    folder: str | Path, gpt2_dir: str, own: Tokenizer | None
) -> tuple[Tokenizer, TokenSplits]:
    """A token directory's tokenizer and splits, read in place, for a training run.

    `own`: the tokenizer the run must keep (--resume, --init-from), which must be the one the
    ids were encoded with; None for a new run, which takes the directory's.
    """
    folder = Path(folder)
    tokens = open_token_dir(folder, gpt2_dir)
    if own is not None and own.to_dict() != tokens.tokenizer.to_dict():
        raise UserError(
            f"--data {folder} was encoded with another tokenizer than the run's "
            f"({tokens.tokenizer!r}); prepare it with --tokenizer-from RUN"
        )
    source = {"data": str(folder.resolve()), "data_sha256": tokens.fingerprint}
    source["tokens"] = len(tokens.train) + len(tokens.val)
    remedy = (
        "prepare more text into it or use a smaller --block-size (or prepare it again with "
        "another --val-ratio)"
    )
    splits = TokenSplits(tokens.train, tokens.val, source, remedy)
    return own if own is not None else tokens.tokenizer, splits


def data_fingerprint(folder: str | Path) -> str:
    """What a run records of its token directory, to refuse resuming on other data."""
    folder = Path(folder)
    if (folder / META).is_file():
        return read_meta(folder)["tokens_sha256"]
    return quick_fingerprint([TokenFile(folder / name, "uint16") for name in (TRAIN, VAL)])


def check_same_tokens(folder: str | Path, run_info: dict[str, Any], run_dir: Path) -> None:
    """--resume on a token directory: refuse other ids than the run started on (run.json)."""
    if run_info.get("data_sha256") != data_fingerprint(folder):
        raise UserError(
            f"--resume: the token files in {folder} are not those the run in {run_dir} started "
            "on (their tokens_sha256 differs from run.json's); resume on the same data, or "
            "start a new run with another --out"
        )


def quick_fingerprint(splits) -> str:
    """Without a meta.json: a hash of each file's size and first and last MiB (no full read)."""
    digest = hashlib.sha256()
    for split in splits:
        with open(split.path, "rb") as f:
            size = f.seek(0, 2)
            digest.update(str(size).encode())
            for start in (0, max(0, size - (1 << 20))):
                f.seek(start)
                digest.update(f.read(1 << 20))
    return "quick:" + digest.hexdigest()
