"""The mistakes of steps 2-4: the prefix average by loops, by a matrix, by softmax; GPTVer2.

HeadVer1..3 are linear in x, so each is known by its (T, T) weights: fed the T one-hot vectors
(x = I, one sequence of T positions with T channels), output t holds how much of each position
it takes. The probes test properties of those weights (which positions are read, what a row or
a column sums to), so two mistakes in one class show together, and a correct average written
any other way (a running sum, cumsum, bmm) shows none.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from learngpt.exercises.probes.registry import mistake, same

T = 5  # positions in the probes' one-hot input
ATOL = 1e-5


def future(T: int, diagonal: int = 1) -> torch.Tensor:
    """(T, T) True where column > row (diagonal=1), or column >= row (diagonal=0)."""
    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=diagonal)


def masked(scores: torch.Tensor, hidden: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The softmax of `scores` along `dim` with the `hidden` positions at -inf."""
    return F.softmax(scores.masked_fill(hidden, float("-inf")), dim=dim)


def weights_of(average) -> torch.Tensor | None:
    """The (T, T) weights of a map of (B, T, C) like HeadVer1: row t, column s = how much output
    t takes of position s (None if the output is not (1, T, T))."""
    x = torch.eye(T)[None]  # (1, T, T): position s is the one-hot vector e_s
    out = average(x.clone())
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return None
    return out[0].detach().double()


def _read(w: torch.Tensor) -> torch.Tensor:
    """Where the weights are a number other than 0: the positions each row reads."""
    return torch.isfinite(w) & (w.abs() > ATOL)


def sums_instead_of_averages(w: torch.Tensor | None) -> bool:
    """Every weight read is 1, and some row reads two positions or more: sums, not means."""
    if w is None:
        return False
    read = _read(w)
    ones = ((w[read] - 1).abs() < ATOL).all()
    return bool(ones) and bool((read.sum(dim=1) >= 2).any())


def reads_the_whole_sequence(w: torch.Tensor | None) -> bool:
    """Every row reads every position, later ones too: the future is in the average."""
    return w is not None and bool(_read(w).all())


def reads_only_the_future(w: torch.Tensor | None) -> bool:
    """Rows read the diagonal and above and nothing below: the upper triangle."""
    return w is not None and bool(torch.equal(_read(w), future(T, diagonal=0)))


def leaves_out_the_current_position(w: torch.Tensor | None) -> bool:
    """From position 1 on, each row reads every earlier position but not its own."""
    if w is None:
        return False
    read = _read(w)
    earlier = ~future(T, diagonal=0)  # column < row
    return not bool(read.diagonal()[1:].any()) and bool(read[earlier].all())


def normalised_by_column(w: torch.Tensor | None) -> bool:
    """Each column sums to 1 and the rows do not: divided by the columns' sums."""
    if w is None or not bool(torch.isfinite(w).all()):
        return False
    ones = torch.ones(T, dtype=w.dtype)
    columns = torch.allclose(w.sum(dim=0), ones, atol=ATOL)
    return columns and not torch.allclose(w.sum(dim=1), ones, atol=ATOL)


# ---- step 2: HeadVer1, GPTVer2.logits -------------------------------------------------------


def _head1(course) -> torch.Tensor | None:
    return weights_of(course.HeadVer1())


@mistake("2-1", "sum_instead_of_mean")
def _sum_instead_of_mean(course) -> bool:
    return sums_instead_of_averages(_head1(course))


@mistake("2-1", "current_position_left_out")
def _current_left_out(course) -> bool:
    return leaves_out_the_current_position(_head1(course))


@mistake("2-1", "future_included")
def _future_included(course) -> bool:
    return reads_the_whole_sequence(_head1(course))


