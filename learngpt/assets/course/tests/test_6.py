"""Step 6: positional encodings give GPTVer3 a sense of order; only v4 has all four properties.

Run `pytest tests/test_6.py -vv` to see the table of encodings and properties.
"""

from __future__ import annotations

import math

import pytest
import torch
from mygpt import GPTVer1, GPTVer2, GPTVer3, HeadVer1, HeadVer3, HeadVer4

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, edge_case, record

V, T, C = 12, 8, 16
ENCODING_TODO = {"v1": "6-1", "v2": "6-2", "v3": "6-3", "v4": "6-4"}  # the TODO of each version

# The TODOs each model runs (GPTVer1's logits are the course's own code: none).
MODEL_TODOS = {
    "GPTVer1": (),
    "GPTVer2+HeadVer1": ("2-2", "2-1"),
    "GPTVer2+HeadVer3": ("2-2", "4-2", "4-1"),
    "GPTVer2+HeadVer4": ("2-2", "5-1", "4-1"),
    "GPTVer3+HeadVer4": ("6-5", "6-4", "2-2", "5-1", "4-1"),
}
MODELS = {
    "GPTVer1": lambda: GPTVer1(V, T),
    "GPTVer2+HeadVer1": lambda: GPTVer2(HeadVer1(), V, T, C),
    "GPTVer2+HeadVer3": lambda: GPTVer2(HeadVer3(), V, T, C),
    "GPTVer2+HeadVer4": lambda: GPTVer2(HeadVer4(T, C, C), V, T, C),
    "GPTVer3+HeadVer4": lambda: GPTVer3(HeadVer4(T, C, C), V, T, C),
}


@pytest.mark.todos(name=MODEL_TODOS)
@pytest.mark.parametrize("name", MODELS)
def test_only_gpt_ver_3_tells_the_positions_of_a_repeated_token_apart(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    with torch.no_grad():
        logits = model(torch.full((1, T), 5))[0][0]  # "5 5 5 5 5 5 5 5" -> (T, V)
    same_everywhere = torch.allclose(logits, logits[:1].expand(T, V), atol=1e-5)
    if name == "GPTVer3+HeadVer4":
        assert not same_everywhere, say("tests.6.differ")
    else:
        assert same_everywhere, say("tests.6.same", name=name)


@pytest.mark.todos("6-5", "6-4", "5-1", "4-1", "2-2", "1-1")
def test_gpt_ver_3_generates_from_a_context_longer_than_block_size():
    torch.manual_seed(0)
    model = GPTVer3(HeadVer4(T, C, C), V, T, C)
    context = torch.randint(V, (2, 3 * T))
    out = model.generate(context, max_new_tokens=10)
    assert out.shape == (2, 3 * T + 10), say("tests.6.long_context")


def encoding(version: str, block_size: int, embed_size: int = C) -> torch.Tensor:
    return getattr(GPTVer3, f"pos_encodings_{version}")(block_size, embed_size)


@pytest.mark.todos(version=ENCODING_TODO)
@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4"])
@pytest.mark.parametrize(("block_size", "embed_size"), [(1, 4), (8, 16), (50, 7)])
def test_encodings_are_block_size_by_embed_size(version, block_size, embed_size):
    # The two edge cases: v2 at a single position divides by block_size - 1 = 0, and v4 at an
    # odd embed_size has one channel more for sin than for cos. A failure there says so.
    with (
        edge_case("tests.6.block_size_one", when=version == "v2" and block_size == 1),
        edge_case("tests.6.odd_embed_size", when=version == "v4" and embed_size % 2 == 1,
                  fields=dict(embed_size=embed_size, sin=(embed_size + 1) // 2,
                              cos=embed_size // 2)),
    ):  # fmt: skip
        pe = encoding(version, block_size, embed_size)
        what = f"pos_encodings_{version}"
        assert isinstance(pe, torch.Tensor), say(
            "check.not_a_tensor", what=what, got=type(pe).__name__
        )
        assert pe.shape == (block_size, embed_size), say("tests.6.enc_shape", version=version)
        assert torch.isfinite(pe).all(), say("tests.6.enc_finite", version=version)


@pytest.mark.todos(version=ENCODING_TODO)
@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4"])
def test_encodings_are_what_the_course_defines(version):
    """A few entries, recomputed from the course's formulas with plain Python floats."""
    T_, C_ = 10, 6
    formulas = {
        "v1": lambda pos, i: pos,
        "v2": lambda pos, i: pos / (T_ - 1),
        "v3": lambda pos, i: math.sin(pos * 10000 ** (-i / C_)),
        "v4": lambda pos, i: (math.sin if i % 2 == 0 else math.cos)(
            pos / 10000 ** ((i - i % 2) / C_)
        ),
    }
    pe = encoding(version, T_, C_)
    for pos in (0, 3, 9):
        for i in range(C_):
            expected = formulas[version](pos, i)
            got = float(pe[pos, i])
            assert abs(got - expected) < 1e-5, say(
                "tests.6.formula", version=version, pos=pos, i=i, expected=expected, got=got
            )
    kept = [say(f"tests.6.props.{name}") for name, holds in PROPERTIES.items() if holds(version)]
    record("encoding", {"version": version, "kept": ", ".join(kept) or "-"})


@pytest.mark.todos("6-4", "6-5")
def test_gpt_ver_3_adds_the_encoding_to_the_token_embeddings():
    torch.manual_seed(0)
    model = GPTVer3(HeadVer4(T, C, C), V, T, C)
    idx = torch.randint(V, (2, 5))
    expected = model.token_embedding_table(idx) + GPTVer3.pos_encodings_v4(T, C)[:5]
    assert_close(model.embed(idx), expected, say("tests.6.embed"))


def every_position_differs(version: str) -> bool:
    pe = encoding(version, 32)
    return bool((torch.cdist(pe, pe) + torch.eye(32) * 1e9).min() > 1e-3)


def values_within_minus_one_and_one(version: str) -> bool:
    return bool(encoding(version, 32).abs().max() <= 1)


def distance_does_not_depend_on_sentence_length(version: str) -> bool:
    short, long = encoding(version, 32), encoding(version, 128)[:32]
    return torch.allclose(torch.cdist(short, short), torch.cdist(long, long), atol=1e-4)


def distance_k_apart_is_the_same_everywhere(version: str) -> bool:
    pe = encoding(version, 32)
    for k in range(1, 32):
        gaps = (pe[k:] - pe[:-k]).norm(dim=-1)
        if not torch.allclose(gaps, gaps[:1].expand_as(gaps), atol=1e-4):
            return False
    return True


PROPERTIES = {  # named in the catalog: tests.6.props.<name>
    "differs": every_position_differs,
    "bounded": values_within_minus_one_and_one,
    "length": distance_does_not_depend_on_sentence_length,
    "shift": distance_k_apart_is_the_same_everywhere,
}
# Which property each encoding lacks: v1 grows without bound, v2's step shrinks as T grows, and
# sin alone (v3) changes its slope with the position. Only v4 has all four.
LACKS = {"v1": "bounded", "v2": "length", "v3": "shift", "v4": None}


@pytest.mark.todos(version=ENCODING_TODO)
@pytest.mark.parametrize("version", LACKS)
@pytest.mark.parametrize("prop", PROPERTIES)
def test_positional_encoding_property_table(version, prop):
    expected = LACKS[version] != prop
    assert PROPERTIES[prop](version) == expected, say(
        "tests.6.has" if expected else "tests.6.lacks",
        version=version, prop=say(f"tests.6.props.{prop}"),
    )  # fmt: skip
