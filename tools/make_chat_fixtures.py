"""Build the realistic chat fixtures under tests/fixtures/chats/ from hand-written scene scripts.

    python tools/make_chat_fixtures.py            # write every fixture + EXPECTED.json
    python tools/make_chat_fixtures.py --check    # rebuild in memory, fail if a file differs

The *content* lives in ``tools/chat_scenes/*.txt``, written by hand line by line; this script
(with ``tools/chatgen/``: ``script.py`` reads and times the scenes, ``exports.py`` writes each
export format) only adds what a phone adds: timestamps (seeded pauses and typing time), the export's own line
format for each platform and locale, placeholders for media, deletions, edits and calls.
The same seed always gives the same bytes.

Scene script format (one file per chat)::

    # a comment
    @ 2024-01-08 Mon 19:42         a scene starts (local time; the weekday is checked)
    S: text                        a message by the speaker with code S
    S: line one\\nline two          one message over two lines
    ~ 25m                          an extra pause before the next message (s, m, h)
    N: [photo] caption             media: photo video voice sticker gif doc (caption optional)
    N: [sticker 😂]                 Telegram keeps the sticker's emoji
    S: [deleted]                   a deleted message
    N: [missed voice]              a missed call (voice or video)
    P: [call 642]                  Telegram: an answered call lasting 642 s
    L: POLL:\nQuestion\nOPTION: …  a WhatsApp poll (counted as kind "poll")
    S: some text [edited]          an edited message
    P: {re:2} text                 Telegram: a reply to the message 2 places back
    P: {fwd:Channel name} text     Telegram: forwarded from
    !: raw system notice           WhatsApp: a notice with no author, written as given
    !: {create_group A title=Name members=A,P,M}   Telegram service message
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from chatgen.exports import LOCALES, telegram_chat, telegram_dump, whatsapp_text
from chatgen.script import ChatSpec, Timed, assign_times, parse_scenes

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "tools" / "chat_scenes"
OUT = ROOT / "tests" / "fixtures" / "chats"
SEED = 20240314

# ---------------------------------------------------------------------------------------------
# The fixtures
# ---------------------------------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
IDS = {"A": 1937465012, "L": 6120459384, "P": 5281937446, "M": 2046671390}

CHATS = {
    "en_sam_noor.txt": ("en_US", ChatSpec("en_sam_noor.txt", {"S": "Sam", "N": "Noor"}, me="S",
                                          seed=SEED + 1)),
    "de_jonas_lena.txt": ("de_DE", ChatSpec("de_jonas_lena.txt", {"J": "Jonas", "L": "Lena"}, me="J",
                                            seed=SEED + 2)),
    "he_noa_itai.txt": ("he_IL", ChatSpec("he_noa_itai.txt", {"N": "נועה", "I": "איתי"}, me="I",
                                          seed=SEED + 3)),
    "multi/alex_lisa.txt": ("en_GB", ChatSpec("alex_lisa.txt", {"A": "Alex", "L": "Lisa"}, me="A",
                                              seed=SEED + 4)),
    "multi/friends_group.txt": ("en_GB", ChatSpec(
        "friends_group.txt", {"A": "Alex", "L": "Lisa M", "P": "Pete", "D": "Dani"}, me="A",
        seed=SEED + 5, extra={"group": True})),
}
TELEGRAM_PETER = ChatSpec(
    "alex_peter_telegram.txt", {"A": "Alex", "P": "Peter"}, me="A", seed=SEED + 6,
    extra={"chat_name": "Peter", "chat_type": "personal_chat", "chat_id": IDS["P"], "user_ids": IDS})
TELEGRAM_FULL = [
    ChatSpec("tg_full_marta.txt", {"A": "Alex", "M": "Marta Kowalska"}, me="A", seed=SEED + 7,
             extra={"chat_name": "Marta Kowalska", "chat_type": "personal_chat", "chat_id": IDS["M"],
                    "user_ids": IDS, "first_message_id": 3012}),
    ChatSpec("tg_full_climbing.txt", {"A": "Alex", "P": "Peter", "M": "Marta Kowalska"}, me="A",
             seed=SEED + 8,
             extra={"chat_name": "Climbing Wednesdays", "chat_type": "private_group",
                    "chat_id": 4107733021, "user_ids": IDS, "first_message_id": 1}),
]
TELEGRAM_ABOUT = ("Here is the data you requested. Remember: Telegram is ad free, it doesn't use your "
                  "data for ad targeting and doesn't sell it to others. Telegram only keeps the "
                  "information it needs to function as a secure and feature-rich cloud service.\n\n"
                  "Check out Settings > Privacy & Security on Telegram's mobile apps for the relevant "
                  "settings.")


def _expected(timed: list[Timed], spec: ChatSpec, notices: int = 0) -> dict:
    """What a correct reader must find (ground truth from the script): records per person and
    per kind (the ``kind`` values of ``wachat parse --jsonl``), edited ones, and the media type
    each placeholder stands for (an Android export only says "media"). ``notices``: notices the
    export adds on its own (WhatsApp's encryption notice)."""
    people: dict[str, dict] = {}
    for item in timed:
        line = item.line
        if line.kind in ("system", "service"):
            continue
        p = people.setdefault(spec.names[line.who],
                              {"messages": 0, "kinds": Counter(), "edited": 0, "media_types": Counter()})
        p["messages"] += 1
        p["kinds"][line.kind] += 1
        p["edited"] += line.edited
        if line.kind == "media":
            p["media_types"][line.media] += 1
    for p in people.values():
        p["kinds"] = dict(sorted(p["kinds"].items()))
        p["media_types"] = dict(sorted(p["media_types"].items()))
    return {"first": timed[0].time.isoformat(timespec="minutes"),
            "last": timed[-1].time.isoformat(timespec="minutes"),
            "messages": sum(p["messages"] for p in people.values()),
            "system": notices + sum(1 for i in timed if i.line.kind in ("system", "service")),
            "people": people}


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    expected: dict[str, dict] = {}
    for out_name, (locale, spec) in CHATS.items():
        timed = assign_times(parse_scenes(SCENES / spec.scenes), spec, spec.scenes)
        files[out_name] = whatsapp_text(timed, spec, LOCALES[locale]).encode("utf-8")
        expected[out_name] = _expected(timed, spec, notices=1)
    timed = assign_times(parse_scenes(SCENES / TELEGRAM_PETER.scenes), TELEGRAM_PETER, "peter")
    files["multi/alex_peter_telegram.json"] = telegram_dump(
        telegram_chat(timed, TELEGRAM_PETER, LONDON)).encode("utf-8")
    expected["multi/alex_peter_telegram.json"] = _expected(timed, TELEGRAM_PETER)
    chats = []
    for spec in TELEGRAM_FULL:
        timed = assign_times(parse_scenes(SCENES / spec.scenes), spec, spec.scenes)
        chats.append(telegram_chat(timed, spec, LONDON))
        expected[f"multi/telegram_full_export.json#{spec.extra['chat_name']}"] = _expected(timed, spec)
    full = {
        "about": TELEGRAM_ABOUT,
        "personal_information": {"user_id": IDS["A"], "first_name": "Alex", "last_name": "",
                                 "phone_number": "+44 7700 900123", "username": "@alexcarter",
                                 "bio": "climbing, coffee, bad puns"},
        "chats": {"about": "This page lists all chats from this export.", "list": chats},
    }
    files["multi/telegram_full_export.json"] = telegram_dump(full).encode("utf-8")
    files["EXPECTED.json"] = (json.dumps(expected, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if a written fixture differs")
    args = ap.parse_args(argv)
    files = build()
    stale = []
    for rel, data in files.items():
        path = OUT / rel
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{rel:38} {len(data) / 1024:7.1f} KB")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