class Recorder(nn.Module):
    """A contextualizer that adds 1 and remembers that it was called."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x + 1


def _gpt2_calls(course) -> tuple[int, int, object]:
    """(the contextualizer's calls, embed's calls, the logits) of one GPTVer2.logits call."""
    embeds = []

    class Spy(course.GPTVer2):
        def embed(self, idx):
            embeds.append(idx.shape)
            return super().embed(idx)

    recorder = Recorder()
    logits = Spy(recorder, 7, 4, 6).logits(torch.randint(7, (2, 4)))
    return recorder.calls, len(embeds), logits


@mistake("2-2", "contextualizer_unused")
def _contextualizer_unused(course) -> bool:
    calls, _, logits = _gpt2_calls(course)
    return isinstance(logits, torch.Tensor) and calls == 0


@mistake("2-2", "embed_unused")
def _embed_unused(course) -> bool:
    _, embeds, logits = _gpt2_calls(course)
    return isinstance(logits, torch.Tensor) and embeds == 0  # token_embedding_table read directly


# ---- step 3: HeadVer2 -----------------------------------------------------------------------


def _head2(course) -> torch.Tensor | None:
    return weights_of(course.HeadVer2())


@mistake("3-1", "rows_not_normalised")
def _rows_not_normalised(course) -> bool:
    return sums_instead_of_averages(_head2(course))


@mistake("3-1", "upper_triangle")
def _upper_triangle(course) -> bool:
    return reads_only_the_future(_head2(course))


@mistake("3-1", "future_included")
def _future_included_3(course) -> bool:
    return reads_the_whole_sequence(_head2(course))


@mistake("3-1", "normalised_by_column")
def _normalised_by_column(course) -> bool:
    return normalised_by_column(_head2(course))


# ---- step 4: HeadVer3 -----------------------------------------------------------------------
# masked_softmax is known by what it does to one (T, T) matrix of random scores: which weights
# are 0 or NaN, and which scores change which weights when they change (a hidden score changes
# none; a softmax over the last dim changes only its own row).


class SoftmaxFacts:
    """What masked_softmax does with one (T, T) matrix of scores."""

    def __init__(self, masked_softmax):
        scores = torch.randn(T, T)
        weights = masked_softmax(scores.clone())
        if not isinstance(weights, torch.Tensor) or weights.shape != scores.shape:
            raise ValueError("not a (T, T) tensor")
        self.weights = weights.detach().double()
        self.changes = torch.zeros(T, T, T, T, dtype=torch.bool)  # score (i, j) -> weights
        for i in range(T):
            for j in range(T):
                nudged = scores.clone()
                nudged[i, j] += 1.0
                after = masked_softmax(nudged).detach().double()
                both_nan = torch.isnan(after) & torch.isnan(self.weights)
                self.changes[i, j] = ~both_nan & ~((after - self.weights).abs() <= 1e-7)

    @property
    def seen(self) -> torch.Tensor:
        """(T, T): the scores that change some weight."""
        return self.changes.flatten(2).any(dim=-1)

    @property
    def alone(self) -> torch.Tensor:
        """(T, T): a weight of 1, the whole row's (its score then changes nothing either)."""
        return (self.weights - 1).abs() < 1e-6

    @property
    def hidden(self) -> torch.Tensor:
        """(T, T): the positions that get no weight (0 or NaN), or whose score changes nothing."""
        w = self.weights
        return (w.abs() < 1e-30) | torch.isnan(w) | (~self.seen & ~self.alone)

    def along(self, dim: int) -> bool:
        """Each score changes only weights in its own row (dim=-1) or column (dim=-2), and some
        score changes more than one weight."""
        index = torch.arange(T)
        line = (index[:, None] if dim == -1 else index[None, :]).expand(T, T)
        wider = False
        for i in range(T):
            for j in range(T):
                changed = self.changes[i, j]
                if bool((changed & (line != (i if dim == -1 else j))).any()):
                    return False
                wider |= int(changed.sum()) > 1
        return wider


def _softmax_facts(course) -> SoftmaxFacts:
    return SoftmaxFacts(course.HeadVer3.masked_softmax)


@mistake("4-1", "mask_inverted")
def _mask_inverted(course) -> bool:
    return bool(torch.equal(_softmax_facts(course).hidden, ~future(T)))


@mistake("4-1", "diagonal_hidden")
def _diagonal_hidden(course) -> bool:
    return bool(torch.equal(_softmax_facts(course).hidden, future(T, diagonal=0)))


@mistake("4-1", "hides_nothing")
def _hides_nothing(course) -> bool:
    return not bool(_softmax_facts(course).hidden.any())


@mistake("4-1", "softmax_over_rows")
def _softmax_over_rows(course) -> bool:
    facts = _softmax_facts(course)
    return facts.along(-2) and not facts.along(-1)


@mistake("4-1", "masked_with_zero")
def _masked_with_zero(course) -> bool:
    facts = _softmax_facts(course)  # a score that changes nothing, yet its weight is not 0
    return bool((~facts.seen & ~facts.alone & (facts.weights > 1e-6)).any())


@mistake("4-1", "masked_after_softmax")
def _masked_after_softmax(course) -> bool:
    facts = _softmax_facts(course)  # a weight of 0 whose score still changes the others
    return bool((facts.seen & (facts.weights.abs() < 1e-30)).any())


@mistake("4-2", "wei_not_kept")
def _wei_not_kept(course) -> bool:
    head = course.HeadVer3()
    out = head(torch.randn(2, T, 3))
    return isinstance(out, torch.Tensor) and getattr(head, "wei", None) is None


@mistake("4-2", "future_included")
def _future_included_4(course) -> bool:
    # forward's own leak: its weights are not what masked_softmax makes of equal scores.
    weights = weights_of(course.HeadVer3())
    masked = course.HeadVer3.masked_softmax(torch.zeros(T, T))
    return reads_the_whole_sequence(weights) and not same(weights, masked, atol=ATOL)
