"""Export fixtures: llama.cpp's converter (set up by `make setup`) and tiny checkpoints built once per session."""
from __future__ import annotations

import pytest

from wachat_tui.export.converter import Converter, find_converter
from wachat_tui.paths import cache_home

from .tiny import FAMILIES, Assets, make_adapter, make_base


@pytest.fixture(scope="session")
def converter() -> Converter:
    """The converter export uses; missing → the ModelError that tells how to set it up."""
    return find_converter()


@pytest.fixture(scope="session")
def assets(converter) -> Assets:
    # Built tokenizers are kept in the (test) cache: rebuilding a 150k vocabulary costs seconds.
    return Assets(converter.root / "models", cache_home() / "test-tokenizers")


@pytest.fixture(scope="session")
def tiny_bpe(assets, tmp_path_factory):
    """SmolLM2-like: Llama, byte-level BPE (GPT-2 vocabulary), ChatML."""
    return make_base(FAMILIES["smollm"], tmp_path_factory.mktemp("tiny-bpe") / "base", assets)


@pytest.fixture(scope="session")
def tiny_bpe_adapter(tiny_bpe, tmp_path_factory):
    return make_adapter(tiny_bpe, tmp_path_factory.mktemp("tiny-bpe-adapter") / "adapter", std=0.02)


@pytest.fixture(scope="session")
def tiny_spm(assets, tmp_path_factory):
    """TinyLlama-like: Llama, SentencePiece with BOS, Zephyr template."""
    return make_base(FAMILIES["tinyllama"], tmp_path_factory.mktemp("tiny-spm") / "base", assets)


@pytest.fixture(scope="session")
def tiny_spm_adapter(tiny_spm, tmp_path_factory):
    return make_adapter(tiny_spm, tmp_path_factory.mktemp("tiny-spm-adapter") / "adapter", std=0.02)
