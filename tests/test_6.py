"""Step 6: positional encodings give GPTVer3 a sense of order; only v4 has all four properties.

Run `pytest tests/test_6.py -vv` to see the table of encodings and properties.
"""

from __future__ import annotations

import math

import pytest
import torch

from learngpt import GPTVer1, GPTVer2, GPTVer3, HeadVer1, HeadVer3, HeadVer4

V, T, C = 12, 8, 16

MODELS = {
    "GPTVer1": lambda: GPTVer1(V, T),
    "GPTVer2+HeadVer1": lambda: GPTVer2(HeadVer1(), V, T, C),
    "GPTVer2+HeadVer3": lambda: GPTVer2(HeadVer3(), V, T, C),
    "GPTVer2+HeadVer4": lambda: GPTVer2(HeadVer4(T, C, C), V, T, C),
    "GPTVer3+HeadVer4": lambda: GPTVer3(HeadVer4(T, C, C), V, T, C),
}


@pytest.mark.parametrize("name", MODELS)
def test_only_gpt_ver_3_tells_the_positions_of_a_repeated_token_apart(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    idx = torch.full((1, T), 5)  # "5 5 5 5 5 5 5 5"
    with torch.no_grad():
        logits = model.logits(idx)[0]  # (T, V)
    same_everywhere = torch.allclose(logits, logits[:1].expand(T, V), atol=1e-5)
    assert same_everywhere == (name != "GPTVer3+HeadVer4")
    if name == "GPTVer3+HeadVer4":  # not just one position: every position differs from all
        distances = torch.cdist(logits, logits) + torch.eye(T)
        assert distances.min() > 1e-3


def test_gpt_ver_3_adds_pos_encodings_v4_to_the_token_embeddings():
    torch.manual_seed(0)
    model = GPTVer3(HeadVer4(T, C, C), V, T, C)
    assert torch.equal(model.pos_encoding, GPTVer3.pos_encodings_v4(T, C))
    idx = torch.randint(V, (2, 5))  # shorter than block_size: the first 5 positions are used
    expected = model.token_embedding_table(idx) + GPTVer3.pos_encodings_v4(T, C)[:5]
    assert torch.equal(model.embed(idx), expected)


def test_gpt_ver_3_generates_from_a_context_longer_than_block_size():
    """It has only block_size position vectors, so generate must crop the context to fit."""
    torch.manual_seed(0)
    model = GPTVer3(HeadVer4(T, C, C), V, T, C)
    context = torch.randint(V, (2, 3 * T))
    out = model.generate(context, max_new_tokens=10)
    assert out.shape == (2, 3 * T + 10)
    assert torch.equal(out[:, : 3 * T], context)


# --- the four candidate encodings -----------------------------------------------------------


def encoding(version: str, block_size: int, embed_size: int = C) -> torch.Tensor:
    return getattr(GPTVer3, f"pos_encodings_{version}")(block_size, embed_size)


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4"])
@pytest.mark.parametrize(("block_size", "embed_size"), [(1, 4), (8, 16), (50, 7)])
def test_encodings_are_block_size_by_embed_size(version, block_size, embed_size):
    pe = encoding(version, block_size, embed_size)
    assert pe.shape == (block_size, embed_size)
    assert torch.isfinite(pe).all()


def test_encodings_are_what_the_course_defines():
    """A few entries of each, recomputed from the formulas with plain Python floats."""
    T_, C_ = 10, 6
    v1, v2, v3, v4 = (encoding(v, T_, C_) for v in ("v1", "v2", "v3", "v4"))
    for pos in (0, 3, 9):
        for i in range(C_):
            assert v1[pos, i] == pos  # the position index itself
            assert v2[pos, i] == pytest.approx(pos / (T_ - 1))  # divided by the last index
            assert v3[pos, i] == pytest.approx(math.sin(pos * 10000 ** (-i / C_)), abs=1e-6)
            angle = pos / 10000 ** ((i - i % 2) / C_)  # channels 2i and 2i + 1 share a frequency
            sinusoid = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert v4[pos, i] == pytest.approx(sinusoid, abs=1e-6)


def every_position_differs(version: str) -> bool:
    pe = encoding(version, 32)
    distances = torch.cdist(pe, pe) + torch.eye(32) * 1e9  # ignore each position's own 0
    return bool(distances.min() > 1e-3)


def values_within_minus_one_and_one(version: str) -> bool:
    return bool(encoding(version, 32).abs().max() <= 1)


def distance_does_not_depend_on_sentence_length(version: str) -> bool:
    """Positions i, j are as far apart in a 32-token block as in a 128-token one."""
    short, long = encoding(version, 32), encoding(version, 128)[:32]
    return torch.allclose(torch.cdist(short, short), torch.cdist(long, long), atol=1e-4)


def distance_k_apart_is_the_same_everywhere(version: str) -> bool:
    """|pe[p + k] - pe[p]| is the same for every p (for every gap k)."""
    pe = encoding(version, 32)
    for k in range(1, 32):
        gaps = (pe[k:] - pe[:-k]).norm(dim=-1)  # (32 - k,)
        if not torch.allclose(gaps, gaps[:1].expand_as(gaps), atol=1e-4):
            return False
    return True


PROPERTIES = {
    "every position differs": every_position_differs,
    "values within [-1, 1]": values_within_minus_one_and_one,
    "distance independent of length": distance_does_not_depend_on_sentence_length,
    "same distance k apart everywhere": distance_k_apart_is_the_same_everywhere,
}

# COURSE.md's table: which property each encoding has. Each of v1..v3 misses exactly one.
HAS_PROPERTY = {
    "v1": {
        "every position differs": True,
        "values within [-1, 1]": False,  # grows with the position: 31 at position 31
        "distance independent of length": True,
        "same distance k apart everywhere": True,
    },
    "v2": {
        "every position differs": True,
        "values within [-1, 1]": True,
        "distance independent of length": False,  # one step is 1 / (T - 1): shrinks as T grows
        "same distance k apart everywhere": True,
    },
    "v3": {
        "every position differs": True,
        "values within [-1, 1]": True,
        "distance independent of length": True,
        "same distance k apart everywhere": False,  # sin alone: its slope changes with pos
    },
    "v4": {
        "every position differs": True,
        "values within [-1, 1]": True,
        "distance independent of length": True,
        "same distance k apart everywhere": True,  # sin and cos together: a rotation per step
    },
}


@pytest.mark.parametrize(
    ("version", "prop", "expected"),
    [(v, p, has) for v, row in HAS_PROPERTY.items() for p, has in row.items()],
    ids=[
        f"{v}: {p}: {'yes' if has else 'no'}"
        for v, row in HAS_PROPERTY.items()
        for p, has in row.items()
    ],
)
def test_positional_encoding_property_table(version, prop, expected):
    assert PROPERTIES[prop](version) == expected


def test_only_v4_has_all_four_properties():
    complete = [v for v in ("v1", "v2", "v3", "v4") if all(p(v) for p in PROPERTIES.values())]
    assert complete == ["v4"]
