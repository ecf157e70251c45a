"""Copies of training turns and leaked identifiers; media-only replies."""
from __future__ import annotations

from wachat_tui.eval.memorisation import CopyIndex, LeakDetector, mask
from wachat_tui.eval.replies import is_media_only, strip_media

TRAIN = [
    "The department meeting ran over by an hour and nobody noticed the fire alarm",
    "omg hiii\nsaving it now\nwait what lake 😂",
    "i don't know what to cook tonight honestly",
    "Call me on +44 7700 900123 or write to leo.k@example.org",
    "the menu is at https://www.example.com/menu/ if you want",
]


def test_a_verbatim_training_line_is_a_copy():
    index = CopyIndex(TRAIN)
    assert index.is_copy("omg hiii\nsaving it now\nwait what lake 😂")
    assert index.best_match("omg hiii\nsaving it now\nwait what lake").coverage == 1.0
    # one bubble of a longer turn, re-bubbled differently, is still that turn
    assert index.is_copy("The department meeting ran over by an hour")


def test_a_near_copy_with_one_word_changed_is_caught():
    index = CopyIndex(TRAIN)
    near = "The department meeting ran over by an hour and everybody noticed the fire alarm"
    match = index.best_match(near)
    assert match.turn == 0 and 0.8 <= match.coverage < 1.0
    assert index.is_copy(near)


def test_an_unrelated_reply_sharing_a_stock_phrase_is_not_a_copy():
    index = CopyIndex(TRAIN)
    assert not index.is_copy("i don't know if the bus is running after the storm")
    assert not index.is_copy("we could go to the lake on sunday if the weather holds")
    assert index.best_match("completely different words here today") is None
    assert not index.is_copy("wait what lake")            # under 4 words: people repeat short lines
    assert index.copy_rate(["omg hiii\nsaving it now\nwait what lake", "something new entirely for once"]) == 0.5


def test_a_leaked_phone_number_email_and_url_are_caught():
    leaks = LeakDetector(TRAIN)
    found = leaks.find("sure, ring 07700 900123 or mail LEO.K@example.org, menu: http://example.com/menu")
    assert {kind for kind, _ in found} == {"phone", "email", "url"}
    assert leaks.find("my number is +1 555 123 4567, see www.other.org") == []
    assert leaks.find("meet at 10:30 on 12/05/2024, it costs 1500") == []
    assert mask("+44 7700 900123") == "+4•••••••••••23"


def test_media_only_replies():
    assert is_media_only("<photo>") and is_media_only("<photo>\n<video>") and is_media_only(" <voice note> ")
    assert is_media_only("<Media omitted>")
    assert not is_media_only("<photo> look at this") and not is_media_only("look\n<photo>")
    assert not is_media_only("") and not is_media_only("<3")
    assert strip_media("<photo>\nfound ur twin <sticker>") == "found ur twin"
