"""Style profile and distance on hand-made texts."""
from __future__ import annotations

import pytest

from wachat_tui.eval.style import FEATURES, habit_phrases, style_distance, style_profile


def test_profile_counts_the_habits():
    p = style_profile(["omg hiii\nsaving it now 😂😂", "Sure. See you at 7.", "<photo>\nlook haha..."])
    v = p.values
    assert p.n == 3
    assert v["bubbles"] == pytest.approx(5 / 3)                    # a media bubble counts as a bubble
    assert v["words"] == pytest.approx((5 + 4 + 2) / 3)            # "7" is no word; "<photo>" is removed
    assert v["lowercase"] == pytest.approx(2 / 3)
    assert v["emoji"] == pytest.approx(2 / 3) and p.emoji == {"😂": 2}
    assert v["laughs"] == pytest.approx((2 + 1) / 3)               # 😂 twice + "haha"
    assert v["full_stop"] == pytest.approx(1 / 4)                  # "See you at 7." (not "...", not <photo>)
    assert v["ellipsis"] == pytest.approx(1 / 3)
    assert p.scripts == {"LATIN": 1.0}


def test_identical_sets_are_at_distance_zero():
    texts = ["hahaha omg\nur so bad 😂", "Fine. I'll go!!", "what?"]
    d = style_distance(style_profile(texts), style_profile(texts))
    assert d.summary == 0.0 and set(d.features) == set(FEATURES)


def test_each_feature_is_normalised_to_0_1():
    short = style_profile(["a" * 30])
    long = style_profile(["a" * 120])
    assert style_distance(short, long).features["chars"] == pytest.approx(0.75)   # |30-120| / 120
    emoji_a, emoji_b = style_profile(["yes 😂"]), style_profile(["yes ✨"])
    assert style_distance(emoji_a, emoji_b).features["top_emoji"] == pytest.approx(1.0)
    assert style_distance(emoji_a, emoji_a).features["top_emoji"] == 0.0
    latin, cyrillic = style_profile(["hello there"]), style_profile(["привет hello"])
    assert 0 < style_distance(latin, cyrillic).features["script"] < 1
    d = style_distance(style_profile(["lol ok", "sure!!"]), style_profile(["Sure. I will.", "What? Fine."]))
    assert all(v is None or 0.0 <= v <= 1.0 for v in d.features.values())
    assert d.summary == pytest.approx(sum(v for v in d.features.values() if v is not None)
                                      / sum(v is not None for v in d.features.values()))


def test_habit_phrases_are_a_persons_repeated_phrases():
    habits = habit_phrases(["omg look at u", "okay look at u go", "back to work", "okay back to work now"])
    assert {"look at u", "back to work"} <= habits
    with_habit = style_profile(["well look at u", "nothing"], habits)
    assert with_habit.values["habit_phrases"] == 0.5
