"""Named mistakes: when a step's test fails, which of the mistakes learners make is it?

Each probe below is one mistake: it runs the learner's class on a small input and says whether
the output is exactly what that mistake computes (a formula of its own, not the learner's code
or the reference's). `diagnose(step, course)` tries the probes of the step, then of the steps it
builds on, and returns the first matching key; its message is `mistakes.<key>` in the catalog.
A probe that raises, or returns anything odd, simply does not match: nothing here may crash on
a learner's values. Probes never match correct code (tests/test_mistakes.py keeps to that).
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from learngpt.exercises import limits
from learngpt.exercises.syllabus import get_step

PROBE_S = 2.0  # a probe's time limit (the learner's code may loop forever)


@dataclass(frozen=True)
class Mistake:
    key: str  # the catalog says it: mistakes.<key>
    todo: str
    probe: Callable[[object], bool]

    @property
    def step(self) -> int:
        return int(self.todo.split("-")[0])


MISTAKES: list[Mistake] = []


def mistake(todo: str, name: str):
    def register(probe: Callable[[object], bool]) -> Callable[[object], bool]:
        MISTAKES.append(Mistake(f"{todo}.{name}", todo, probe))
        return probe

    return register


def get_mistake(key: str) -> Mistake:
    return next(m for m in MISTAKES if m.key == key)


def same(actual: object, expected: torch.Tensor, atol: float = 1e-4) -> bool:
    """`actual` is a tensor of `expected`'s shape and values (NaN where it has NaN)."""
    if not isinstance(actual, torch.Tensor) or actual.shape != expected.shape:
        return False
    a, e = actual.detach().double(), expected.detach().double()
    return bool(torch.allclose(a, e, atol=atol, rtol=1e-4, equal_nan=True))


