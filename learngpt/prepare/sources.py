"""The input text files: which ones, checked up front, and read back in pieces.

`check_sources` reads every file once before anything is encoded (hashing it on the way) so
that a missing, empty, binary or non-UTF-8 file, or one that is not a regular file (a FIFO, a
device, /dev/stdin), stops `learngpt prepare` before it writes. `text_pieces` reads it again to
encode it, hashing the very bytes it hands out, and refuses a file whose bytes changed between.
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
from learngpt.fileio import open_regular
from learngpt.prepare.cuts import MAX_UNCUT, Cutter

READ_BYTES = 1 << 22  # 4 MiB at a time while checking


@dataclass
class Source:
    """One input file: its path, size in bytes, SHA-256 and the characters it uses."""

    path: Path
    size: int = 0
    sha256: str = ""
    chars: set[str] = field(default_factory=set)
    forced_cuts: int = 0  # cuts made where no safe one was found (cuts.py: MAX_UNCUT)


def input_paths(specs: list[str]) -> list[Path]:
    """Files, directories (their files, sorted, not recursing) and globs, in the order given."""
    paths: list[Path] = []
    for spec in specs:
        if not spec.strip():  # Path("") is the current directory: never what was meant
            raise UserError(
                f"--data {spec!r} is an empty path; name text files, a directory or a glob"
            )
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


def _decoded_blocks(source: Source, size: int, seen: Source | None = None) -> Iterator[str]:
    """The file's text, block by block, checked (a regular file, UTF-8, no NUL byte), measured
    and hashed into `source`; a UserError if its bytes are not those `seen` had (if given)."""
    path, digest = source.path, hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    with data_file_errors(path), open_regular(path, "data file") as f:
        while block := f.read(size):
            where = source.size
            source.size += len(block)
            digest.update(block)
            if seen is not None and source.size > seen.size:
                raise _changed(path)
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
    source.sha256 = digest.hexdigest()
    if seen is not None and (source.size, source.sha256) != (seen.size, seen.sha256):
        raise _changed(path)


def _changed(path: Path) -> UserError:
    return UserError(
        f"data file {path} changed while prepare read it (its bytes differ from the first "
        "read's); run prepare again once nothing writes to it"
    )


def _final(decoder, path: Path, size: int) -> str:
    try:
        return decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UserError(
            f"data file {path} is not UTF-8 text (it ends inside a character, at offset {size}); "
            "convert it to UTF-8 first"
        ) from None


def text_pieces(source: Source, piece_chars: int, cutter: Cutter) -> Iterator[str]:
    """The text of a checked file in pieces of about piece_chars characters, each ending at a
    safe cut (cuts.py), or at a forced one after MAX_UNCUT characters without a safe cut
    (counted in source.forced_cuts). The file is read once, in blocks: each character is
    searched for cuts once, whatever piece_chars; the bytes are hashed as they are read, and a
    file that changed since check_sources read it is a UserError."""
    pieces = _Pieces(cutter, piece_chars)
    read_size = max(1, min(piece_chars, MAX_UNCUT))  # a block never hides a run over MAX_UNCUT
    for block in _decoded_blocks(Source(source.path), read_size, seen=source):
        yield from pieces.add(block)
    source.forced_cuts = pieces.forced
    if pieces.pending:
        yield "".join(pieces.pending)


class _Pieces:
    """The cutting of one text, block by block (positions are in characters from its start).

    Positions up to `decided` were searched for safe cuts (the ones after need `margin`
    characters more); `last` is the last cut found or forced; `pending` holds the text from
    `start`, the end of the last piece handed out.
    """

    def __init__(self, cutter: Cutter, piece_chars: int):
        self.cutter, self.piece_chars = cutter, piece_chars
        self.pending: list[str] = []
        self.start = self.decided = self.last = self.total = self.forced = 0
        self.tail = ""  # the characters before the block, to look around a cut near its start

    def add(self, block: str) -> Iterator[str]:
        window, offset = self.tail + block, self.total - len(self.tail)  # window[0] at offset
        self.total += len(block)
        self.pending.append(block)
        limit = self.total - self.cutter.margin
        if limit > self.decided:
            yield from self._cut(window, offset, limit)
            self.decided = limit
        self.tail = window[-(2 * self.cutter.margin + 2) :]

    def _cut(self, window: str, offset: int, limit: int) -> Iterator[str]:
        """Cut in (decided, limit]: forced cuts first (a run since `last` over MAX_UNCUT), then
        at the last safe cut, if the piece is long enough."""
        lo, hi = self.decided - offset, limit - offset
        first = self.cutter.cuts(window, lo, hi, last=False)
        bound = limit if first is None else first + offset
        while bound - self.last > MAX_UNCUT:  # no safe cut in (last, last + MAX_UNCUT]
            self.last = self.cutter.forced(window, self.last + MAX_UNCUT - offset) + offset
            self.forced += 1
            yield self._piece(self.last)
        if first is not None:
            self.last = self.cutter.cuts(window, lo, hi, last=True) + offset
            if self.last - self.start >= self.piece_chars:
                yield self._piece(self.last)

    def _piece(self, end: int) -> str:
        """The text from `start` to `end`; `pending` keeps the rest."""
        text = "".join(self.pending)
        self.pending = [text[end - self.start :]]
        piece, self.start = text[: end - self.start], end
        return piece
