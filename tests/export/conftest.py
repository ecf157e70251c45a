"""Export fixtures: tiny Llama checkpoints (BPE and SentencePiece) built once per session."""
from __future__ import annotations

import pytest

from .tiny import make_adapter, make_bpe_base, make_spm_base


@pytest.fixture(scope="session")
def tiny_bpe(tmp_path_factory):
    return make_bpe_base(tmp_path_factory.mktemp("tiny-bpe") / "base")


@pytest.fixture(scope="session")
def tiny_bpe_adapter(tiny_bpe, tmp_path_factory):
    return make_adapter(tiny_bpe, tmp_path_factory.mktemp("tiny-bpe-adapter") / "adapter")


@pytest.fixture(scope="session")
def tiny_spm(tmp_path_factory):
    return make_spm_base(tmp_path_factory.mktemp("tiny-spm") / "base")


@pytest.fixture(scope="session")
def tiny_spm_adapter(tiny_spm, tmp_path_factory):
    return make_adapter(tiny_spm, tmp_path_factory.mktemp("tiny-spm-adapter") / "adapter")
