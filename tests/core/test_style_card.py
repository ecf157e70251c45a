"""Style cards: each persona's habits in one line, from their own training replies."""
from __future__ import annotations

from wachat_tui.core.prompt import system_prompt
from wachat_tui.core.style_card import MIN_REPLIES, style_card, style_cards

SAM = ["lmao i'm alive barely...\nthat voice note should be deleted ngl",
       "i know i know...", "say less. thai or pizza", "omw in like 40...", "lmao ngl that's fair",
       "i do not talk to gerald in a baby voice", "ok once. it was one time...", "ngl i'm tired tho 😭",
       "lmao no", "honestly kinda weird tho", "ngl i miss it 💀", "i'll bring food tho"]
NOOR = ["SAM\nare you alive?", "Omg don't!! I slept till 5pm", "Hahah the raccoon part",
        "I have nothing in my fridge except hummus", "THAI\nPad see ew please ❤️", "Omg he's got a new leaf!!",
        "Yalla get home safe!!", "Hahah CLINT YEASTWOOD", "I love this for you!!", "Mama says hi ❤️",
        "Omg wait what", "I'm on nights again!!"]


def test_a_card_names_what_tells_one_person_from_the_other():
    sam = style_card("Sam", SAM * 3, NOOR * 3, names=["Sam", "Noor"])
    noor = style_card("Noor", NOOR * 3, SAM * 3, names=["Sam", "Noor"])
    assert sam.startswith("Sam's texting habits: ") and sam.endswith(".")
    assert "writes in lowercase" in sam and "trails off with ..." in sam and "writes i, not I" in sam
    assert "laughs with lmao" in sam and "ngl" in sam.split("says ")[1]
    assert "starts messages with a capital letter" in noor and "uses !!" in noor
    assert "omg" in noor.split("says ")[1] and "❤" in noor
    # habits that are not there are not claimed
    assert "lowercase" not in noor and "!!" not in sam and "full stop" not in sam


def test_names_numbers_and_common_words_are_never_signature_words():
    mine = [f"hey Noor call 0612345678 the thing {i}" for i in range(20)]
    others = [f"ok see you {i}" for i in range(20)]
    card = style_card("Sam", mine, others, names=["Sam", "Noor"])
    said = card.split("says ")[1] if "says " in card else ""
    assert "noor" not in said and "0612345678" not in card and "the" not in said.split(", ")
    assert "thing" in said  # what Sam does say more than Noor


def test_media_tags_are_not_words_anyone_typed():
    mine = [f"look\n<photo>\nthe view from {i}" for i in range(30)] + ["<photo>"] * 10
    card = style_card("Maya", mine, ["ok"] * 20)
    assert "photo" not in card and "<" not in card
    assert "view" in card.split("says ")[1]


def test_too_few_replies_give_no_card():
    assert style_card("Sam", SAM[:MIN_REPLIES - 1], NOOR) is None


def _row(persona, partner, pairs):
    messages = [{"role": "system", "content": system_prompt(persona, [partner]), "train": False}]
    for theirs, mine in pairs:
        messages.append({"role": "user", "content": theirs, "train": False})
        messages.append({"role": "assistant", "content": mine, "train": True})
    return {"persona": persona, "partners": [partner], "messages": messages}


def test_cards_from_dataset_rows_count_each_turn_once_and_skip_untrained_turns():
    rows = [_row("Sam", "Noor", list(zip(NOOR, SAM))), _row("Noor", "Sam", list(zip(SAM, NOOR)))]
    # an overlapping window repeats Sam's turns: they must not count twice
    rows.append(_row("Sam", "Noor", list(zip(NOOR[:4], SAM[:4]))))
    rows[0]["messages"].append({"role": "assistant", "content": "EXCLUDED EXCLUDED EXCLUDED", "train": False})
    cards = style_cards(rows)
    assert cards == {"Sam": style_card("Sam", SAM, NOOR, ["Sam", "Noor"]),
                     "Noor": style_card("Noor", NOOR, SAM, ["Sam", "Noor"])}
    assert "excluded" not in cards["Sam"].lower()
    # one persona trained: the partner's turns in the same samples are the contrast
    only_sam = style_cards(rows[:1])
    assert set(only_sam) == {"Sam"} and "writes in lowercase" in only_sam["Sam"]
    assert style_cards(rows, personas=["Noor"]).keys() == {"Noor"}


def test_the_prompt_says_the_card_last():
    card = "Sam's texting habits: writes in lowercase."
    assert system_prompt("Sam", ["Noor"], card=card) == system_prompt("Sam", ["Noor"]) + " " + card
    assert system_prompt("Sam", ["Noor"], card=None) == system_prompt("Sam", ["Noor"])
