"""The data a run trains on: text files, token files read in place, and batches of windows.

Text: `load_text` reads a UTF-8 file, `split_text` keeps its first train_ratio for training.
`text_tokens` encodes a text for `learngpt train --data FILE.txt`, which writes the ids into its
run directory as token files (learngpt/prepare/write.py): a run trains on token files only.

Token files, a directory that `learngpt prepare` (or nanoGPT, or a text run) wrote:

    DIR/train.bin, DIR/val.bin   the ids, raw little-endian uint16 or uint32 (nanoGPT's layout)
    DIR/meta.json                dtype, vocab_size, separator, token counts, tokens_sha256, files
    DIR/tokenizer.json           the tokenizer (learngpt.tokenizers.Tokenizer.load reads it)

meta.json is written last; the files count only once it is there (`holds_token_files`).
`TokenFile` maps a split into memory (np.memmap) and gives the same answers as a tensor of its
ids to what training and evaluation ask (len, slices, a tensor of positions): only the windows
read are paged in, from the page cache, never the whole file. A nanoGPT directory (train.bin and
val.bin of GPT-2 ids, no meta.json) trains with GPT-2's tokenizer; its meta.pkl is never read
(unpickling runs arbitrary code).

Batches: `get_batch` cuts random windows from a tensor of ids or a TokenFile; `Batches` is the
trainer's resumable loader (nanochat's): a split's batches, with a `state_dict()` that a
checkpoint keeps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learngpt.errors import UserError
from learngpt.fileio import TEXT_FILE, read_bytes
from learngpt.tokenizers import TOKENIZER_FILE, Tokenizer, UnknownCharactersError, new_tokenizer

# -- text -----------------------------------------------------------------------------------------


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


def split_text(text: str, train_ratio: float) -> tuple[str, str]:
    """The first `train_ratio` of the characters for training, the rest for validation.

    Splitting the text (not the tokens) lets a BPE tokenizer learn from the training text only.
    """
    n = int(train_ratio * len(text))
    return text[:n], text[n:]


def split_data(data: torch.Tensor, train_ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `train_ratio` of the tokens for training, the rest for validation."""
    n = int(train_ratio * len(data))
    return data[:n], data[n:]


def encode(tokenizer, text: str) -> torch.Tensor:
    return torch.tensor(tokenizer.encode(text), dtype=torch.long)


def encode_splits(text: str, tokenizer, train_ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode `text` with `tokenizer` and split it into (train, val) tensors of token ids."""
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    return split_data(data, train_ratio)


@dataclass
class TextTokens:
    """A text file's token ids, split by characters (train first), before they become token
    files in a run directory (learngpt/prepare/write.py writes them)."""

    tokenizer: Tokenizer
    ids: dict[str, np.ndarray]  # {"train": ids, "val": ids}
    chars: dict[str, int]  # the characters each split covers
    source: dict[str, Any]  # for run.json: {"data": path, "data_sha256": ..., "chars": n}
    size: int  # the file's bytes


def text_tokens(
    path: Path, train_ratio: float, tokenizer_for: Callable[[str, str], Tokenizer]
) -> TextTokens:
    """Read, split and encode a text file. tokenizer_for(text, train_text) gives the tokenizer
    (a new one, or the one of the run this one continues)."""
    text = load_text(path)
    splits = dict(zip(("train", "val"), split_text(text, train_ratio), strict=True))
    tokenizer = tokenizer_for(text, splits["train"])
    raw = text.encode("utf-8")  # the file's bytes again (load_text checked they are UTF-8)
    source = {
        "data": str(Path(path).resolve()),
        "data_sha256": hashlib.sha256(raw).hexdigest(),
        "chars": len(text),
    }
    ids = {name: encode_checked(tokenizer, part, path) for name, part in splits.items()}
    return TextTokens(tokenizer, ids, {k: len(v) for k, v in splits.items()}, source, len(raw))


def text_sha256(text: str) -> str:
    """The SHA-256 of a text file's bytes (load_text's text encodes back to exactly them)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode_checked(tokenizer: Tokenizer, text: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(tokenizer.encode(text), dtype=np.int64)
    except UnknownCharactersError as exc:
        raise UserError(
            f"data file {path} has {exc}; the tokenizer of the run this one continues "
            "(--resume, --init-from) cannot encode them: use a text it knows or start a new run"
        ) from None


# -- batches --------------------------------------------------------------------------------------


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
    tensor of ids or anything indexed like one (a TokenFile: a file on disk).
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


class Batches:
    """The training batches of one split, resumable (nanochat's loader, for random windows).

    `next(batches)` is this process's `rows` of the next global batch of `batch_size` windows
    (all rows are drawn, so every process's generator stays in step); `state_dict()` says where
    the stream is and `load_state_dict()` goes back there: a resumed run draws the same batches.
    """

    def __init__(self, data, batch_size: int, block_size: int, seed: int, rows: slice | None):
        self.data, self.batch_size, self.block_size, self.rows = data, batch_size, block_size, rows
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        return get_batch(self.data, self.batch_size, self.block_size, self.generator, self.rows)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """{"batch": the state of the generator the windows are drawn from} (a checkpoint's
        rng.batch, as every learngpt checkpoint since the first has named it)."""
        return {"batch": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        try:
            self.generator.set_state(state["batch"])
        except (KeyError, RuntimeError, TypeError) as exc:
            raise UserError(f"the checkpoint's batch state is damaged ({exc}); retrain") from None


def check_splits_long_enough(
    lengths: dict[str, int], block_size: int, path: Path, remedy: str
) -> None:
    """Raise UserError unless each split holds a window of block_size tokens and one more;
    `remedy`: what makes a split of this kind of data longer."""
    for split, length in lengths.items():
        if length < block_size + 1:
            name = "training" if split == "train" else "validation"
            raise UserError(
                f"{path} is too short: its {name} split has {length} tokens, "
                f"and block_size {block_size} needs at least {block_size + 1}; {remedy}"
            )


# -- token files ----------------------------------------------------------------------------------


TRAIN, VAL, META, TOKENIZER = "train.bin", "val.bin", "meta.json", TOKENIZER_FILE


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
    meta: dict[str, Any]  # meta.json ({} for a nanoGPT directory)

    def split(self, name: str) -> TokenFile:
        return self.train if name == "train" else self.val


def is_token_dir(path: str | Path) -> bool:
    return Path(path).is_dir()


def holds_token_files(folder: str | Path) -> bool:
    """Whether `folder` holds a complete token directory (meta.json is written last)."""
    return (Path(folder) / META).is_file()


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
        meta = {}
        if not gpt2_dir:
            raise UserError(
                f"{folder} has no meta.json (a nanoGPT directory? its meta.pkl is never "
                "unpickled): for GPT-2 ids pass --tokenizer gpt2 --gpt2-dir DIR, else prepare "
                "it with learngpt prepare"
            )
        tokenizer = new_tokenizer("gpt2", gpt2_dir=gpt2_dir)
        splits = TokenFile(folder / TRAIN, "uint16"), TokenFile(folder / VAL, "uint16")
        fingerprint = quick_fingerprint(splits)
    return TokenData(tokenizer, *splits, fingerprint, meta)


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
