"""Korean particles chosen from what precedes them (learngpt/exercises/particles.py), and the
catalog's `{은}` placeholders that use them."""

from __future__ import annotations

import pytest

from learngpt.exercises.catalog import fill, text
from learngpt.exercises.particles import CONSONANT, RIEUL, VOWEL, ending, particle

# (what precedes, how it ends when read aloud in Korean)
READINGS = [
    # Hangul: by its final consonant
    ("파일", RIEUL),
    ("사과", VOWEL),
    ("단계", VOWEL),
    ("모델", RIEUL),
    ("학습", CONSONANT),
    # numbers, read in Sino-Korean
    ("0", CONSONANT),  # 영
    ("1", RIEUL),  # 일
    ("2", VOWEL),  # 이
    ("3", CONSONANT),  # 삼
    ("4", VOWEL),  # 사
    ("5", VOWEL),  # 오
    ("6", CONSONANT),  # 육
    ("7", RIEUL),  # 칠
    ("8", RIEUL),  # 팔
    ("9", VOWEL),  # 구
    ("10", CONSONANT),  # 십
    ("12", VOWEL),  # 십이
    ("100", CONSONANT),  # 백
    ("1000", CONSONANT),  # 천
    ("10000", CONSONANT),  # 만
    ("120000", CONSONANT),  # 십이만
    ("100000000", CONSONANT),  # 억
    ("1000000000000", VOWEL),  # 조
    ("1,000", CONSONANT),  # 천
    ("0.25", VOWEL),  # 영 점 이 오
    ("2.50", CONSONANT),  # 이 점 오 영
    ("3.451", RIEUL),  # ... 일
    ("4.7e-22", VOWEL),  # ... 이십이
    ("12.5%", VOWEL),  # 퍼센트
    # Latin names: class names, files, type names
    ("HeadVer2", VOWEL),  # 헤드버 이
    ("GPTVer1", RIEUL),  # ... 일
    ("MultiHeadVer1", RIEUL),
    ("BlockVer3", CONSONANT),  # ... 삼
    ("LayerNorm", CONSONANT),  # 레이어놈
    ("FeedForward", VOWEL),  # 피드포워드
    ("NanoGPT", VOWEL),  # 나노지피티
    ("GPT", VOWEL),
    ("mygpt/head_v2.py", VOWEL),  # 파이
    ("`mygpt/gpt_v1.py`", VOWEL),  # the backticks are not read
    (".learngpt/workspace.json", CONSONANT),  # 제이슨
    ("config.yaml", RIEUL),  # 야믈
    ("lessons/01_bigram.md", VOWEL),  # 엠디
    ("input.txt", VOWEL),  # 티엑스티
    ("report.html", RIEUL),  # ... 엘
    ("figure.png", VOWEL),  # 피엔지
    ("(T, C)", VOWEL),  # 씨
    ("(4, 6, 65)", VOWEL),  # 육십오
    ("FeedForward(16)", CONSONANT),  # 십육
    ("x", VOWEL),  # 엑스
    ("L", RIEUL),  # 엘
    ("M", CONSONANT),  # 엠
    ("n", CONSONANT),  # 엔
    ("DIR", RIEUL),  # 디아이알
    ("Tensor", VOWEL),  # 텐서
    ("NoneType", CONSONANT),  # 논타입
    ("tuple", RIEUL),  # 튜플
    ("list", VOWEL),  # 리스트
    ("int", VOWEL),  # 인트
    ("float", VOWEL),  # 플로트
    ("bool", RIEUL),  # 불
    ("string", CONSONANT),  # 스트링
    ("time", CONSONANT),  # 타임
    ("mode", VOWEL),  # 모드
    ("block", CONSONANT),  # 블록
    ("input", CONSONANT),  # 인풋
    ("dropout", CONSONANT),  # 드롭아웃
    ("test", VOWEL),  # 테스트
    ("script", VOWEL),  # 스크립트
]


@pytest.mark.parametrize(("word", "sound"), READINGS)
def test_each_word_ends_as_korean_reads_it(word, sound):
    assert ending(word) == sound


# what precedes, then the five particles as they follow it
TABLE = [
    ("HeadVer2", "는 가 를 와 로"),
    ("GPTVer1", "은 이 을 과 로"),  # 일: ㄹ takes 로
    ("BlockVer3", "은 이 을 과 으로"),  # 삼
    ("mygpt/head_v2.py", "는 가 를 와 로"),
    (".learngpt/workspace.json", "은 이 을 과 으로"),
    ("파일", "은 이 을 과 로"),
    ("사과", "는 가 를 와 로"),
    ("책", "은 이 을 과 으로"),
    ("LayerNorm", "은 이 을 과 으로"),
    ("10", "은 이 을 과 으로"),  # 십
]


@pytest.mark.parametrize(("word", "forms"), TABLE)
def test_each_particle_takes_the_form_that_follows_the_word(word, forms):
    # either form names the particle
    for names, expected in zip(
        [("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")],
        forms.split(),
        strict=True,
    ):
        assert {particle(word, name) for name in names} == {expected}, (word, names)


def test_nothing_read_takes_the_form_after_a_consonant():
    assert particle("", "는") == "은" and particle("...", "로") == "으로"
    assert particle("→", "가") == "이"


def test_fill_picks_each_particle_from_the_text_before_it():
    assert fill("{file}{을} 불러올 수 없습니다", {"file": "mygpt/head_v2.py"}) == (
        "mygpt/head_v2.py를 불러올 수 없습니다"
    )
    fields = {"name": "HeadVer2", "other": "GPTVer1", "n": 1}
    assert fill("{name}{은} {other}{과} 같고 {n}{으로}", fields) == "HeadVer2는 GPTVer1과 같고 1로"
    # a particle after a closing backtick reads the text inside it
    assert fill("`solution {step}`{이}", {"step": 2}) == "`solution 2`가"
    assert fill("`solution {step}`{이}", {"step": 3}) == "`solution 3`이"
    # escaped braces are text, and a value's braces are never read as placeholders
    assert fill("{{은}} {x}{는}", {"x": "{y}"}) == "{은} {y}는"
    assert fill("{x:.1%}{가}", {"x": 0.125}) == "12.5%가"


def test_the_catalog_texts_that_follow_a_value_read_well():
    assert text("check.same_as_head_ver_1", "ko", name="HeadVer2").startswith("HeadVer2는 ")
    assert text("check.same_as_head_ver_1", "ko", name="GPTVer1").startswith("GPTVer1은 ")
    assert text("check.load_only", "ko", file="mygpt/head_v2.py") == (
        "고칠 때까지 mygpt/head_v2.py를 사용하는 단계만 실패합니다"
    )
    english = text("check.same_as_head_ver_1", "en", name="HeadVer2")
    assert english.startswith("HeadVer2 ") and not any("가" <= c <= "힣" for c in english)
