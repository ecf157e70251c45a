"""Chat fixtures: the embedded SmolLM2 GGUF loaded once per session (it loads in < 1 s)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wachat_tui.chat.engine import ChatEngine, Sampling
from wachat_tui.chat.lines import ChatLine
from wachat_tui.core.embedded import default_gguf


@pytest.fixture(scope="session")
def embedded_gguf():
    return default_gguf()


@pytest.fixture(scope="session")
def engine(embedded_gguf):
    eng = ChatEngine(embedded_gguf, n_ctx=1024, seed=7, sampling=Sampling(max_tokens=24))
    yield eng
    eng.close()


def lines(*pairs: tuple[str, str], start: datetime | None = None) -> list[ChatLine]:
    t = start or datetime(2024, 5, 1, 18, 0)
    return [ChatLine(a, x, False, t + timedelta(minutes=i)) for i, (a, x) in enumerate(pairs)]


@pytest.fixture
def history():
    return lines(
        ("Maya", "hey! how was the concert?"),
        ("Leo", "amazing"),
        ("Leo", "they played 3 encores"),
        ("Maya", "no way!! so jealous"),
        ("Maya", "what did they open with?"),
    )
