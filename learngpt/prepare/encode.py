"""Encoding pieces of text in a pool of processes, the results back in order, memory bounded.

Each worker builds the tokenizer's fast encoder once (learngpt/tokenizers/fast.py). At most
2 pieces per worker are in flight, so the memory held is a few pieces, whatever the corpus.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from learngpt.tokenizers import Tokenizer
from learngpt.tokenizers.fast import FastEncoder

IN_FLIGHT_PER_WORKER = 2

_worker: dict[str, Any] = {}  # in each worker process: its encoder and the ids' dtype


def _start_worker(tokenizer_dict: dict[str, Any], dtype: str) -> None:
    kind = tokenizer_dict["kind"]
    classes = {cls.kind: cls for cls in _tokenizer_classes()}
    fields = {k: v for k, v in tokenizer_dict.items() if k != "kind"}
    _worker["encoder"] = FastEncoder(classes[kind].from_dict(fields))
    _worker["dtype"] = np.dtype(dtype)


def _tokenizer_classes() -> list[type]:
    from learngpt.tokenizers import BPETokenizer, CharTokenizer

    return [BPETokenizer, CharTokenizer]


def _encode(text: str) -> np.ndarray:
    return _worker["encoder"].encode(text, _worker["dtype"])


def encode_pieces(
    pieces: Iterable[Any], tokenizer: Tokenizer, dtype: str, workers: int
) -> Iterator[tuple[Any, np.ndarray]]:
    """(item, ids) for each item of `pieces` (an object with a `text`), in the given order."""
    args = ({"kind": tokenizer.kind, **tokenizer.to_dict()}, dtype)
    FastEncoder(tokenizer)  # builds (and caches) tiktoken's pattern once: forked workers share it
    if workers <= 1:  # no pool: the same encoder in this process
        _start_worker(*args)
        for item in pieces:
            yield item, _encode(item.text)
        return
    context = multiprocessing.get_context("fork")  # the workers start at once, sharing memory
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=args) as pool:
        pending: deque = deque()
        for item in pieces:
            pending.append((item, pool.submit(_encode, item.text)))
            item.text = ""  # the worker has its copy: drop ours
            if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
