"""Generation: continue a prompt token by token, with a KV cache, sampling settings and streaming.

Like nanochat's engine, this side owns the cache and imports the model, never the reverse.

`generate(model, idx, n)` yields new token ids; `stream_text` turns them into printable text as
they come (a byte-level BPE may need two tokens for one character). `Sampling` is what a person
asks of a generation (`learngpt sample`'s flags, the web page's request), checked in one place;
`sample(model, prompt_ids, settings)` generates as it says.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from learngpt.errors import UserError
from learngpt.model import GPT, GPTConfig
from learngpt.tokenizers import Tokenizer


class KVCache:
    """Every layer's keys and values for the positions seen so far, in preallocated buffers."""

    def __init__(self, config: GPTConfig, batch_size: int, device, dtype):
        shape = (batch_size, config.n_heads, config.block_size, config.embed_size // config.n_heads)
        self.layers = [
            (
                torch.zeros(shape, device=device, dtype=dtype),
                torch.zeros(shape, device=device, dtype=dtype),
            )
            for _ in range(config.n_layers)
        ]
        # ffwd_conv: each layer's last K-1 inputs of its convolution
        tail = (batch_size, max(config.ffwd_conv - 1, 0), config.embed_size)
        self.conv_tails = [
            torch.zeros(tail, device=device, dtype=dtype) for _ in range(config.n_layers)
        ]
        self.length = 0  # positions 0 .. length - 1 are filled

    def reset(self) -> None:
        self.length = 0  # the buffers are simply overwritten from position 0 again


def generate(
    model: GPT,
    idx: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    use_kv_cache: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Continue the contexts idx (B, T), yielding the (B,) new token ids one step at a time.

    The model runs in eval mode meanwhile (no dropout). temperature 0 picks the most likely
    token (greedy); otherwise the logits are divided by the temperature, cut to the top_k
    tokens and/or the top_p probability mass (filter_logits), and sampled with `generator`.

    Sliding context. The model sees at most block_size tokens, at positions 0 .. block_size-1.
    A prompt longer than that is cut to its last block_size tokens. When the window is full
    and one more token arrives, the window restarts from its last block_size // 2 tokens
    (at positions 0 ..), then fills up again. Sliding by one token instead would move every
    kept token to a new position, so a cache (whose keys were computed at the old
    positions) would have to be rebuilt at every step. With the half-window rule a cache is
    rebuilt once every block_size // 2 tokens, and with or without the cache the model sees
    exactly the same tokens at the same positions: the same seed gives the same text. (The
    two compute the same logits up to float rounding, about 1e-6; a draw could only differ
    if its random number fell that close to a boundary between two tokens.)
    """
    # Checked now, not at the first next(): generate() returns a generator.
    if idx.dim() != 2 or idx.shape[1] == 0:
        raise UserError("generate needs a prompt of shape (B, T) with T >= 1 tokens")
    Sampling(max_new_tokens, temperature, top_k, top_p).check()
    return _generate(model, idx, max_new_tokens, temperature, top_k, top_p, use_kv_cache, generator)


@torch.inference_mode()  # no autograd bookkeeping at all: less work per small op than no_grad
def _generate(model, idx, max_new_tokens, temperature, top_k, top_p, use_kv_cache, generator):
    block_size = model.config.block_size
    keep = max(1, block_size // 2)
    # The tokens the model sees live in one preallocated buffer, window[:, :length] (no
    # torch.cat per token), and the new token never leaves the device: nothing here waits for
    # the accelerator, so it runs ahead while the caller copies tokens out (token_chunks).
    prompt = idx[:, -block_size:]
    window = torch.empty(idx.shape[0], block_size + 1, dtype=idx.dtype, device=idx.device)
    length = prompt.shape[1]
    window[:, :length] = prompt
    cache = None
    if use_kv_cache:
        dtype = model.token_embedding.weight.dtype
        cache = KVCache(model.config, idx.shape[0], idx.device, dtype)
    was_training = model.training
    model.eval()
    try:
        for _ in range(max_new_tokens):
            if cache is not None:  # only the positions the cache has not seen
                logits, _ = model(window[:, cache.length : length], cache=cache, last_only=True)
            else:  # the whole window, every time
                logits, _ = model(window[:, :length], last_only=True)
            next_id = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)
            yield next_id  # (B,)
            window[:, length] = next_id
            length += 1
            if length > block_size:  # full: restart from the last half
                window[:, :keep] = window[:, length - keep : length].clone()
                length = keep
                if cache is not None:
                    cache.reset()
    finally:
        model.train(was_training)


def token_chunks(steps: Iterator[torch.Tensor], chunk: int = 16) -> Iterator[int]:
    """The first row's token ids from generate()'s steps, as ints, copied out `chunk` at a time.

    Turning each token into an int on its own would make the host wait for the device at every
    token; collecting `chunk` of them on the device and copying them at once lets a GPU run
    ahead. (On a CPU the copy is free and chunk=1 streams each token as soon as it exists.)
    """
    pending = []
    for token in steps:
        pending.append(token[0])
        if len(pending) == chunk:
            yield from torch.stack(pending).tolist()
            pending = []
    if pending:
        yield from torch.stack(pending).tolist()


# Below this temperature, sampling is greedy: the limit as the temperature goes to 0 (dividing
# the logits by a smaller one would overflow float32 and make the probabilities NaN).
MIN_TEMPERATURE = 1e-6


@dataclass(frozen=True)
class Sampling:
    """How to continue a prompt: the settings `learngpt sample` and the web page take."""

    max_new_tokens: int = 200
    temperature: float = 1.0  # 0: greedy
    top_k: int | None = None  # sample from the k likeliest tokens
    top_p: float | None = None  # ... from the likeliest with this much probability (nucleus)
    seed: int = 0  # same seed, same text
    kv_cache: bool = True  # (the course's models have none)

    def problem(self) -> tuple[str, str] | None:
        """The first setting that means nothing, as (key, what is wrong), or None."""
        checks = [
            (
                "max_new_tokens",
                self.max_new_tokens >= 0,
                f"must be >= 0, got {self.max_new_tokens}",
            ),
            (
                "temperature",
                self.temperature >= 0 and math.isfinite(self.temperature),
                f"must be a finite number >= 0 (0 is greedy), got {self.temperature}",
            ),
            (
                "top_k",
                self.top_k is None or self.top_k >= 1,
                f"must be a positive integer, got {self.top_k}",
            ),
            (
                "top_p",
                self.top_p is None or 0 < self.top_p <= 1,
                f"must be in (0, 1], got {self.top_p}",
            ),
        ]
        return next(((key, what) for key, ok, what in checks if not ok), None)

    def check(self) -> None:
        """Raise UserError naming the first setting that means nothing."""
        problem = self.problem()
        if problem:
            raise UserError(f"{problem[0]} {problem[1]}")


def sample(
    model: torch.nn.Module,
    prompt_ids: list[int],
    settings: Sampling,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """generate() as `settings` say, from one prompt, on the model's device: the (1,) new ids.

    `generator`: draw from this one (several samples from one seed), else from a new one seeded
    with settings.seed.
    """
    device = device_of(model)
    if generator is None:
        generator = torch.Generator(device).manual_seed(settings.seed)
    context = torch.tensor([prompt_ids], dtype=torch.long, device=device)  # (1, T)
    s = settings
    return generate(
        model, context, s.max_new_tokens, s.temperature, s.top_k, s.top_p, s.kv_cache, generator
    )


def device_of(model: torch.nn.Module) -> torch.device:
    """Where the model's tensors are (the CPU for a model without any)."""
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def filter_logits(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Logits (B, V) divided by temperature, with the tokens that may not be drawn set to -inf.

    top_k keeps the k most likely tokens; top_p keeps the most likely tokens until their
    probabilities add up to at least top_p (nucleus sampling; the most likely token always
    stays, however small top_p). temperature must be > 0 here (0, greedy, needs no filter); one
    below MIN_TEMPERATURE is taken as MIN_TEMPERATURE.
    """
    logits = logits / max(temperature, MIN_TEMPERATURE)
    if top_k is not None and top_k < logits.shape[-1]:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = F.softmax(sorted_logits, dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # probability of the more likely tokens
        drop_sorted = mass_before >= top_p  # already enough mass before this token
        drop_sorted[:, 0] = False  # the likeliest stays (a top_p below float32's range is 0)
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The next token id (B,) for each row of logits (B, V): argmax if temperature is 0 (or below
    MIN_TEMPERATURE, where sampling is greedy in all but float rounding)."""
    if temperature < MIN_TEMPERATURE:
        return logits.argmax(dim=-1)
    probs = F.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]


def unknown_chars(tokenizer: Tokenizer, text: str) -> list[str]:
    """Characters of `text` the tokenizer cannot encode (a byte-level BPE knows them all)."""
    return tokenizer.unknown_chars(text) if hasattr(tokenizer, "unknown_chars") else []


def encode_prompt(tokenizer: Tokenizer, prompt: str, drop_unknown: bool) -> list[int]:
    """The prompt's token ids; unknown characters are an error naming them, or dropped."""
    unknown = unknown_chars(tokenizer, prompt)
    if unknown and not drop_unknown:
        shown = ", ".join(repr(c) for c in unknown)
        raise UserError(
            f"the prompt has characters the tokenizer does not know: {shown}; "
            "remove them or pass --drop-unknown"
        )
    prompt = "".join(ch for ch in prompt if ch not in unknown)
    if prompt:
        return tokenizer.encode(prompt)
    # no prompt: start from a new line if the vocabulary has one, else from token 0
    return [0] if unknown_chars(tokenizer, "\n") else tokenizer.encode("\n")


class TextDecoder:
    """Text of a growing token sequence, handed out piece by piece as it becomes printable.

    Decoding token by token is wrong for byte-level BPE, where one character may span two
    tokens; so decode everything so far and hand out what was added, holding back an incomplete
    character (shown as U+FFFD) until the next token completes it.
    """

    def __init__(self, tokenizer: Tokenizer, prompt_ids: list[int]):
        self.tokenizer = tokenizer
        self.ids = list(prompt_ids)
        self.shown = len(tokenizer.decode(self.ids))

    def push(self, token: int) -> str:
        """The text that `token` makes printable (may be empty)."""
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids)
        end = len(text.rstrip("\ufffd"))
        if end <= self.shown:
            return ""
        piece, self.shown = text[self.shown : end], end
        return piece

    def flush(self) -> str:
        """Whatever is still held back (an incomplete character at the very end)."""
        text = self.tokenizer.decode(self.ids)
        piece, self.shown = text[self.shown :], len(text)
        return piece


def stream_text(tokenizer: Tokenizer, prompt_ids: list[int], new_ids: Iterator[int]):
    """Yield the text of each new token as soon as it is printable (see TextDecoder)."""
    decoder = TextDecoder(tokenizer, prompt_ids)
    for token in new_ids:
        piece = decoder.push(token)
        if piece:
            yield piece
    rest = decoder.flush()
    if rest:
        yield rest