def _matches(probe: Callable[[object], bool], course: object) -> bool:
    try:
        with (
            limits.deadline(PROBE_S),
            torch.random.fork_rng(),
            torch.no_grad(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            torch.manual_seed(0)
            return probe(course) is True
    except (Exception, limits.TimeLimit):  # the learner's code failing is no match
        return False


def diagnose(step: int, course: object) -> str | None:
    """The key of the one mistake that matches `course`'s classes, for a failure of `step`."""
    steps = [step, *reversed(get_step(step).needs)]
    for number in steps:
        for m in MISTAKES:
            if m.step == number and _matches(m.probe, course):
                return m.key
    return None


def diagnose_workspace(step: int) -> str | None:
    """`diagnose` on the learner's package (`mygpt`, importable where the check runs)."""
    try:
        course = importlib.import_module("mygpt")
    except Exception:
        return None
    return diagnose(step, course)


# ---- step 1: GPTVer1.generate ---------------------------------------------------------------


def _bigram(course, row: list[float]):
    """A GPTVer1 over len(row) tokens whose token 0 is followed by logits `row`."""
    model = course.GPTVer1(len(row), 8)
    model.token_embedding_table.weight.zero_()
    model.token_embedding_table.weight[0] = torch.tensor(row)
    return model


def _next_frequencies(course, row: list[float], n: int = 4000) -> torch.Tensor:
    out = _bigram(course, row).generate(torch.zeros(n, 1, dtype=torch.long), max_new_tokens=1)
    return torch.bincount(out[:, -1], minlength=len(row)).double() / n


ROW = [0.5, 1.0, 2.0, 3.0, 4.0]  # softmax is far from uniform and from ROW / sum(ROW)


@mistake("1-1", "argmax")
def _argmax(course) -> bool:
    return bool(_next_frequencies(course, ROW, 400)[4] == 1.0)


@mistake("1-1", "sampled_from_logits")
def _sampled_from_logits(course) -> bool:
    expected = torch.tensor(ROW, dtype=torch.double) / sum(ROW)
    return bool((_next_frequencies(course, ROW) - expected).abs().max() < 0.04)


@mistake("1-1", "softmax_over_the_batch")
def _softmax_over_the_batch(course) -> bool:
    # Softmax over the batch of identical rows makes every token equally likely.
    return bool((_next_frequencies(course, ROW) - 1 / len(ROW)).abs().max() < 0.04)


@mistake("1-1", "first_position")
def _first_position(course) -> bool:
    model = _bigram(course, [0.0] * 4)
    successor = torch.tensor([1, 2, 3, 0])
    model.token_embedding_table.weight.fill_(-1e4)
    model.token_embedding_table.weight[torch.arange(4), successor] = 0.0
    out = model.generate(torch.tensor([[0, 2]]), max_new_tokens=1)
    return out.shape == (1, 3) and int(out[0, -1]) == 1  # the row of token 0, not of token 2


@mistake("1-1", "context_not_kept")
def _context_not_kept(course) -> bool:
    out = _bigram(course, ROW).generate(torch.zeros(3, 4, dtype=torch.long), max_new_tokens=2)
    return isinstance(out, torch.Tensor) and out.shape in ((3, 2), (3, 1), (3, 5))


@mistake("1-1", "crop_context_unused")
def _crop_context_unused(course) -> bool:
    calls = []

    class Spy(course.GPTVer1):
        def crop_context(self, idx):
            calls.append(idx.shape)
            return idx[:, -1:]

    Spy(5, 2).generate(torch.zeros(1, 4, dtype=torch.long), max_new_tokens=2)
    return not calls


# ---- step 2: HeadVer1, GPTVer2.logits -------------------------------------------------------

X = (2, 5, 3)  # the probes' (B, T, C)


def _head1(course) -> tuple[torch.Tensor, object]:
    x = torch.randn(X)
    return x, course.HeadVer1()(x.clone())


def _counts(T: int) -> torch.Tensor:
    return torch.arange(1, T + 1, dtype=torch.float32)[None, :, None]


@mistake("2-1", "sum_instead_of_mean")
def _sum_instead_of_mean(course) -> bool:
    x, out = _head1(course)
    return same(out, x.cumsum(dim=1))


@mistake("2-1", "current_position_left_out")
def _current_left_out(course) -> bool:
    x, out = _head1(course)
    earlier = x.cumsum(dim=1)[:, :-1] / _counts(X[1] - 1)  # mean of x[:, :t] for t >= 1
    return isinstance(out, torch.Tensor) and out.shape == x.shape and same(out[:, 1:], earlier)


@mistake("2-1", "future_included")
def _future_included(course) -> bool:
    x, out = _head1(course)
    return same(out, x.mean(dim=1, keepdim=True).expand_as(x))


class _Recorder(nn.Module):
    """A contextualizer that adds 1 and remembers that it was called."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x + 1


@mistake("2-2", "contextualizer_unused")
def _contextualizer_unused(course) -> bool:
    recorder = _Recorder()
    model = course.GPTVer2(recorder, 7, 4, 6)
    logits = model.logits(torch.randint(7, (2, 4)))
    return isinstance(logits, torch.Tensor) and recorder.calls == 0


@mistake("2-2", "embed_unused")
def _embed_unused(course) -> bool:
    calls = []

    class Spy(course.GPTVer2):
        def embed(self, idx):
            calls.append(idx.shape)
            return super().embed(idx)

    recorder = _Recorder()
    Spy(recorder, 7, 4, 6).logits(torch.randint(7, (2, 4)))
    return recorder.calls > 0 and not calls  # self.token_embedding_table used directly


# ---- step 3: HeadVer2 -----------------------------------------------------------------------


def _head2(course) -> tuple[torch.Tensor, object]:
    x = torch.randn(X)
    return x, course.HeadVer2()(x.clone())


@mistake("3-1", "rows_not_normalised")
def _rows_not_normalised(course) -> bool:
    x, out = _head2(course)
    return same(out, x.cumsum(dim=1))


@mistake("3-1", "upper_triangle")
def _upper_triangle(course) -> bool:
    x, out = _head2(course)
    suffix = x.flip(1).cumsum(dim=1).flip(1) / _counts(X[1]).flip(1)
    return same(out, suffix) or same(out, x.flip(1).cumsum(dim=1).flip(1))


@mistake("3-1", "normalised_by_column")
def _normalised_by_column(course) -> bool:
    x, out = _head2(course)
    tril = torch.tril(torch.ones(X[1], X[1]))
    return same(out, (tril / tril.sum(dim=0, keepdim=True)) @ x)


# ---- step 4: HeadVer3 -----------------------------------------------------------------------

T4 = 5


def _masked(scores: torch.Tensor, hidden: torch.Tensor, fill: float = -math.inf, dim=-1):
    return F.softmax(scores.masked_fill(hidden, fill), dim=dim)


def _future(T: int, diagonal: int = 1) -> torch.Tensor:
    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=diagonal)


def _softmax_matches(course, expected: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    scores = torch.randn(2, T4, T4)
    return same(course.HeadVer3.masked_softmax(scores.clone()), expected(scores))


@mistake("4-1", "mask_inverted")
def _mask_inverted(course) -> bool:
    return _softmax_matches(course, lambda s: _masked(s, ~_future(T4)))


@mistake("4-1", "diagonal_hidden")
def _diagonal_hidden(course) -> bool:
    return _softmax_matches(course, lambda s: _masked(s, _future(T4, 0)))


@mistake("4-1", "softmax_over_rows")
def _softmax_over_rows(course) -> bool:
    return _softmax_matches(course, lambda s: _masked(s, _future(T4), dim=-2))


@mistake("4-1", "masked_with_zero")
def _masked_with_zero(course) -> bool:
    return _softmax_matches(course, lambda s: _masked(s, _future(T4), fill=0.0))


@mistake("4-1", "masked_after_softmax")
def _masked_after_softmax(course) -> bool:
    return _softmax_matches(course, lambda s: F.softmax(s, dim=-1).masked_fill(_future(T4), 0))


@mistake("4-2", "wei_not_kept")
def _wei_not_kept(course) -> bool:
    head = course.HeadVer3()
    out = head(torch.randn(X))
    return isinstance(out, torch.Tensor) and getattr(head, "wei", None) is None


# ---- step 5: HeadVer4 -----------------------------------------------------------------------


def _attention(course, scale: Callable[[int, int], float], masked: bool = True,
               values: str = "v", head_size: int = 4) -> bool:  # fmt: skip
    """HeadVer4's output is softmax(Q K^T * scale(C, hs)) @ values, masked or not."""
    B, T, C = 2, 6, 8
    head = course.HeadVer4(T, C, head_size)
    x = torch.randn(B, T, C)
    q, k, v = head.query(x), head.key(x), head.value(x)
    scores = q @ k.transpose(-2, -1) * scale(C, head_size)
    wei = _masked(scores, _future(T)) if masked else F.softmax(scores, dim=-1)
    return same(head(x.clone()), wei @ (v if values == "v" else x))


@mistake("5-1", "not_scaled")
def _not_scaled(course) -> bool:
    return _attention(course, lambda C, hs: 1.0)


@mistake("5-1", "scaled_by_embed_size")
def _scaled_by_embed_size(course) -> bool:
    return _attention(course, lambda C, hs: C**-0.5)


@mistake("5-1", "scaled_without_sqrt")
def _scaled_without_sqrt(course) -> bool:
    return _attention(course, lambda C, hs: 1 / hs)


@mistake("5-1", "not_masked")
def _not_masked(course) -> bool:
    return _attention(course, lambda C, hs: hs**-0.5, masked=False)


@mistake("5-1", "weights_times_x")
def _weights_times_x(course) -> bool:
    return _attention(course, lambda C, hs: hs**-0.5, values="x", head_size=8)


# ---- step 6: GPTVer3 ------------------------------------------------------------------------

T6, C6 = 10, 6


def _positions() -> torch.Tensor:
    return torch.arange(T6, dtype=torch.float32)[:, None]


@mistake("6-2", "divided_by_block_size")
def _divided_by_block_size(course) -> bool:
    expected = (_positions() / T6).expand(T6, C6)
    return same(course.GPTVer3.pos_encodings_v2(T6, C6), expected)


@mistake("6-3", "exponent_sign")
def _exponent_sign(course) -> bool:
    i = torch.arange(C6, dtype=torch.float32)
    expected = torch.sin(_positions() * 10000 ** (i / C6))
    return same(course.GPTVer3.pos_encodings_v3(T6, C6), expected)


@mistake("6-4", "sin_and_cos_swapped")
def _sin_and_cos_swapped(course) -> bool:
    angle = _positions() / 10000 ** (torch.arange(0, C6, 2, dtype=torch.float32) / C6)
    expected = torch.zeros(T6, C6)
    expected[:, 0::2], expected[:, 1::2] = torch.cos(angle), torch.sin(angle)
    return same(course.GPTVer3.pos_encodings_v4(T6, C6), expected)


def _gpt3(course):
    return course.GPTVer3(_Recorder(), 7, 8, 6)


@mistake("6-5", "positions_not_added")
def _positions_not_added(course) -> bool:
    model, idx = _gpt3(course), torch.randint(7, (2, 8))
    return same(model.embed(idx), model.token_embedding_table(idx))


@mistake("6-5", "positions_not_cut_to_length")
def _positions_not_cut(course) -> bool:
    model = _gpt3(course)
    model.embed(torch.randint(7, (2, 8)))  # a full block works ...
    try:
        model.embed(torch.randint(7, (2, 3)))  # ... a shorter context fails
    except RuntimeError:
        return True
    return False


# ---- step 7: MultiHeadVer1 ------------------------------------------------------------------


def _proj_input(course, H: int = 2) -> tuple[object, torch.Tensor, list[torch.Tensor], object]:
    """(the input its projection got, x, each head's output, MultiHeadVer1's output)."""
    B, T, C = 2, 4, 8
    mha = course.MultiHeadVer1(T, C, H)
    seen = []
    mha.proj.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.randn(B, T, C)
    heads = [head(x) for head in mha.heads]
    try:
        out = mha(x)
    except RuntimeError:
        out = None
    return (seen[0] if seen else None), x, heads, out


@mistake("7-1", "projection_missing")
def _projection_missing(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return seen is None and same(out, torch.cat(heads, dim=-1))


@mistake("7-1", "concatenated_over_time")
def _concatenated_over_time(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return same(seen, torch.cat(heads, dim=1))


@mistake("7-1", "heads_added_up")
def _heads_added_up(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return same(seen, sum(heads)) or same(seen, torch.stack(heads).mean(dim=0))


# ---- step 8: FeedForward, BlockVer1, BlockVer2 ----------------------------------------------

C8 = 8


@mistake("8-1", "relu_missing")
def _relu_missing(course) -> bool:
    ffn = course.FeedForward(C8)
    a, b = torch.randn(3, C8), torch.randn(3, C8)
    return same(ffn(a + b) + ffn(torch.zeros(1, C8)), ffn(a) + ffn(b))


@mistake("8-1", "hidden_layer_not_4x")
def _hidden_layer_not_4x(course) -> bool:
    sizes = sorted(p.numel() for p in course.FeedForward(C8).parameters())
    return sizes == sorted([C8 * C8, C8, C8 * C8, C8])


def _block(course, name: str, *args):
    """A block of `name` whose attention is a plain Linear (any (B, T, C) -> (B, T, C) will do)."""
    block = getattr(course, name)(nn.Linear(C8, C8), C8, *args)
    return block, torch.randn(2, 4, C8) * 3


@mistake("8-2", "feed_forward_first")
def _feed_forward_first(course) -> bool:
    block, x = _block(course, "BlockVer1")
    return same(block(x.clone()), block.head(block.ffwd(x)))


@mistake("8-3", "residual_missing")
def _residual_missing(course) -> bool:
    block, x = _block(course, "BlockVer2")
    f, g = block.head, block.ffwd
    out = block(x.clone())
    h = x + f(x)
    return same(out, f(x) + g(f(x))) or same(out, g(h)) or same(out, f(x) + g(x))


@mistake("8-3", "one_residual_around_both")
def _one_residual_around_both(course) -> bool:
    block, x = _block(course, "BlockVer2")
    return same(block(x.clone()), x + block.ffwd(block.head(x)))


# ---- step 9: LayerNorm, BlockVer3 -----------------------------------------------------------


def _layer_norm(course, eps: float = 1e-5):
    ln = course.LayerNorm(C8, eps=eps)
    ln.weight.normal_()
    ln.bias.normal_()
    x = torch.randn(3, 4, C8) * 3 + 1
    centred = x - x.mean(dim=-1, keepdim=True)
    return ln, x, centred


@mistake("9-1", "unbiased_variance")
def _unbiased_variance(course) -> bool:
    ln, x, centred = _layer_norm(course)
    var = x.var(dim=-1, keepdim=True, unbiased=True)
    return same(ln(x.clone()), centred / torch.sqrt(var + ln.eps) * ln.weight + ln.bias)


@mistake("9-1", "eps_outside_the_root")
def _eps_outside_the_root(course) -> bool:
    ln, x, centred = _layer_norm(course, eps=0.5)
    std = x.var(dim=-1, keepdim=True, unbiased=False).sqrt()
    return same(ln(x.clone()), centred / (std + 0.5) * ln.weight + ln.bias)


@mistake("9-1", "weight_and_bias_unused")
def _weight_and_bias_unused(course) -> bool:
    ln, x, centred = _layer_norm(course)
    return same(ln(x.clone()), F.layer_norm(x, (C8,), eps=ln.eps))


def _norms(block):
    """LayerNorms that differ, so that which one is used where shows."""
    for ln in (block.ln1, block.ln2):
        ln.weight.normal_()
        ln.bias.normal_()
    return block.ln1, block.ln2


@mistake("9-2", "post_norm")
def _post_norm(course) -> bool:
    block, x = _block(course, "BlockVer3")
    ln1, ln2 = _norms(block)
    h = ln1(x + block.head(x))
    return same(block(x.clone()), ln2(h + block.ffwd(h)))


@mistake("9-2", "norm_on_the_residual_path")
def _norm_on_the_residual_path(course) -> bool:
    block, x = _block(course, "BlockVer3")
    ln1, ln2 = _norms(block)
    h = ln1(x)
    h = h + block.head(h)
    h = ln2(h)
    return same(block(x.clone()), h + block.ffwd(h))


# ---- step 10: BlockVer4 ---------------------------------------------------------------------


@mistake("10-1", "dropout_in_eval")
def _dropout_in_eval(course) -> bool:
    block, x = _block(course, "BlockVer4", 0.5)
    block.eval()
    return not same(block(x.clone()), block(x.clone()), atol=0)


@mistake("10-1", "dropout_on_the_input")
def _dropout_on_the_input(course) -> bool:
    # With p = 1 every dropped tensor is zero: here each branch then reads LayerNorm(0) = bias.
    block, x = _block(course, "BlockVer4", 1.0)
    block.train()
    return same(block(x.clone()), x + block.head(torch.zeros(C8)) + block.ffwd(torch.zeros(C8)))


@mistake("10-1", "dropout_on_the_residual_path")
def _dropout_on_the_residual_path(course) -> bool:
    block, x = _block(course, "BlockVer4", 1.0)
    block.train()
    return same(block(x.clone()), torch.zeros_like(x))
