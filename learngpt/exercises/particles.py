"""Korean particles chosen by what precedes them: "HeadVer2는", "mygpt/head_v2.py를", "1로".

Five particles have two forms, picked by the last syllable as it is read aloud:

    after a consonant   은   이   을   과   으로
    after a vowel       는   가   를   와   로
    after ㄹ            은   이   을   과   로     (ㄹ takes 로, not 으로)

`particle(word, name)` gives the form that follows `word`; `name` is either form ("은" or "는"
alike). How the end of `word` is read (`ending`):

- Characters not read aloud at the end are skipped: spaces, quotes, backticks, closing brackets,
  and . , : ; ! ? ("`head_v2.py`" ends in "py"; "(T, C)" in "C").
- A Hangul syllable: by its final consonant (받침), if any.
- A number is read in Sino-Korean. A decimal's last digit is read alone ("0.25" ... 오). An
  integer ends in its last digit unless it ends in zeros, then in its last unit: 십 (10),
  백 (100), 천 (1000), or the unit of its last non-zero group of four digits: 만, 억, 조, 경.
  Digits: 영 일 이 삼 사 오 육 칠 팔 구 (0-9): 1, 7, 8 end in ㄹ; 0, 3, 6 in another consonant;
  2, 4, 5, 9 in a vowel. "%" is read 퍼센트 (a vowel).
- Latin letters: the last run of letters is read as letters, by their Korean names (에이 비 씨
  ... 제트: L 엘 and R 알, as "DIR" and "RNN" are said, end in ㄹ; M 엠 and N 엔 in another
  consonant; the others in a vowel), when it ends in an uppercase letter ("GPT", "NanoGPT",
  "C"), has one letter, or has no vowel letter ("md", "txt", "png"). Otherwise its last word
  (after its last capital: "LayerNorm" reads "Norm") is read as an English word the way Korean
  writes loanwords: ending in m, n or ng: a consonant ("Norm" 놈, "token" 토큰, "string"
  스트링), as after a silent e ("time" 타임, "none" 논); ending in l or le: ㄹ ("model" 모델,
  "tuple" 튜플); ck, out, type, or p/t/k after one short vowel: a consonant ("block" 블록,
  "input" 인풋, "NoneType" 타입); any other ending: a vowel ("py" 파이, "Tensor" 텐서,
  "FeedForward" 포워드, "test" 테스트).
- Anything else (nothing left, a symbol): the form after a consonant.

The catalog writes a particle as `{은}` right after what it follows (catalog.py).
"""

from __future__ import annotations

import re

VOWEL, RIEUL, CONSONANT = "vowel", "ㄹ", "consonant"

# each particle's forms: (after a consonant, after a vowel); ㄹ takes the vowel's form of (으)로
FORMS = {
    "은": ("은", "는"),
    "이": ("이", "가"),
    "을": ("을", "를"),
    "과": ("과", "와"),
    "으로": ("으로", "로"),
}
NAMES = {form: pair for pair in FORMS.values() for form in pair}  # "는" -> ("은", "는")

NOT_READ = " \t\n'\"`)]}>.,:;!?"
DIGITS = {
    "0": CONSONANT,  # 영
    "1": RIEUL,  # 일
    "2": VOWEL,  # 이
    "3": CONSONANT,  # 삼
    "4": VOWEL,  # 사
    "5": VOWEL,  # 오
    "6": CONSONANT,  # 육
    "7": RIEUL,  # 칠
    "8": RIEUL,  # 팔
    "9": VOWEL,  # 구
}
TENS = (None, CONSONANT, CONSONANT, CONSONANT)  # -, 십, 백, 천
MYRIADS = (None, CONSONANT, CONSONANT, VOWEL, CONSONANT)  # -, 만, 억, 조, 경
LETTERS = {"l": RIEUL, "m": CONSONANT, "n": CONSONANT, "r": RIEUL}  # 엘 엠 엔 알; others: vowels
NUMBER = re.compile(r"(\d[\d,]*)(?:\.(\d+))?$")
LATIN = re.compile(r"[A-Za-z]+$")
SHORT_STOP = re.compile(r"(?:^|[^aeiou])[aeiou][ptk]$")  # "step", "input", "chat"
WORD_ENDINGS = (  # (ending, how it ends), the first that fits
    ("ck", CONSONANT),  # 블록
    ("ng", CONSONANT),  # 스트링
    ("out", CONSONANT),  # 아웃
    ("type", CONSONANT),  # 타입
    ("le", RIEUL),  # 튜플
    ("me", CONSONANT),  # 타임
    ("ne", CONSONANT),  # 라인
    ("l", RIEUL),
    ("m", CONSONANT),
    ("n", CONSONANT),
)


def particle(word: str, name: str) -> str:
    """The form of the particle `name` (either of its forms) that follows `word`."""
    after_consonant, after_vowel = NAMES[name]
    end = ending(word)
    if end == VOWEL or (end == RIEUL and after_consonant == "으로"):
        return after_vowel
    return after_consonant


def ending(word: str) -> str | None:
    """How `word` ends when read aloud: VOWEL, RIEUL (ㄹ), CONSONANT, or None if nothing in it
    is read (see the module's docstring)."""
    word = word.rstrip(NOT_READ)
    if not word:
        return None
    last = word[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - ord("가")) % 28  # the index of its final consonant, 0 for none
        return VOWEL if final == 0 else RIEUL if final == 8 else CONSONANT
    if last.isascii() and last.isdigit():
        return _number_ending(NUMBER.search(word))
    if last == "%":
        return VOWEL  # 퍼센트
    letters = LATIN.search(word)
    if letters:
        return _latin_ending(letters[0])
    return None


def _number_ending(number: re.Match) -> str:
    whole, fraction = number[1].replace(",", ""), number[2]
    if fraction:
        return DIGITS[fraction[-1]]
    if int(whole) == 0:
        return CONSONANT  # 영
    zeros = len(whole) - len(whole.rstrip("0"))
    if zeros >= 4:
        return MYRIADS[zeros // 4] if zeros // 4 < len(MYRIADS) else CONSONANT
    return TENS[zeros] if zeros else DIGITS[whole[-1]]


def _latin_ending(run: str) -> str:
    word = re.split(r"(?=[A-Z])", run)[-1].lower()  # "LayerNorm" -> "norm"
    if run[-1].isupper() or len(word) == 1 or not set(word) & set("aeiouy"):
        return LETTERS.get(run[-1].lower(), VOWEL)  # read as letters: "GPT", "C", "md"
    for end, sound in WORD_ENDINGS:
        if word.endswith(end):
            return sound
    return CONSONANT if SHORT_STOP.search(word) else VOWEL
