"""TrainConfig: the model's settings as one `model:` section, flat flags, older files still read."""

from __future__ import annotations

import dataclasses

import pytest

from learngpt.commands import build_parser
from learngpt.commands.train import config_overrides
from learngpt.config import ConfigError, TrainConfig, config_from_dict, load_config
from learngpt.model import GPTConfig


def test_the_model_settings_are_one_gptconfig_field_not_copies():
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    model_keys = {f.name for f in dataclasses.fields(GPTConfig)}
    assert train_keys & model_keys == set()  # nothing declared twice
    assert isinstance(TrainConfig().model, GPTConfig)
    assert "vocab_size" not in train_keys and "bpe_vocab_size" in train_keys


def test_a_model_section_and_flat_model_keys_load_alike(tmp_path):
    nested = tmp_path / "nested.yaml"
    nested.write_text("max_iters: 7\nmodel:\n  n_layers: 3\n  rotary: false\n")
    flat = tmp_path / "flat.yaml"  # the layout before the section (issue 27)
    flat.write_text("max_iters: 7\nn_layers: 3\nrotary: false\nvocab_size: 300\n")
    a, b = load_config(nested, TrainConfig), load_config(flat, TrainConfig)
    assert a.model == b.model and a.model.n_layers == 3 and a.model.rotary is False
    assert a.model.embed_size == TrainConfig().model.embed_size  # the rest: the recipe's
    assert b.bpe_vocab_size == 300  # an old top-level vocab_size was the BPE target


def test_a_bad_model_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="'model.n_layer'"):
        config_from_dict({"model": {"n_layer": 3}}, TrainConfig)
    with pytest.raises(ConfigError, match="'embed_size'.*divisible"):
        config_from_dict({"model": {"embed_size": 30, "n_heads": 4}}, TrainConfig)
    with pytest.raises(ConfigError, match="'activation'.*relu_squared"):
        TrainConfig().replace(activation="swish")
    with pytest.raises(ConfigError, match="'model'.*mapping"):
        config_from_dict({"model": 3}, TrainConfig)


def test_the_flags_stay_flat_and_vocab_size_names_the_bpe_target():
    parser = build_parser()
    args = parser.parse_args(["train", "--n-layers", "3", "--no-rotary", "--vocab-size", "300"])
    overrides = config_overrides(args, TrainConfig)
    assert overrides == {"n_layers": 3, "rotary": False, "bpe_vocab_size": 300}
    config = TrainConfig().replace(**overrides)
    assert config.model.n_layers == 3 and config.bpe_vocab_size == 300
    again = parser.parse_args(["train", "--bpe-vocab-size", "300"])
    assert config_overrides(again, TrainConfig) == {"bpe_vocab_size": 300}


def test_replace_routes_flat_model_keys_and_keeps_the_rest():
    config = TrainConfig().with_vocab(65).replace(block_size=32, dropout=0.1, max_iters=9)
    assert (config.model.block_size, config.model.dropout, config.max_iters) == (32, 0.1, 9)
    assert config.block_size == 32 and config.model.vocab_size == 65
    assert config.flat()["block_size"] == 32 and "model" not in config.flat()
