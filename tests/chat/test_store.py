"""The chat history in SQLite: every line committed, survives a reopen, owner-only."""
from __future__ import annotations

import stat
from datetime import datetime

from wachat_tui.chat.lines import ChatLine
from wachat_tui.chat.store import ChatStore


def test_lines_survive_a_reopen(tmp_path):
    project = tmp_path / "proj"
    store = ChatStore(project)
    conv = store.new_conversation("Maya & Leo", personas=["Leo"], model="x.gguf")
    t = datetime(2024, 5, 1, 12, 0, 5)
    store.add(conv, ChatLine("Maya", "hi", False, t), played="Leo")
    store.add(conv, ChatLine("Leo", "hey 😀", True, t), played="Leo")
    # no close(): a crash right now must not lose the committed lines
    again = ChatStore(project)
    assert again.history(conv) == [ChatLine("Maya", "hi", False, t), ChatLine("Leo", "hey 😀", True, t)]
    assert again.played(conv) == ["Leo", "Leo"]
    [info] = again.conversations()
    assert (info.id, info.title, info.personas, info.n_messages) == (conv, "Maya & Leo", ("Leo",), 2)
    assert stat.S_IMODE((project / "chat.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE(project.stat().st_mode) == 0o700
    again.close()
    store.close()


def test_truncate_keeps_the_first_lines_only(tmp_path):
    with ChatStore(tmp_path / "proj") as store:
        keep_me = store.new_conversation("other")
        store.add(keep_me, ChatLine("Ana", "untouched"))
        conv = store.new_conversation("Maya & Leo")
        for i in range(5):
            store.add(conv, ChatLine("Maya", f"line {i}"))
        store.truncate(conv, 2)
        assert [l.text for l in store.history(conv)] == ["line 0", "line 1"]
        store.add(conv, ChatLine("Leo", "after"))
        assert [l.text for l in store.history(conv)] == ["line 0", "line 1", "after"]
        assert [l.text for l in store.history(keep_me)] == ["untouched"]
        store.truncate(conv, 0)
        assert store.history(conv) == []
