"""One generation request: its checked parameters, and the work that streams its events.

`parse_request(body)` turns the JSON body of POST /api/generate into a `Request` or raises
`BadRequest` (a 4xx status and a message). `run_generation(...)` runs in a worker thread: it
calls `emit(event, data)` once with "start", once per new token with "token", optionally with
"attention", and finally with "done" or "error"; it stops early when `stop` is set (the client
went away).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from learngpt.engine import Sampling, TextDecoder, device_of, sample
from learngpt.errors import UserError
from learngpt.model import GPT
from learngpt.web.attention import attention_maps
from learngpt.web.models import Served

MAX_PROMPT_CHARS = 2000
MAX_NEW_TOKENS = 1000
ATTENTION_TOKENS = 64  # the attention map covers at most the text's last 64 tokens


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    prompt: str
    sampling: Sampling = dataclasses.field(default_factory=Sampling)
    run: str | None = None  # None: the first model
    attention: bool = False  # also send the attention weights of the generated text


# A request's fields: the prompt, the sampling settings (Sampling's, as `learngpt sample` takes
# them; the KV cache is the server's business), which run, and whether to send attention.
SAMPLING_FIELDS = [f.name for f in dataclasses.fields(Sampling) if f.name != "kv_cache"]
FIELDS = ["prompt", *SAMPLING_FIELDS, "run", "attention"]


# Any number a request names lies within these bounds (a seed is 64 bits); a larger one, NaN or
# an infinity is a 422, never an OverflowError deep in the generation.
NUMBER_BOUND = 2**63


def _number(name: str, value: Any, kind: type, optional: bool) -> Any:
    if value is None and optional:
        return None
    ok = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
    if not ok:
        what = "an integer" if kind is int else "a number"
        raise BadRequest(422, f"'{name}' must be {what}{' or null' if optional else ''}")
    if not -NUMBER_BOUND <= value < NUMBER_BOUND:  # False for NaN too
        shown = str(value) if len(str(value)) <= 30 else str(value)[:20] + "..."
        raise BadRequest(422, f"'{name}' is out of range: {shown}")
    return kind(value)


def json_int(digits: str) -> int | float:
    """json.loads's parse_int: an integer too long for any field is infinite (a 422 later),
    rather than a 4300-digit conversion error or a slow parse."""
    return int(digits) if len(digits) <= 30 else math.inf


def parse_request(body: Any) -> Request:
    """The checked parameters of a generation request; BadRequest says what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest(400, 'the body must be a JSON object such as {"prompt": "ROMEO:"}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(
            422, f"unknown field '{unknown[0]}'; known fields are: {', '.join(FIELDS)}"
        )
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise BadRequest(422, "'prompt' must be a string (it may be empty)")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadRequest(
            413, f"'prompt' has {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}"
        )
    given = {name: body.get(name, getattr(Sampling(), name)) for name in SAMPLING_FIELDS}
    sampling = Sampling(
        max_new_tokens=_number("max_new_tokens", given["max_new_tokens"], int, False),
        temperature=_number("temperature", given["temperature"], float, False),
        top_k=_number("top_k", given["top_k"], int, True),
        top_p=_number("top_p", given["top_p"], float, True),
        seed=_number("seed", given["seed"], int, False),
    )
    request = Request(prompt, sampling, body.get("run"), body.get("attention", False))
    if not 0 <= sampling.max_new_tokens <= MAX_NEW_TOKENS:
        raise BadRequest(
            422, f"'max_new_tokens' must be in 0 .. {MAX_NEW_TOKENS}, got {sampling.max_new_tokens}"
        )
    try:
        sampling.check()
    except UserError as exc:
        raise BadRequest(422, str(exc)) from None
    if request.run is not None and not isinstance(request.run, str):
        raise BadRequest(422, "'run' must be the name of a run (GET /api/runs lists them)")
    if not isinstance(request.attention, bool):
        raise BadRequest(422, "'attention' must be true or false")
    return request


def attention_event(model, tokenizer, ids: list[int]) -> dict[str, Any]:
    """The attention weights of every layer and head over the text's last tokens."""
    window = ids[-min(ATTENTION_TOKENS, model.config.block_size) :]
    maps = attention_maps(model, torch.tensor([window], device=device_of(model)))
    return {
        "tokens": [tokenizer.decode([t]) for t in window],
        # layers x heads x (T, T), rounded: the page draws them, 3 decimals are plenty
        "layers": [(m.double() * 1000).round().div(1000).tolist() for m in maps],
    }


def run_generation(
    served: Served,
    request: Request,
    prompt_ids: list[int],
    emit: Callable[[str, dict[str, Any]], None],
    stop: threading.Event,
) -> str:
    """Generate in this (worker) thread, emitting events: "completed", "cancelled" or "failed"."""
    if stop.is_set():  # the client left while the request waited for a worker
        return "cancelled"
    model, tokenizer = served.model, served.tokenizer
    try:
        emit("start", {"run": served.name, "prompt": tokenizer.decode(prompt_ids)})
        # the course's models have no KV cache
        settings = dataclasses.replace(request.sampling, kv_cache=isinstance(model, GPT))
        steps = sample(model, prompt_ids, settings)
        decoder, started, count = TextDecoder(tokenizer, prompt_ids), time.perf_counter(), 0
        for token in steps:
            if stop.is_set():
                steps.close()
                return "cancelled"
            count += 1
            token_id = int(token[0])
            emit("token", {"id": token_id, "text": decoder.push(token_id)})
        seconds = time.perf_counter() - started
        if request.attention:
            emit("attention", attention_event(model, tokenizer, decoder.ids))
        emit(
            "done",
            {
                "text": decoder.flush(),
                "tokens": count,
                "seconds": round(seconds, 3),
                "tokens_per_s": round(count / seconds, 1) if seconds else None,
            },
        )
        return "completed"
    except Exception as exc:  # the stream has started: report in-band, keep the server up
        message = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        emit("error", {"error": message})
        return "failed"
