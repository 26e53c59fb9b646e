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
from learngpt.fileio import read_text

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


GPT2Parts = tuple[list[int], list[tuple[Pair, int]], dict[str, int]]


def read_gpt2_files(vocab_path: str | Path, merges_path: str | Path) -> GPT2Parts:
    """(byte_ids, merges, special_tokens) of a GPT-2 tokenizer, in GPT-2's own token ids.

    byte_ids[b] is the id of the token for byte b; merges are ((left, right), merged id), first
    learned first; special_tokens are the vocabulary's other entries (GPT-2's <|endoftext|>),
    which the text names literally.
    """
    vocab_path, merges_path = Path(vocab_path), Path(merges_path)
    vocab = read_json(vocab_path)
    try:
        lines = read_text(merges_path, "merges file").splitlines()
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {merges_path} ({exc.strerror})") from None
    pairs = [
        (f"{merges_path} line {number}", line.split(" "))
        for number, line in enumerate(lines, 1)
        if line.strip() and not (number == 1 and line.startswith("#version"))
    ]
    return gpt2_parts(vocab, pairs, str(vocab_path))


def read_tokenizer_json(path: str | Path) -> tuple[GPT2Parts, bool]:
    """The parts of a Hugging Face tokenizer.json that holds GPT-2's kind of byte-level BPE, and
    whether it splits the text by GPT-2's pattern first (ByteLevel's use_regex)."""
    path = Path(path)
    data = read_json(path)
    model, pre = data.get("model") or {}, data.get("pre_tokenizer") or {}
    plain = (
        model.get("type", "BPE") == "BPE"
        and not model.get("continuing_subword_prefix")
        and not model.get("end_of_word_suffix")
        and not model.get("ignore_merges")
        and data.get("normalizer") is None
        and pre.get("type") == "ByteLevel"
        and not pre.get("add_prefix_space")
        and isinstance(model.get("vocab"), dict)
        and isinstance(model.get("merges"), list)
    )
    if not plain:
        raise UserError(f"{path} is not a GPT-2 style byte-level BPE tokenizer")
    pairs = [  # "a b" in older files, ["a", "b"] in newer ones
        (f"{path} merge {n}", merge.split(" ") if isinstance(merge, str) else merge)
        for n, merge in enumerate(model["merges"], 1)
    ]
    vocab = dict(model["vocab"])
    try:
        vocab |= {added["content"]: added["id"] for added in data.get("added_tokens", [])}
    except (KeyError, TypeError):
        raise UserError(f"{path}: its added_tokens are malformed") from None
    return gpt2_parts(vocab, pairs, str(path)), pre.get("use_regex", True)


def read_json(path: Path) -> dict:
    """A file's JSON object; UserError naming the file if it is missing or malformed."""
    try:
        data = json.loads(read_text(path, "file"))
    except FileNotFoundError:
        raise UserError(
            f"{path} is missing; a Hugging Face GPT-2 directory (as save_pretrained "
            "writes it) holds config.json, the weights, and tokenizer.json or vocab.json"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror})") from None
    except ValueError as exc:
        raise UserError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a JSON object")
    return data


def gpt2_parts(vocab: dict, pairs: list[tuple[str, list]], source: str) -> GPT2Parts:
    """byte_ids, merges and special tokens from the token strings: vocab (string -> id) and
    the merges, each (where it was read, [left string, right string])."""
    if not all(type(i) is int for i in vocab.values()):
        raise UserError(f"{source} must map token strings to integer ids")
    missing = [b for b, char in byte_to_char().items() if char not in vocab]
    if missing:
        raise UserError(f"{source} lacks the token of byte {missing[0]}; it is not byte-level")
    byte_ids = [vocab[byte_to_char()[b]] for b in range(256)]
    merges, merged = [], set()
    for where, parts in pairs:
        known = len(parts) == 2 and all(isinstance(p, str) and p in vocab for p in parts)
        if not (known and "".join(parts) in vocab):
            raise UserError(f"{where} is not a merge of two tokens of the vocabulary: {parts!r}")
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
