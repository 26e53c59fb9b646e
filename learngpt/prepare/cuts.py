"""Where a text may be cut into pieces that encode, one by one, to the ids of the whole.

For GPT-2's split patterns (learngpt's GPT2_SPLIT_PATTERN and GPT2_PATTERN) a cut right before
a newline that is followed by a non-space character is safe:
- only the whitespace alternatives (`\\s+(?!\\S)`, `\\s+`) match a newline, so no piece holds
  the newline together with anything but whitespace, and the non-space character after it
  starts a new piece;
- the whitespace before the newline, if any, ends before it in the whole text too:
  `\\s+(?!\\S)` backs off the last character of a run followed by a non-space one, and the
  newline then is a piece of its own (`\\s+`); so in the whole text a piece ends at the cut;
- no alternative looks behind, and the only look-ahead, `(?!\\S)`, sees the same thing at the
  end of the left piece (the end of the text) as before the newline (a space): the pieces on
  each side match as they do in the whole text.
BPE works within the pieces, so the ids are the same. A special token holding a newline would
break the rule: then nothing is cut. A character tokenizer may be cut anywhere; a BPE with
another split pattern or none, nowhere (each file is then one piece).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex

from learngpt.tokenizers import BPETokenizer, Tokenizer
from learngpt.tokenizers.bpe import GPT2_PATTERN, GPT2_SPLIT_PATTERN

Cutter = Callable[[str], int]  # text -> where to cut it (0: nowhere)


def cutter_for(tokenizer: Tokenizer) -> Cutter:
    """The function that finds the last safe cut of a text for `tokenizer`."""
    if not isinstance(tokenizer, BPETokenizer):
        return len  # one character, one token: anywhere
    known = tokenizer.pattern in (GPT2_SPLIT_PATTERN, GPT2_PATTERN)  # the rule is for these
    if not known or any("\n" in s for s in tokenizer.special_tokens):
        return lambda text: 0
    # `\s` as the pattern's own engine (re, or regex for \p{...}) understands it
    engine = regex if r"\p{" in tokenizer.pattern else re
    is_space = engine.compile(r"\s").match
    return lambda text: last_newline_cut(text, is_space)


def last_newline_cut(text: str, is_space: Callable[[str, int], object]) -> int:
    """The last i with text[i] == "\\n" and text[i + 1] not a space; 0 if there is none."""
    i = text.rfind("\n", 0, len(text) - 1)
    while i > 0:
        if not is_space(text, i + 1):
            return i
        i = text.rfind("\n", 0, i)
    return 0
