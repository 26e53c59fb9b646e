"""`prepare()`: check the files, choose the tokenizer, encode in parallel, write the token files.

DIR/train.bin and DIR/val.bin hold the ids as raw little-endian uint16 (uint32 for a vocabulary
over 65,536 tokens), nanoGPT's layout: the files' ids in the order given, a separator id between
two files when the vocabulary has <|endoftext|>, and the last val_ratio of the ids in val.bin.
DIR/meta.json says how to read them; DIR/tokenizer.json is the tokenizer. The directory is
filled under a temporary name and renamed at the end: a failed run leaves nothing.

The writer is shared: `write_meta` ends every token directory (tokenizer.json, then meta.json,
the file that makes the others count), and `write_token_files` writes a whole one from ids in
memory: `learngpt train --data FILE.txt` writes its text's ids into the run directory with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from learngpt.data import META, TOKENIZER, TRAIN, VAL, dtype_for
from learngpt.errors import UserError
from learngpt.fileio import atomic_write, atomic_write_text, check_new_directory, new_directory
from learngpt.prepare import vocab
from learngpt.prepare.cuts import cutter_for
from learngpt.prepare.encode import EncodeError, encode_pieces
from learngpt.prepare.sources import Source, check_sources, input_paths, text_pieces
from learngpt.tokenizers import CharTokenizer, Tokenizer, existing_tokenizer, new_tokenizer
from learngpt.tokenizers.fast import FastEncoder

SEPARATOR = "<|endoftext|>"
SPLITS = {"train": TRAIN, "val": VAL}
CHUNK_MB = (0.001, 16.0)  # --chunk-mb: a piece of at least 1,000 characters, at most 16 MB
SAMPLE_MB = (0.001, 1000.0)  # --sample-mb: learning a BPE from more takes hours anyway
MAX_BPE_VOCAB = 0x110000  # BPETokenizer.train's bound


@dataclass
class PrepareOptions:
    """What `learngpt prepare` was asked to do (its flags)."""

    data: list[str]
    out: str | Path
    tokenizer: str = "bpe"  # char, bpe (learned from a sample) or gpt2 (from gpt2_dir)
    vocab_size: int = 4096
    gpt2_dir: str | None = None
    tokenizer_from: str | None = None  # a prepared or run directory whose tokenizer to reuse
    val_ratio: float = 0.1
    chunk_mb: float = 1.0  # the pieces encoded in parallel; the ids never depend on it
    sample_mb: float = 4.0  # the text a BPE vocabulary is learned from
    workers: int = 0  # processes encoding (0: one per core)
    progress: bool = True


@dataclass
class Piece:
    index: int  # of the file it comes from
    text: str
    size: int  # its UTF-8 bytes


def prepare(options: PrepareOptions) -> dict[str, Any]:
    """Write the token files of options.data into options.out; return its meta.json."""
    out = Path(options.out)
    check_options(options)
    paths = input_paths(options.data)
    reused = existing_tokenizer(options.tokenizer_from) if options.tokenizer_from else None
    chars = isinstance(reused, CharTokenizer) or (not reused and options.tokenizer == "char")
    sources = check_sources(paths, want_chars=chars)  # every file read once: bad ones stop here
    tokenizer = choose_tokenizer(options, sources, reused)
    separator = separator_id(tokenizer)
    with new_directory(out) as tmp:
        counts, digest = write_stream(tmp / TRAIN, sources, tokenizer, separator, options)
        total = sum(counts) + (len(counts) - 1) * (separator is not None)
        dtype = dtype_for(tokenizer.vocab_size)
        n_val = move_tail(tmp / TRAIN, tmp / VAL, dtype, total, options.val_ratio)
        files = [
            {**source_record(s.path, s.size, s.sha256, n), "forced_cuts": s.forced_cuts}
            for s, n in zip(sources, counts, strict=True)
        ]
        tokens = {"train": total - n_val, "val": n_val}
        meta = write_meta(tmp, tokenizer, tokens, digest, files, {"val_ratio": options.val_ratio})
    return meta


def separator_id(tokenizer: Tokenizer) -> int | None:
    """The id written between two files: <|endoftext|>'s, when the vocabulary has it."""
    return getattr(tokenizer, "special_tokens", {}).get(SEPARATOR)


