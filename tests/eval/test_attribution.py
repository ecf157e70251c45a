"""Attribution: a reply in one persona's habits goes to that persona; fidelity and its guards."""
from __future__ import annotations

import pytest

from wachat_tui.errors import WachatError
from wachat_tui.eval.attribution import fidelity, fit_attributor, training_classes
from wachat_tui.eval.cases import EvalData, RealTurn

from .conftest import LEO_LINES, MAYA_LINES


def test_a_reply_in_one_personas_habits_is_attributed_to_them(two_people):
    clf = fit_attributor(two_people)
    assert set(clf.classes) == {"Maya", "Leo"} and clf.chance == 0.5
    assert clf.predict(["hahaha noooo\nur so bad 😂", "Fair enough. I'll see you on Sunday."]) == ["Maya", "Leo"]
    probs = clf.probabilities(["omg byeee ✨"])[0]
    assert probs["Maya"] > probs["Leo"]
    acc = clf.accuracy_by_persona([c.reply for c in two_people.held_out], [c.persona for c in two_people.held_out])
    assert acc == {"Maya": 1.0, "Leo": 1.0}


def test_fidelity_places_accuracy_between_chance_and_ceiling():
    assert fidelity(0.75, 0.75, 0.5).value == pytest.approx(1.0)
    assert fidelity(0.5, 0.75, 0.5).value == pytest.approx(0.0)
    assert fidelity(0.625, 0.75, 0.5).value == pytest.approx(0.5)
    assert fidelity(0.25, 0.75, 0.5).value == pytest.approx(-1.0)
    # groups: chance is 1/k
    assert fidelity(0.6, 0.8, 0.2).value == pytest.approx(2 / 3)


def test_fidelity_is_undefined_when_the_real_people_cannot_be_told_apart():
    result = fidelity(0.6, 0.5, 0.5)
    assert result.value is None and "undefined" in result.note and "0.50" in result.note
    assert fidelity(None, 0.9, 0.5).value is None


def test_one_persona_project_uses_the_other_participants_as_classes():
    turns = ([RealTurn("Maya", t, 0) for t in MAYA_LINES] + [RealTurn("Leo", t, 0) for t in LEO_LINES]
             + [RealTurn("Ana", "ok", 0)])  # too few turns to be a class
    data = EvalData(("Maya",), ("Maya", "Leo", "Ana"), None, (), tuple(turns))
    classes = training_classes(data)
    assert set(classes) == {"Maya", "Leo"}
    assert fit_attributor(data).predict(["hahaha omg 😂"]) == ["Maya"]


def test_a_chat_with_one_writer_is_a_clear_error():
    data = EvalData(("Maya",), ("Maya",), None, (), tuple(RealTurn("Maya", t, 0) for t in MAYA_LINES))
    with pytest.raises(WachatError) as err:
        training_classes(data)
    assert "two people" in err.value.hint
