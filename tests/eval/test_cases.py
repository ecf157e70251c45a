"""Held-out cases and train turns: the one adapter from pairs rows, balance, determinism."""
from __future__ import annotations

from collections import Counter

import pytest

from wachat_tui.errors import WachatError
from wachat_tui.eval.cases import case_from_pair_row, load_eval_data, select_cases, split_cases

from .conftest import make_case


def row(i, persona, split, context, reply, excluded=False, **extra):
    return {"id": f"r{i}", "persona": persona, "session": i // 3, "split": split, "time": "2024-01-01T10:00:00",
            "context": [{"author": a, "text": t} for a, t in context], "reply": reply, "excluded": excluded, **extra}


def test_adapter_reads_todays_rows_and_prefers_row_partners():
    r = row(1, "Maya", "validation", [("Leo", "hi"), ("Ana", "hey all")], "omg hi")
    case = case_from_pair_row(r, ["Maya", "Leo", "Ana"], "Friends")
    assert case.persona == "Maya" and case.reply == "omg hi" and case.split == "validation"
    assert case.context == (("Leo", "hi"), ("Ana", "hey all"))
    assert case.partners == ("Leo", "Ana") and case.chat == "Friends"
    typed = case_from_pair_row({**r, "partners": ["Leo"], "chat": None}, ["Maya", "Leo", "Ana"], "Friends")
    assert typed.partners == ("Leo",) and typed.chat is None


def test_split_keeps_excluded_out_and_takes_non_personas_from_contexts():
    rows = [row(0, "Maya", "train", [("Leo", "Morning."), ("Ana", "hey")], "hiii"),
            row(1, "Maya", "train", [("Leo", "Morning."), ("Maya", "hiii"), ("Ana", "hey")], "wait what"),
            row(2, "Maya", "train", [("Leo", "private")], "secret", excluded=True),
            row(3, "Maya", "validation", [("Leo", "Bye.")], "byeee")]
    cases = [case_from_pair_row(r, ["Maya", "Leo", "Ana"], None) for r in rows]
    held, turns = split_cases(cases, excluded={"r2"})
    assert [c.id for c in held] == ["r3"]
    texts = Counter((t.author, t.text) for t in turns)
    # persona turns from replies only (once each), the others' turns from contexts, once per session
    assert texts == Counter({("Maya", "hiii"): 1, ("Maya", "wait what"): 1, ("Leo", "Morning."): 1, ("Ana", "hey"): 1})
    assert ("Leo", "private") not in texts and ("Maya", "secret") not in texts


def test_selection_is_balanced_capped_and_deterministic():
    cases = [make_case(i, "Maya", f"m{i}") for i in range(30)] + [make_case(100 + i, "Leo", f"l{i}") for i in range(4)]
    chosen = select_cases(cases, 10, seed=1)
    assert len(chosen) == 10
    # round-robin: the persona with 4 cases gives all 4, the other fills the rest
    assert Counter(c.persona for c in chosen) == {"Maya": 6, "Leo": 4}
    assert [c.id for c in chosen[:2]] and chosen[0].persona != chosen[1].persona
    assert [c.id for c in select_cases(cases, 10, seed=1)] == [c.id for c in chosen]
    assert [c.id for c in select_cases(cases, 10, seed=2)] != [c.id for c in chosen]
    assert len(select_cases(cases, None)) == 34
    with pytest.raises(WachatError):
        select_cases(cases, 0)


def test_demo_project_cases(imported_demo):
    data = load_eval_data(imported_demo)
    assert data.personas == ("Maya", "Leo") and data.chat is None
    assert {c.split for c in data.held_out} == {"validation"}
    assert Counter(c.persona for c in data.held_out).keys() == {"Maya", "Leo"}
    assert all(c.partners == (("Leo",) if c.persona == "Maya" else ("Maya",)) for c in data.held_out)
    assert len(data.train_turns) > 10 * len(data.held_out) / 2
    chosen = select_cases(data.held_out, 20)
    assert Counter(c.persona for c in chosen) == {"Maya": 10, "Leo": 10}


def test_a_folder_that_is_not_a_project_is_one_clear_error(tmp_path):
    with pytest.raises(WachatError) as err:
        load_eval_data(tmp_path)
    assert "not a wachat project" in err.value.message
