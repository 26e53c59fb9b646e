"""GPT-2's tokenizer files, vocab.json and merges.txt, read and written.

GPT-2 writes every token as a printable string: each byte becomes one visible character
(`byte_to_char`: the printable Latin-1 bytes stand for themselves, the rest, space and newline
among them, move to U+0100 onwards, so a space reads "Ġ"). vocab.json maps each token's string
to its id; merges.txt lists the merges, first learned first, as the two parts' strings.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from learngpt.errors import UserError

Pair = tuple[int, int]


@functools.cache
def byte_to_char() -> dict[int, str]:
    """GPT-2's bytes_to_unicode: one printable character for each of the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars, moved = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + moved)
            moved += 1
    return chars


def token_string(data: bytes) -> str:
    """A token's bytes as GPT-2 writes them in vocab.json and merges.txt."""
    chars = byte_to_char()
    return "".join(chars[b] for b in data)


def read_gpt2_files(
    vocab_path: str | Path, merges_path: str | Path
) -> tuple[list[int], list[tuple[Pair, int]], dict[str, int]]:
    """(byte_ids, merges, special_tokens) of a GPT-2 tokenizer, in GPT-2's own token ids.

    byte_ids[b] is the id of the token for byte b; merges are ((left, right), merged id), first
    learned first; special_tokens are the vocabulary's other entries (GPT-2's <|endoftext|>),
    which the text names literally.
    """
    vocab_path, merges_path = Path(vocab_path), Path(merges_path)
    try:
        vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        lines = merges_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(
            f"cannot read the GPT-2 tokenizer file {exc.filename} ({exc.strerror})"
        ) from None
    except ValueError as exc:
        raise UserError(f"{vocab_path} is not a JSON vocabulary ({exc})") from None
    if not isinstance(vocab, dict) or not all(type(i) is int for i in vocab.values()):
        raise UserError(f"{vocab_path} must map token strings to integer ids")
    missing = [b for b, char in byte_to_char().items() if char not in vocab]
    if missing:
        raise UserError(f"{vocab_path} lacks the token of byte {missing[0]}; it is not byte-level")
    byte_ids = [vocab[byte_to_char()[b]] for b in range(256)]
    merges, merged = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2 or any(p not in vocab for p in parts) or "".join(parts) not in vocab:
            raise UserError(
                f"{merges_path} line {number} is not a merge of two tokens of {vocab_path.name}: "
                f"{line[:40]!r}"
            )
        merges.append(((vocab[parts[0]], vocab[parts[1]]), vocab["".join(parts)]))
        merged.add("".join(parts))
    known = merged | set(byte_to_char().values())
    special_tokens = {text: i for text, i in vocab.items() if text not in known}
    return byte_ids, merges, special_tokens


def gpt2_files_text(
    vocab: list[bytes], merges: list[tuple[Pair, int]], special_tokens: dict[str, int]
) -> tuple[str, str]:
    """The text of vocab.json and merges.txt for a byte-level BPE (token id -> bytes in vocab).

    Raises ValueError if two tokens have the same bytes: vocab.json cannot tell them apart.
    """
    strings = {
        token_string(data): i for i, data in enumerate(vocab) if i not in special_tokens.values()
    }
    strings.update(special_tokens)
    if len(strings) != len(vocab):
        raise ValueError("two of its tokens stand for the same bytes")
    lines = [f"{token_string(vocab[a])} {token_string(vocab[b])}" for (a, b), _ in merges]
    return json.dumps(strings, ensure_ascii=False), "#version: 0.2\n" + "\n".join(lines) + "\n"
