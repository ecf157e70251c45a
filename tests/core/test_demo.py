"""The bundled demo chat: big enough, parseable, reproducible, two clearly different styles."""
from __future__ import annotations

import pytest

from wachat_tui.core.dataset import DatasetOptions, build_dataset
from wachat_tui.core.parse import parse_export
from wachat_tui.core.stats import compute_stats
from wachat_tui.paths import demo_export

from ..conftest import DEMO_FRIEND, DEMO_ME


@pytest.fixture(scope="module")
def parsed():
    return parse_export(demo_export())


@pytest.fixture(scope="module")
def stats(parsed):
    return compute_stats(parsed.messages, me=DEMO_ME, top_n=25)


def _make_demo():
    """tools/make_demo.py, which is not part of the package (its story data need not ship)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "make_demo.py"
    spec = importlib.util.spec_from_file_location("make_demo", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_file():
    assert _make_demo().generate() == demo_export().read_text(encoding="utf-8")


def test_demo_is_a_realistic_android_export(parsed):
    info = parsed.info
    assert info.platform == "android" and info.date_order == "DMY" and info.time_format == "24h"
    assert info.unparsed == []
    assert info.participants == [DEMO_ME, DEMO_FRIEND]
    msgs = parsed.messages
    assert len(msgs) >= 1500
    assert msgs[0].kind == "system" and "end-to-end encrypted" in msgs[0].text
    assert (msgs[-1].time - msgs[0].time).days >= 120
    kinds = info.counts_by_kind
    assert kinds["media"] >= 30 and kinds["deleted"] >= 3 and kinds["location"] >= 1
    assert {m.media_type for m in msgs if m.kind == "media"} >= {"photo", "video", "voice", "sticker", "document"}
    assert any(m.text == "<Media omitted>" for m in msgs)
    assert sum(m.edited for m in msgs) >= 2
    assert sum("\n" in m.text for m in msgs if m.kind == "text") >= 5
    assert all(a.time <= b.time for a, b in zip(msgs, msgs[1:]))


def test_styles_differ_clearly(stats):
    maya, leo = stats["people"][DEMO_ME], stats["people"][DEMO_FRIEND]
    assert maya["all_lowercase_ratio"] > 0.9 and leo["all_lowercase_ratio"] < 0.2
    assert maya["lowercase_start_ratio"] > 0.9 and leo["lowercase_start_ratio"] < 0.2
    assert maya["endings"]["none"] > 0.7 and maya["endings"]["."] < 0.02
    assert leo["endings"]["."] > 0.5
    assert maya["burst_mean"] > 2 and leo["burst_mean"] < 1.2
    assert leo["words_mean"] > 2 * maya["words_mean"]
    assert maya["laughs"]["top"][0][0].startswith("haha") and leo["laughs"]["top"][0][0] == "lol"
    maya_emoji = {e for e, _ in maya["emoji"]["top"][:4]}
    leo_emoji = {e for e, _ in leo["emoji"]["top"][:2]}
    assert {"🙈", "✨", "😂"} <= maya_emoji and leo_emoji == {"👍", "😅"}
    assert "okay okay" in [p for p, _ in maya["top_phrases"]]
    assert "sounds good" in [p for p, _ in leo["top_phrases"]]


def test_demo_dataset_sizes(parsed):
    res = build_dataset(parsed.messages, DEMO_ME, DatasetOptions(redact=True))
    r = res.report
    assert r["sessions"] >= 150 and r["samples"]["train"] >= 200 and r["samples"]["validation"] >= 10
    assert r["pairs"]["by_persona"][DEMO_ME]["train"] > 250 and r["pairs"]["by_persona"][DEMO_FRIEND]["train"] > 250
    assert all(r["redactions"][k] >= 1 for k in ("phone", "email", "url", "card"))
