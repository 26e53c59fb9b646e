"""Text in, tensors out: reading a text file, the train/val split, and random training batches.

A training run gets its token ids from one place: a `TokenSplits` (train and val ids, and where
they came from), made by `text_splits` from a text file or by learngpt.token_files.token_splits
from token files read in place. `get_batch` cuts windows from any 1-D tensor of token ids or
anything indexed like one (a memory-mapped TokenFile).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from learngpt.errors import UserError
from learngpt.fileio import TEXT_FILE, read_bytes
from learngpt.tokenizers import Tokenizer, UnknownCharactersError


@contextmanager
def data_file_errors(path: Path) -> Iterator[None]:
    """A data file that cannot be read, as one UserError naming it (for --data and prepare)."""
    try:
        yield
    except FileNotFoundError:
        raise UserError(f"data file {path} does not exist; check the --data paths") from None
    except IsADirectoryError:
        raise UserError(f"data file {path} is a directory; pass text files with --data") from None
    except OSError as exc:
        raise UserError(f"cannot read data file {path}: {exc.strerror}") from None


def load_text(path: str | Path) -> str:
    """Read a UTF-8 text file for training; a missing, empty or binary file is a UserError."""
    path = Path(path)
    with data_file_errors(path):
        raw = read_bytes(path, "data file", TEXT_FILE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"data file {path} is not UTF-8 text (bad byte at offset {exc.start}); "
            "convert it to UTF-8 first"
        ) from None
    if not text:
        raise UserError(f"data file {path} is empty; pass a file with some text in it")
    return text


def split_data(data: torch.Tensor, train_ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `train_ratio` of the tokens for training, the rest for validation."""
    n = int(train_ratio * len(data))
    return data[:n], data[n:]


def check_long_enough(data: torch.Tensor, block_size: int) -> None:
    """Raise UserError unless `data` holds one window of block_size tokens and the one after."""
    if len(data) < block_size + 1:
        raise UserError(
            f"the text has {len(data)} tokens, too few for block_size {block_size}: "
            f"it needs at least {block_size + 1}; use more text or a smaller block_size"
        )


def get_batch(
    data: torch.Tensor,
    batch_size: int,
    block_size: int,
    generator: torch.Generator | None = None,
    rows: slice | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch_size` random windows of `block_size` tokens, and the same windows shifted by one.

    Returns x, y of shape (B, T) with y[b, t] = the token after x[b, t]. A dedicated `generator`
    lets two models see exactly the same batches. `rows`: gather only these rows of the batch
    (a training process's share); all B are drawn, so the generator stays in step. `data` is a
    tensor of ids or anything indexed like one (learngpt.token_files.TokenFile: a file on disk).
    """
    check_long_enough(data, block_size)
    # drawn on the CPU generator (the same windows on every device), gathered where data is
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    if rows is not None:
        starts = starts[rows]
    starts = starts.to(data.device, non_blocking=True)
    offsets = torch.arange(block_size, device=data.device)
    x = data[starts[:, None] + offsets]  # (B, T)
    y = data[starts[:, None] + offsets + 1]  # (B, T)
    return x, y


def encode_splits(text: str, tokenizer, train_ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode `text` with `tokenizer` and split it into (train, val) tensors of token ids."""
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    return split_data(data, train_ratio)


def split_text(text: str, train_ratio: float) -> tuple[str, str]:
    """The first `train_ratio` of the characters for training, the rest for validation.

    Splitting the text (not the tokens) lets a BPE tokenizer learn from the training text only.
    """
    n = int(train_ratio * len(text))
    return text[:n], text[n:]


def encode(tokenizer, text: str) -> torch.Tensor:
    return torch.tensor(tokenizer.encode(text), dtype=torch.long)


@dataclass
class TokenSplits:
    """The token ids a run trains and estimates on, and where they came from (for run.json)."""

    train: torch.Tensor  # 1-D token ids (or a TokenFile: ids on disk, indexed like a tensor)
    val: torch.Tensor
    source: dict[str, Any]  # e.g. {"data": path, "data_sha256": ..., "chars": n}
    # what makes a split longer: the flags that apply to this kind of data
    remedy: str = "use a longer text or a smaller --block-size (or change --train-ratio)"

    def to(self, device: torch.device) -> TokenSplits:
        """On `device` (a TokenFile stays on disk: its windows are read, then moved)."""
        return dataclasses.replace(self, train=self.train.to(device), val=self.val.to(device))

    def check_length(self, block_size: int, path: Path) -> None:
        """Raise UserError unless each split holds a window of block_size tokens and one more."""
        for split, data in (("training", self.train), ("validation", self.val)):
            if len(data) < block_size + 1:
                raise UserError(
                    f"{path} is too short: its {split} split has {len(data)} tokens, "
                    f"and block_size {block_size} needs at least {block_size + 1}; {self.remedy}"
                )


def text_splits(
    path: Path, train_ratio: float, tokenizer_for: Callable[[str, str], Tokenizer]
) -> tuple[Tokenizer, TokenSplits]:
    """A text file's tokenizer and token ids, split by characters (train first).

    tokenizer_for(text, train_text) gives the tokenizer (a new one, or the run's own).
    """
    text = load_text(path)
    train_text, val_text = split_text(text, train_ratio)
    tokenizer = tokenizer_for(text, train_text)
    source = {
        "data": str(Path(path).resolve()),
        "data_sha256": hashlib.sha256(read_bytes(Path(path), "data file", TEXT_FILE)).hexdigest(),
        "chars": len(text),
    }
    train, val = (encode_checked(tokenizer, t, path) for t in (train_text, val_text))
    return tokenizer, TokenSplits(train, val, source)


def encode_checked(tokenizer: Tokenizer, text: str, path: Path) -> torch.Tensor:
    try:
        return encode(tokenizer, text)
    except UnknownCharactersError as exc:
        raise UserError(
            f"data file {path} has {exc}; the tokenizer of the run this one continues "
            "(--resume, --init-from) cannot encode them: use a text it knows or start a new run"
        ) from None
