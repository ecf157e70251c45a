"""The blind test's rules: which examples are played, the seeded order, the score, the history on disk."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from wachat_tui.core.layout import DamagedFile, RunFiles
from wachat_tui.errors import WachatError
from wachat_tui.eval.blind import BlindGame, BlindSession, draw_rounds, playable, read_sessions, save_session
from wachat_tui.eval.report import Example


def _example(i: int, real: str | None = None, model: str | None = None) -> Example:
    return Example(f"c{i}", "Maya" if i % 2 else "Leo", (("Leo", f"question {i}"),),
                   real if real is not None else f"real reply {i}", None,
                   model if model is not None else f"model reply {i}")


EXAMPLES = [_example(i) for i in range(30)]


def test_examples_the_player_cannot_tell_apart_are_not_played():
    same = _example(1, "omg yes\nsee u", "omg  yes see U")  # the same words: nothing to tell apart
    empty = _example(2, "hi", "   ")
    assert playable([same, empty, EXAMPLES[3]]) == [EXAMPLES[3]]


def test_rounds_are_drawn_under_the_seed_and_both_orders_occur():
    rounds = draw_rounds(EXAMPLES, 10, seed=3)
    assert draw_rounds(EXAMPLES, 10, seed=3) == rounds  # replayable
    assert len(rounds) == 10 and len({r.example.case_id for r in rounds}) == 10  # each example once
    assert draw_rounds(EXAMPLES, 10, seed=4) != rounds
    # the side of the real reply is a coin toss per round: over many games both sides come up
    # about equally often, and within a game both orders occur
    sides = [r.real_first for seed in range(200) for r in draw_rounds(EXAMPLES, 10, seed=seed)]
    assert 0.45 < sum(sides) / len(sides) < 0.55
    assert {r.real_first for r in rounds} == {True, False}
    for r in rounds:
        assert r.replies[r.real_choice - 1] == r.example.real
        assert r.replies[2 - r.real_choice] == r.example.fine_tuned


def test_fewer_examples_than_rounds_give_fewer_rounds_and_bad_counts_are_refused():
    assert len(draw_rounds(EXAMPLES[:4], 10, seed=0)) == 4
    for bad in (0, 101):
        with pytest.raises(WachatError):
            draw_rounds(EXAMPLES, bad, seed=0)


def test_the_model_fools_the_player_when_they_pick_its_reply():
    game = BlindGame(draw_rounds(EXAMPLES, 4, seed=1), seed=1)
    with pytest.raises(WachatError):
        game.session()  # no score before the end
    outcomes = []
    for round_ in list(game.rounds):
        wrong = 3 - round_.real_choice
        choice = wrong if len(outcomes) % 2 == 0 else round_.real_choice
        outcomes.append(game.pick(choice))
    assert outcomes == [True, False, True, False] and game.fooled == 2 and game.done
    with pytest.raises(WachatError):
        game.pick(1)
    when = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    assert game.session("m.gguf", when) == BlindSession("2026-11-30T12:00:00+00:00", 4, 2, 1, "m.gguf")


def test_scores_are_kept_per_run_and_a_damaged_history_is_never_overwritten(tmp_path):
    run = RunFiles(tmp_path / "runs" / "r1")
    assert read_sessions(run) == []
    first = BlindSession("2026-11-30T12:00:00+00:00", 10, 3, 5, "a.gguf")
    second = BlindSession("2026-12-01T09:00:00+00:00", 5, 4, None, "")
    save_session(run, first)
    assert save_session(run, second) == [first, second]
    assert read_sessions(run) == [first, second]
    assert json.loads(run.blind.read_text())["sessions"][0] == {
        "date": "2026-11-30T12:00:00+00:00", "rounds": 10, "fooled": 3, "seed": 5, "model": "a.gguf"}
    assert run.blind.stat().st_mode & 0o777 == 0o600
    run.blind.write_text('{"sessions": [{"date": "x"}]}')
    with pytest.raises(DamagedFile):
        save_session(run, first)
    assert run.blind.read_text() == '{"sessions": [{"date": "x"}]}'
