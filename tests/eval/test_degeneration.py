"""Degeneration: assistant-speak, run-on, empty, distinct-2 and its expectation-adjusted variant."""
from __future__ import annotations

import pytest

from wachat_tui.eval.degeneration import (degeneration, distinct_2, ead_2, expected_distinct, is_assistant_speak,
                                          runs_on)


@pytest.mark.parametrize("text", [
    "As an AI, I don't have feelings.", "I'm sorry, but I cannot help with that.",
    "How can I help you today?", "I am a language model trained to assist.", "Is there anything else I can do?",
])
def test_assistant_speak_is_flagged(text):
    assert is_assistant_speak(text)


@pytest.mark.parametrize("text", ["sorry im late", "hahaha no", "can i help with dinner?", "I'm so sorry!!"])
def test_friends_texting_is_not_assistant_speak(text):
    assert not is_assistant_speak(text)


def test_run_on_into_another_participants_turn():
    assert runs_on("sure\nLeo: great, see you", ["Leo"])
    assert runs_on("Leo:ok", ["Leo"])
    assert not runs_on("sure, Leo: see you", ["Leo"])         # a name inside a line is fine
    assert not runs_on("Maya: hi", ["Leo"])


def test_degeneration_numbers():
    texts = ["", "sure\nLeo: see you", "As an AI I can't", "fine"]
    d = degeneration(texts, [("Leo",)] * 4, vocabulary=1000, ran_on=[False, False, False, True])
    assert d.empty_rate == 0.25 and d.assistant_speak_rate == 0.25
    assert d.run_on_rate == 0.5                                 # one in the text, one cut by the backend


def test_distinct_2_and_its_expectation_adjusted_variant():
    varied = ["the cat sat on the mat", "a dog ran in the park"]
    looping = ["i love you i love you i love you"] * 2
    assert distinct_2(varied) == 1.0 and distinct_2(looping) < 0.3
    # short texts: EAD ≈ distinct-2; long texts are lifted toward what uniform draws would give
    assert ead_2(varied, 100_000) == pytest.approx(distinct_2(varied), abs=1e-3)
    assert ead_2(looping, 50) > distinct_2(looping)
    assert expected_distinct(10, 10**9) == pytest.approx(10, rel=1e-6)
    assert expected_distinct(1000, 10) == pytest.approx(10, rel=1e-3)
