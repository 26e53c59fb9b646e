"""Where a text may be cut into pieces that encode, one by one, to the ids of the whole.

GPT-2's split pattern (learngpt's GPT2_SPLIT_PATTERN, GPT2_PATTERN: the same alternatives)

    's|'t|'re|'ve|'m|'ll|'d| ?L+| ?N+| ?P+|\\s+(?!\\S)|\\s+

(L letters, N numbers, P any other non-space) cuts the text into pieces, and BPE works within
each piece. A cut at i (between text[i-1] and text[i]) is safe when text[i-1] is not a space and
- text[i] is a space (rule A), or
- text[i] is of another class (L, N, P) than text[i-1], and text[i-1] is not "'" (rule B).
Why the ids are the same as the whole text's:
1. A piece ends at i. The pieces tile the text (every character is in L, N, P or \\s), and no
   alternative matches a non-space followed by a space (the only space a non-space piece holds
   is its first character), nor two characters of different classes, except a contraction
   ("'s", "'ll"...), which starts with the "'" that rule B excludes.
2. The pieces left of i are the same when the text ends at i. Matching looks behind nowhere; it
   looks ahead only in `\\s+(?!\\S)`, at the end of a run of spaces, and no run of spaces ends at
   i (text[i-1] is not a space). So every choice the engine made left of i sees the same
   characters whether the text goes on or not.
3. The pieces from i on are the same: matching from i depends on text[i:] alone.
The classes are the pattern's own (Python's `re` or the `regex` package, which differ on
characters such as \\x1c or "²"), so the rules see what the tokenizer sees. Special tokens are
cut out of the text before the pattern runs, so no cut falls inside an occurrence of one.

A run of more than MAX_UNCUT characters without a safe cut (50 MB of DNA letters on one line)
is cut anyway, every MAX_UNCUT characters after the last safe cut: the places depend on the text
only, never on --chunk-mb, but the ids there may differ from encoding the text whole. Without
this, one such run is one piece, and memory grows with it (tiktoken: about 40 bytes a byte);
tiktoken is also 3 times slower a character on a piece of 1M characters than on one of 64K.
A character tokenizer may be cut anywhere; a BPE with another split pattern, or none, nowhere
(each file is cut only every MAX_UNCUT characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

from learngpt.tokenizers import BPETokenizer, Tokenizer
from learngpt.tokenizers.bpe import GPT2_PATTERN, GPT2_SPLIT_PATTERN

MAX_UNCUT = 1 << 16  # characters: a forced cut after this many without a safe one

# the three classes of non-space characters, as each pattern's engine matches them
CLASSES = {
    GPT2_SPLIT_PATTERN: (r"[^\W\d_]", r"\d", r"(?:_|[^\s\w])"),
    GPT2_PATTERN: (r"\p{L}", r"\p{N}", r"[^\s\p{L}\p{N}]"),
}
SEARCH = 256  # characters: the first stretch searched back from the end (then 16 times more)


def safe_cut_pattern(letters: str, numbers: str, other: str) -> str:
    """Matches text[i-1] of every safe cut i (rules A and B): the cut is at the match's end."""
    return "|".join(
        [
            r"\S(?=\s)",  # A
            f"{letters}(?={numbers}|{other})",  # B
            f"{numbers}(?={letters}|{other})",
            f"(?!')(?:{other})(?={letters}|{numbers})",
        ]
    )


@dataclass
class Cutter:
    """Finds the safe cuts of a text for one tokenizer (the rules above)."""

    pattern: re.Pattern | None  # text[i-1] of a safe cut i; None: only `anywhere` decides
    anywhere: bool = False  # a character tokenizer: every position is safe
    specials: tuple[str, ...] = ()  # a cut never falls inside one of these

    @property
    def margin(self) -> int:
        """Characters needed after a position to decide it (the rule's and specials' look)."""
        return max([1, *(len(s) - 1 for s in self.specials)])

    def cuts(self, text: str, lo: int, hi: int, last: bool):
        """The last (or first) safe cut i with lo < i <= hi, or None; text[i] must exist and
        `margin` characters after hi, `margin` characters before lo, where text has them."""
        if self.anywhere:
            return hi if last and hi > lo else (lo + 1 if lo < hi else None)
        if self.pattern is None:
            return None
        return self._last(text, lo, hi) if last else self._first(text, lo, hi)

    def _first(self, text: str, lo: int, hi: int) -> int | None:
        for match in self.pattern.finditer(text, lo, hi + 1):  # + 1: the look at text[hi]
            if match.end() > hi:
                break
            if not self.inside_special(text, match.end()):
                return match.end()
        return None

    def _last(self, text: str, lo: int, hi: int) -> int | None:
        """Searched back from hi in stretches growing 16 times: each character looked at once
        (an English text has a cut within the first few characters)."""
        end, size = hi, SEARCH
        while end > lo:
            start = max(lo, end - size)
            found = [m.end() for m in self.pattern.finditer(text, start, end + 1)]
            for cut in reversed(found):
                if cut <= end and not self.inside_special(text, cut):
                    return cut
            end, size = start, size * 16
        return None

    def inside_special(self, text: str, i: int) -> bool:
        """Whether an occurrence of a special token spans position i (starts before, ends after)."""
        for special in self.specials:
            at = text.find(special, max(0, i - len(special) + 1), i + len(special) - 1)
            if at != -1:
                return True
        return False

    def forced(self, text: str, at: int) -> int:
        """A forced cut at `at`, moved back to the start of a special token it would split."""
        for special in self.specials:
            start = text.find(special, max(0, at - len(special) + 1), at + len(special) - 1)
            if start != -1 and start < at:
                return start
        return at


def cutter_for(tokenizer: Tokenizer) -> Cutter:
    """The cutter for `tokenizer`: where its ids of the whole text stay the same."""
    if not isinstance(tokenizer, BPETokenizer):
        return Cutter(None, anywhere=True)  # one character, one token
    specials = tuple(sorted(tokenizer.special_tokens, key=len, reverse=True))
    classes = CLASSES.get(tokenizer.pattern)
    if classes is None:  # the rule is for these patterns only
        return Cutter(None, specials=specials)
    engine = regex if r"\p{" in tokenizer.pattern else re
    return Cutter(engine.compile(safe_cut_pattern(*classes)), specials=specials)