def source_record(path: Path, size: int, sha256: str, tokens: int) -> dict[str, Any]:
    """meta.json's entry for one input file."""
    return {"path": str(Path(path).resolve()), "bytes": size, "sha256": sha256, "tokens": tokens}


def write_meta(
    folder: Path,
    tokenizer: Tokenizer,
    tokens: dict[str, int],
    digest: str,
    files: list[dict[str, Any]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """tokenizer.json, then meta.json (written last: the token files count once it is there).

    `tokens`: each split's count; `digest`: the SHA-256 of the ids, train's then val's, as
    written; `extra`: how the ids were split (prepare's val_ratio; a text run's characters).
    """
    meta = {
        "dtype": dtype_for(tokenizer.vocab_size),
        "vocab_size": tokenizer.vocab_size,
        "separator": separator_id(tokenizer),
        "tokens": tokens,
        **extra,
        "tokens_sha256": digest,
        "tokenizer": TOKENIZER,
        "splits": {split: file_facts(folder, name) for split, name in SPLITS.items()},
        "files": files,
    }
    tokenizer.save(folder / TOKENIZER)
    atomic_write_text(folder / META, json.dumps(meta, indent=1) + "\n")
    return meta


def write_token_files(
    folder: Path,
    tokenizer: Tokenizer,
    splits: dict[str, np.ndarray],
    files: list[dict[str, Any]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A token directory in `folder` (which exists) from the ids of each split, in memory:
    train.bin and val.bin (each written atomically), then write_meta. Returns meta.json."""
    dtype = np.dtype(dtype_for(tokenizer.vocab_size)).newbyteorder("<")
    digest = hashlib.sha256()
    for split, name in (("train", TRAIN), ("val", VAL)):
        data = np.asarray(splits[split], dtype).tobytes()
        digest.update(data)
        atomic_write(folder / name, lambda tmp, data=data: tmp.write_bytes(data))
    tokens = {split: len(splits[split]) for split in ("train", "val")}
    return write_meta(folder, tokenizer, tokens, digest.hexdigest(), files, extra)


def check_options(options: PrepareOptions) -> None:
    """Every flag, and --out, checked before any work (a file that cannot be written included)."""
    if not 0 < options.val_ratio < 1:
        raise UserError(f"--val-ratio must be strictly between 0 and 1, got {options.val_ratio}")
    for flag, value, (low, high) in (
        ("--chunk-mb", options.chunk_mb, CHUNK_MB),
        ("--sample-mb", options.sample_mb, SAMPLE_MB),
    ):
        if not (math.isfinite(value) and low <= value <= high):
            raise UserError(f"{flag} must be a number of MB from {low} to {high:g}, got {value}")
    if options.tokenizer not in ("char", "bpe", "gpt2"):
        raise UserError(f"--tokenizer must be char, bpe or gpt2, got {options.tokenizer!r}")
    if options.tokenizer == "gpt2" and not options.tokenizer_from and not options.gpt2_dir:
        raise UserError("--tokenizer gpt2 needs --gpt2-dir DIR (GPT-2's vocab.json, merges.txt)")
    bpe = options.tokenizer == "bpe" and not options.tokenizer_from
    if bpe and not 256 <= options.vocab_size <= MAX_BPE_VOCAB:
        raise UserError(
            f"--vocab-size must be from 256 (the bytes) to {MAX_BPE_VOCAB:,}, got "
            f"{options.vocab_size:,}; a few thousand tokens (the default, 4096) suit most texts"
        )
    check_new_directory(Path(options.out), "--out")


def choose_tokenizer(
    options: PrepareOptions, sources: list[Source], reused: Tokenizer | None
) -> Tokenizer:
    if reused is not None:
        if isinstance(reused, CharTokenizer):  # it must know every character of the text
            for source in sources:
                unknown = sorted(source.chars - set(reused.chars))
                if unknown:
                    raise UserError(
                        f"data file {source.path} has characters the tokenizer of "
                        f"{options.tokenizer_from} lacks ({''.join(unknown[:10])!r}); "
                        "use another tokenizer"
                    )
        return reused
    if options.tokenizer == "gpt2":
        return new_tokenizer("gpt2", gpt2_dir=options.gpt2_dir)
    if options.tokenizer == "char":
        return vocab.char_tokenizer(sources)
    sample_bytes = int(options.sample_mb * 1e6)
    return vocab.learned_bpe(sources, options.vocab_size, sample_bytes, 1 - options.val_ratio)


def write_stream(
    path: Path, sources: list[Source], tokenizer: Tokenizer, separator, options: PrepareOptions
) -> tuple[list[int], str]:
    """Encode every file into `path`, in order; (tokens of each file, SHA-256 of the ids)."""
    dtype = np.dtype(dtype_for(tokenizer.vocab_size)).newbyteorder("<")
    counts, digest, current = [0] * len(sources), hashlib.sha256(), 0
    bar = tqdm(
        total=sum(s.size for s in sources),
        unit="B",
        unit_scale=True,
        desc="encoding" if FastEncoder(tokenizer).fast else "encoding (learngpt's own BPE: slow)",
        disable=None if options.progress else True,
    )
    pieces = all_pieces(sources, tokenizer, int(options.chunk_mb * 1e6))
    encoded = encode_pieces(pieces, tokenizer, dtype.str, options.workers)
    with open(path, "wb") as f, bar, contextlib.closing(encoded), encode_errors(sources):
        for piece, ids in encoded:
            if piece.index != current and separator is not None:
                _write(f, digest, np.array([separator], dtype))
            current = piece.index
            _write(f, digest, ids)
            counts[piece.index] += len(ids)
            bar.update(piece.size)
    return counts, digest.hexdigest()


def all_pieces(sources: list[Source], tokenizer: Tokenizer, piece_chars: int) -> Iterator[Piece]:
    cutter = cutter_for(tokenizer)
    for index, source in enumerate(sources):
        for text in text_pieces(source, piece_chars, cutter):
            yield Piece(index, text, len(text.encode("utf-8")))


@contextlib.contextmanager
def encode_errors(sources: list[Source]) -> Iterator[None]:
    """A piece that could not be encoded, as a UserError naming its file."""
    try:
        yield
    except EncodeError as exc:
        raise UserError(
            f"data file {sources[exc.item.index].path} could not be encoded ({exc}); if it "
            "changed while prepare ran, run it again"
        ) from None


def file_facts(folder: Path, name: str) -> dict[str, Any]:
    """A token file's name, size and SHA-256, for meta.json (what a reader checks it against)."""
    digest = hashlib.sha256()
    with open(folder / name, "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return {"file": name, "bytes": (folder / name).stat().st_size, "sha256": digest.hexdigest()}


def _write(f, digest, ids: np.ndarray) -> None:
    f.write(ids.data)
    digest.update(ids.data)


def move_tail(train: Path, val: Path, dtype: str, total: int, val_ratio: float) -> int:
    """Move the last val_ratio of the ids from `train` into `val`; how many moved."""
    n_val = round(total * val_ratio)
    if total < 4 or not 0 < n_val < total:
        raise UserError(
            f"the text makes only {total} tokens: too few to split into train and val with "
            f"--val-ratio {val_ratio}; pass more text"
        )
    itemsize = np.dtype(dtype).itemsize
    start = (total - n_val) * itemsize
    with open(train, "rb+") as src, open(val, "wb") as dst:
        src.seek(start)
        while block := src.read(1 << 24):
            dst.write(block)
        src.truncate(start)
    return n_val
