"""Backends: the chat's prompt and clean-up; the package stays light to import."""
from __future__ import annotations

import subprocess
import sys

from wachat_tui.core.prompt import system_prompt
from wachat_tui.eval.backends import clean_reply, history_lines, persona_messages
from wachat_tui.eval.cases import Case


def test_persona_messages_are_the_training_format():
    case = Case("c1", "Maya", (("Leo", "Morning."), ("Maya", "hiii\nhow r u"), ("Leo", "Tired.\nYou?")),
                "same", ("Leo",))
    msgs = persona_messages(case)
    assert msgs[0] == {"role": "system", "content": system_prompt("Maya", ["Leo"], None)}
    assert [m["role"] for m in msgs[1:]] == ["user", "assistant", "user"]
    assert msgs[2]["content"] == "hiii\nhow r u" and msgs[3]["content"] == "Tired.\nYou?"
    assert [line.text for line in history_lines(case)] == ["Morning.", "hiii", "how r u", "Tired.", "You?"]


def test_group_messages_name_the_speakers():
    case = Case("c2", "Maya", (("Leo", "Who's in?"), ("Ana", "me!")), "me too", ("Leo", "Ana"), chat="Hike")
    msgs = persona_messages(case)
    assert "Hike" in msgs[0]["content"]
    assert msgs[1] == {"role": "user", "content": "Leo: Who's in?\nAna: me!"}


def test_clean_reply_is_the_chats_clean_up():
    assert clean_reply("  Maya: omg\n\n  yes  \n", "Maya", ["Leo"]) == ("omg\nyes", False)
    assert clean_reply("sure\nLeo: great\nMaya: ok", "Maya", ["Leo"]) == ("sure", True)


def test_importing_the_measure_loads_no_heavy_library():
    code = ("import sys, wachat_tui.eval.measure, wachat_tui.eval.render, wachat_tui.eval.estimate;"
            "print(sorted(m for m in ('torch', 'transformers', 'llama_cpp', 'textual', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
