"""Eval fixtures: the demo project imported once per module, and hand-made cases."""
from __future__ import annotations

from pathlib import Path

import pytest

from wachat_tui.eval.cases import Case, EvalData, RealTurn

MAYA_LINES = [
    "omg hiii\nsaving it now 😂", "hahahaha noooo\nthats so bad", "wait what\nur joking 😂",
    "okay okay\ni need coffee first ✨", "lol yes\nsunday works", "omg look at u\nim so proud 😂",
    "hahaha perfect\nwe will sleep under the stars", "sending help\nand snacks ✨", "byeee\ntalk later 😂",
    "nooo\nwhy would u do that", "hahah\nno idea\nbut its fine", "yes!!\nwhat time again",
    "omg yes\nwatch it tonight", "okay back to work\nbyeee ✨", "hahahaha\ni need this",
]
LEO_LINES = [
    "Sounds good. I'll book the tickets.", "Well done! That's great news.", "I think I'm getting a cold.",
    "Thanks. My knees are less proud.", "What did they say? I'm curious.", "Honestly, that's a great response.",
    "Right, time to cook. Speak later.", "I'm thinking of getting a bike. Good idea?",
    "The meeting ran over by an hour. Again.", "At the market. I'll get you one next time.",
    "Have fun. Don't stay up too late.", "That sounds exhausting. Get some rest.",
    "Fair enough. Let me know how it goes.", "I'll be there at seven. Save me a seat.",
    "Good morning. The weather is terrible again.",
]


def make_case(i: int, persona: str, reply: str, context=(("Leo", "How are you?"),), partners=None) -> Case:
    others = partners if partners is not None else tuple(p for p in ("Maya", "Leo") if p != persona)
    return Case(id=f"c{i}", persona=persona, context=tuple(context), reply=reply, partners=tuple(others))


@pytest.fixture
def two_people() -> EvalData:
    """A 1:1 chat whose two personas text very differently; held-out turns in each one's habits."""
    train = [RealTurn("Maya", t, 0) for t in MAYA_LINES] + [RealTurn("Leo", t, 0) for t in LEO_LINES]
    held = [
        make_case(1, "Maya", "hahaha omg\nthat is so u 😂", context=(("Leo", "I fell off my bike."),)),
        make_case(2, "Leo", "That's brilliant. I'll call you tomorrow.", context=(("Maya", "i got the job!!"),)),
        make_case(3, "Maya", "nooo\nwhy ✨", context=(("Leo", "The shop was closed."),)),
        make_case(4, "Leo", "Good luck. Let me know how it goes.", context=(("Maya", "interview today"),)),
    ]
    return EvalData(("Maya", "Leo"), ("Maya", "Leo"), None, tuple(held), tuple(train))


@pytest.fixture(scope="module")
def imported_demo(tmp_path_factory) -> Path:
    """The demo chat imported as a user does: `wachat import <demo> --me Maya --project demo`."""
    from wachat_tui.paths import demo_export

    from ..conftest import run_wachat

    home = tmp_path_factory.mktemp("eval-home")
    run_wachat("import", str(demo_export()), "--me", "Maya", "--project", "demo", home=home, check=True)
    return home / "projects" / "demo"
