"""The input text files: which ones, checked up front, and read back in pieces.

`check_sources` reads every file once before anything is encoded (hashing it on the way) so
that a missing, empty, binary or non-UTF-8 file stops `learngpt prepare` before it writes.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from learngpt.data import data_file_errors
from learngpt.errors import UserError
from learngpt.prepare.cuts import Cutter

READ_BYTES = 1 << 22  # 4 MiB at a time while checking


@dataclass
class Source:
    """One input file: its path, size in bytes, SHA-256 and the characters it uses."""

    path: Path
    size: int = 0
    sha256: str = ""
    chars: set[str] = field(default_factory=set)


def input_paths(specs: list[str]) -> list[Path]:
    """Files, directories (their files, sorted, not recursing) and globs, in the order given."""
    paths: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif any(ch in spec for ch in "*?[") and not path.exists():
            matches = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
            if not matches:
                raise UserError(f"--data {spec} matches no file; check the pattern")
            paths += matches
        else:
            paths.append(path)
    if not paths:
        raise UserError("--data names no text file; pass files, a directory or a glob")
    return paths


def check_sources(paths: list[Path], want_chars: bool = False) -> list[Source]:
    """Read every file once: a UserError names the first that is unusable; else their facts."""
    sources = []
    for path in paths:
        source = Source(path)
        for text in _decoded_blocks(source, READ_BYTES):
            if want_chars:
                source.chars.update(text)
        sources.append(source)
    return sources


def _decoded_blocks(source: Source, size: int, hashed: bool = True) -> Iterator[str]:
    """The file's text, block by block, checked (UTF-8, no NUL byte), measured and hashed."""
    path, digest = source.path, hashlib.sha256() if hashed else None
    decoder = codecs.getincrementaldecoder("utf-8")()
    with data_file_errors(path), open(path, "rb") as f:
        while block := f.read(size):
            where = source.size
            source.size += len(block)
            if digest is not None:
                digest.update(block)
            if b"\0" in block:
                raise UserError(
                    f"data file {path} looks binary (a NUL byte at offset "
                    f"{where + block.index(0)}); pass UTF-8 text files only"
                )
            try:
                yield decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise UserError(
                    f"data file {path} is not UTF-8 text (bad byte near offset "
                    f"{where + max(exc.start, 0)}); convert it to UTF-8 first"
                ) from None
        yield _final(decoder, path, source.size)
    if source.size == 0:
        raise UserError(f"data file {path} is empty; pass files with some text in them")
    source.sha256 = digest.hexdigest() if digest is not None else ""


def _final(decoder, path: Path, size: int) -> str:
    try:
        return decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UserError(
            f"data file {path} is not UTF-8 text (it ends inside a character, at offset {size}); "
            "convert it to UTF-8 first"
        ) from None


def text_pieces(path: Path, piece_bytes: int, cut: Cutter) -> Iterator[str]:
    """The file's text in pieces of about piece_bytes, each ending where `cut` says it may.

    A piece grows past piece_bytes only when no safe cut shows up (a very long line).
    """
    carry = ""
    for text in _decoded_blocks(Source(path), piece_bytes, hashed=False):  # hashed when checked
        text = carry + text
        at = cut(text)
        if at > 0:
            yield text[:at]
        carry = text[at:]
    if carry:
        yield carry
