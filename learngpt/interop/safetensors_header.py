"""The tensor shapes a .safetensors file holds, read from its header without loading a tensor.

The format: 8 bytes (little-endian u64) giving the header's length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data.
Every shape is checked against the bytes the file really has, so the shapes bound what loading
the file can allocate: a config.json checked against them cannot ask for more.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from learngpt.errors import UserError
from learngpt.fileio import SMALL_FILE, check_regular

WEIGHTS_FILE = 1 << 40  # a weights file may be large; the limit only refuses the absurd
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1}
DTYPE_BYTES |= {"U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """{tensor name: shape} of the safetensors file `path`; UserError if the header is malformed
    or claims more bytes than the file has."""
    size = check_regular(path, "weights file", WEIGHTS_FILE).st_size
    bad = f"{path} is not a readable safetensors file"
    with open(path, "rb", buffering=0) as f:
        length = int.from_bytes(f.read(8), "little")
        if size < 8 or length > min(size - 8, SMALL_FILE):
            raise UserError(f"{bad} (its header length {length} does not fit the file)")
        try:
            header = json.loads(os.read(f.fileno(), length) if length else b"")
        except ValueError as exc:
            raise UserError(f"{bad} (its header is not JSON: {exc})") from None
    if not isinstance(header, dict):
        raise UserError(f"{bad} (its header is not a JSON object)")
    data_bytes = size - 8 - length
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = _checked_entry(entry, data_bytes)
        if shape is None:
            raise UserError(f"{bad} (tensor {name!r} has a malformed or oversized entry)")
        shapes[name] = shape
    return shapes


def _checked_entry(entry: object, data_bytes: int) -> tuple[int, ...] | None:
    """The shape of one header entry, or None if it does not describe bytes the file has."""
    if not isinstance(entry, dict):
        return None
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    itemsize = DTYPE_BYTES.get(entry.get("dtype"))
    if not (itemsize and isinstance(shape, list) and isinstance(offsets, list)):
        return None
    numbers = [*shape, *offsets]
    if len(offsets) != 2 or not all(type(n) is int and n >= 0 for n in numbers):
        return None
    begin, end = offsets
    if not begin <= end <= data_bytes or math.prod(shape) * itemsize != end - begin:
        return None
    return tuple(shape)
