"""The course's YAML config: loaded into CourseConfig, and every bad value named by its key."""

from __future__ import annotations

import dataclasses
import math

import pytest

from learngpt import CourseConfig, UserError, load_config
from learngpt.config import ConfigError, config_from_dict

SIZE_KEYS = [
    "batch_size",
    "block_size",
    "max_iters",
    "eval_iters",
    "eval_interval",
    "embed_size",
    "n_layers",
    "n_heads",
]


@pytest.fixture
def write_config(tmp_path):
    """write_config("key: value\\n...") -> the path of a fresh YAML file with that text."""

    def write(text: str):
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_course_yaml_holds_the_course_values(course_config):
    assert course_config == CourseConfig(
        batch_size=32,
        block_size=8,
        max_iters=5000,
        eval_iters=200,
        eval_interval=500,
        learning_rate=0.001,
        embed_size=16,
        n_layers=10,
        n_heads=8,
        dropout=0.1,
        train_ratio=0.9,
    )
    assert type(course_config.learning_rate) is float and type(course_config.batch_size) is int


def test_a_partial_file_keeps_the_defaults_for_the_other_keys(write_config):
    config = load_config(write_config("batch_size: 4\nlearning_rate: 1\n"))
    assert config == dataclasses.replace(CourseConfig(), batch_size=4, learning_rate=1.0)
    assert type(config.learning_rate) is float  # an int is accepted where a float is expected
    assert load_config(write_config("")) == CourseConfig()  # an empty file: all defaults


def test_config_errors_are_user_errors():
    assert issubclass(ConfigError, UserError)


def check_names(error: pytest.ExceptionInfo, *words: str) -> None:
    message = str(error.value)
    assert "\n" not in message  # one line, as the command line prints it
    for word in words:
        assert word in message


@pytest.mark.parametrize("text", ["batchsize: 8\n", "batch_size: 8\nbatchsize: 8\n"])
def test_an_unknown_key_is_named(write_config, text):
    path = write_config(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    check_names(error, "'batchsize'", "unknown", str(path), "batch_size")  # known keys listed


def test_a_non_string_key_is_named_too(write_config):
    with pytest.raises(ConfigError) as error:
        load_config(write_config("1: 2\nbatch_size: 8\n"))
    check_names(error, "'1'", "unknown")


@pytest.mark.parametrize(
    ("key", "yaml_value"),
    [
        ("batch_size", "'32'"),  # a string, not a number
        ("batch_size", "3.5"),  # a float where an int is needed
        ("block_size", "true"),  # a bool is not an int here
        ("n_heads", "null"),
        ("learning_rate", "fast"),
        ("train_ratio", "[0.9]"),
        ("dropout", "{p: 0.1}"),
    ],
)
def test_a_value_of_the_wrong_type_is_named(write_config, key, yaml_value):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(f"{key}: {yaml_value}\n"))
    check_names(error, f"'{key}'", "must be")


@pytest.mark.parametrize("key", SIZE_KEYS)
@pytest.mark.parametrize("value", [0, -1])
def test_a_non_positive_size_is_named(key, value):
    with pytest.raises(ConfigError) as error:
        config_from_dict({key: value})
    check_names(error, f"'{key}'", "positive")


@pytest.mark.parametrize(("embed_size", "n_heads"), [(17, 8), (16, 3), (4, 8)])
def test_embed_size_must_be_divisible_by_n_heads(embed_size, n_heads):
    with pytest.raises(ConfigError) as error:
        config_from_dict({"embed_size": embed_size, "n_heads": n_heads})
    check_names(error, "'embed_size'", "n_heads", "divisible", str(embed_size), str(n_heads))


def test_embed_size_divisible_by_n_heads_is_fine():
    assert config_from_dict({"embed_size": 24, "n_heads": 6}).embed_size == 24
    assert config_from_dict({"embed_size": 7, "n_heads": 1}).n_heads == 1


@pytest.mark.parametrize("ratio", [0, 0.0, 1, 1.0, 1.5, -0.1, math.nan])
def test_train_ratio_outside_zero_one_is_named(ratio):
    with pytest.raises(ConfigError) as error:
        config_from_dict({"train_ratio": ratio})
    check_names(error, "'train_ratio'")


@pytest.mark.parametrize("ratio", [0.01, 0.5, 0.999])
def test_train_ratio_inside_zero_one_is_fine(ratio):
    assert config_from_dict({"train_ratio": ratio}).train_ratio == ratio


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("learning_rate", 0),
        ("learning_rate", -0.001),
        ("learning_rate", math.inf),
        ("learning_rate", math.nan),
        ("dropout", 1.0),
        ("dropout", -0.1),
    ],
)
def test_other_impossible_values_are_named(key, value):
    with pytest.raises(ConfigError) as error:
        config_from_dict({key: value})
    check_names(error, f"'{key}'")


def test_the_file_is_named_when_a_value_is_wrong(write_config):
    path = write_config("train_ratio: 2\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    check_names(error, str(path), "'train_ratio'")


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError) as error:
        load_config(tmp_path / "nope.yaml")
    check_names(error, "nope.yaml", "does not exist")


def test_invalid_yaml_names_the_line(write_config):
    with pytest.raises(UserError) as error:
        load_config(write_config("batch_size: 32\nblock_size: [8\n"))
    check_names(error, "not valid YAML", "line")


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "32\n"])
def test_a_file_that_is_not_a_mapping_is_a_user_error(write_config, text):
    with pytest.raises(UserError) as error:
        load_config(write_config(text))
    check_names(error, "mapping")


def test_replace_returns_a_checked_copy(course_config):
    smaller = course_config.replace(batch_size=4, learning_rate=1)
    assert smaller.batch_size == 4 and smaller.learning_rate == 1.0
    assert course_config.batch_size == 32  # the original is untouched
    with pytest.raises(ConfigError, match="'batch_size'"):
        course_config.replace(batch_size=0)
    with pytest.raises(ConfigError, match="'batch_sise'"):
        course_config.replace(batch_sise=4)
    assert course_config.to_dict() == dataclasses.asdict(course_config)
