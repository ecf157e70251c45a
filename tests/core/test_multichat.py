"""Projects that hold several chats: adding, people and aliases, removal, migration of the
one-chat layout, samples that name the relationship (core/importing.py, core/project.py,
core/people.py, core/chats.py)."""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from wachat_tui import paths
from wachat_tui.core import atomic
from wachat_tui.core.dataset import DatasetOptions
from wachat_tui.core.importing import remove_chat
from wachat_tui.core.people import People
from wachat_tui.core.project import Project, import_export
from wachat_tui.core.prompt import system_prompt
from wachat_tui.errors import ProjectError

from ..conftest import run_wachat
from .chat_builders import conversation, write_android

MULTI = Path(__file__).resolve().parent.parent / "fixtures" / "chats" / "multi"
LISA, PETER, GROUP, FULL = (MULTI / n for n in ("alex_lisa.txt", "alex_peter_telegram.json",
                                                "friends_group.txt", "telegram_full_export.json"))


def three_chats() -> Project:
    import_export(LISA, "Alex", name="alex")
    import_export(PETER, name="alex", add=True)        # "me" found by name, no --me needed
    return import_export(GROUP, name="alex", add=True)


def test_adding_chats_merges_people_and_keeps_each_chat(tmp_path):
    p = three_chats()
    assert [(c.id, c.platform, c.is_group, c.title) for c in p.chats] == [
        ("lisa", "whatsapp", False, "Lisa"), ("peter", "telegram", False, "Peter"),
        ("saturday-crew", "whatsapp", True, "Saturday Crew")]
    # the same spelling is one person across chats; other spellings are new people until mapped
    assert p.people.to_json() == {"Alex": ["Alex"], "Lisa": ["Lisa"], "Peter": ["Peter"], "Lisa M": ["Lisa M"],
                                  "Pete": ["Pete"], "Dani": ["Dani"]}
    assert p.me == "Alex" and [c.me for c in p.chats] == ["Alex", "Alex", "Alex"]
    for chat in p.chats:
        assert p.files.chat(chat.id).messages.is_file()
        assert len(p.raw_messages(chat.id)) == chat.counts["messages"]
    assert p.counts["messages"] == sum(c.counts["messages"] for c in p.chats) == 284 + 282 + 398
    # each chat keeps its own time-ordered split: its validation sessions are its latest ones
    pairs = p.pairs()
    for chat in p.chats:
        mine = [x for x in pairs if x.chat_id == chat.id]
        train = [x.time for x in mine if x.split == "train"]
        val = [x.time for x in mine if x.split == "validation"]
        assert train and val and max(train) < min(val), chat.id
    # session numbers never collide across chats
    by_session = {}
    for x in pairs:
        assert by_session.setdefault(x.session, x.chat_id) == x.chat_id
    for root, dirs, files in os.walk(p.dir):
        assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode) == 0o600


def test_adding_the_same_chat_again_is_a_noop():
    p = three_chats()
    before = {f: f.stat().st_mtime_ns for f in p.dir.rglob("*") if f.is_file()}
    again = import_export(GROUP, name="alex", add=True)
    assert again.unchanged and len(again.chats) == 3
    assert {f: f.stat().st_mtime_ns for f in p.dir.rglob("*") if f.is_file()} == before


def test_aliases_resolve_people_in_dataset_stats_and_personas():
    p = three_chats()
    assert p.set_alias("Lisa M", "Lisa") == ("Lisa M", "Lisa")
    p = Project.open("alex")
    p.set_alias("pete", "Peter")             # the one matcher: case forgiven
    p = Project.open("alex")
    assert p.people.to_json() == {"Alex": ["Alex"], "Lisa": ["Lisa", "Lisa M"], "Peter": ["Peter", "Pete"],
                                  "Dani": ["Dani"]}
    assert set(p.participants) == {"Alex", "Lisa", "Peter", "Dani"}
    assert set(p.personas) == {"Alex", "Lisa", "Peter", "Dani"}
    rows = list(atomic.read_jsonl(p.files.train)) + list(atomic.read_jsonl(p.files.validation))
    assert {r["persona"] for r in rows} == {"Alex", "Lisa", "Peter", "Dani"}
    group_rows = [r for r in rows if r["chat_id"] == "saturday-crew"]
    assert {r["persona"] for r in group_rows} == {"Alex", "Lisa", "Peter", "Dani"}
    assert "Lisa M" not in json.dumps(rows) and "Pete:" not in json.dumps(rows)
    # a person's stats count all their chats; per chat, only that chat
    doc = p.stats()
    lisa_all = doc["people"]["Lisa"]["messages"]
    assert lisa_all == 123 + 102
    assert doc["chats"]["lisa"]["people"]["Lisa"]["messages"] == 123
    assert doc["chats"]["saturday-crew"]["people"]["Lisa"]["messages"] == 102
    assert set(doc["chats"]["saturday-crew"]["turn_taking"]["transitions"]) == {"Alex", "Lisa", "Peter", "Dani"}
    # undo one alias: "Pete" is a person of their own again
    p.unalias("Pete")
    assert Project.open("alex").people.person_of("Pete") == "Pete"


def test_alias_cannot_take_me_away_and_unknown_names_are_refused():
    p = three_chats()
    with pytest.raises(ProjectError, match="both be you in chat 'Saturday Crew'"):
        p.set_alias("Alex", "Dani")
    with pytest.raises(ProjectError, match="both be you"):
        p.set_alias("Dani", "Alex")
    with pytest.raises(ProjectError, match="nobody in this project"):
        p.set_alias("Zed", "Lisa")
    assert Project.open("alex").people.person_of("Alex") == "Alex"


def test_samples_name_whom_and_where():
    p = three_chats()
    p.set_alias("Lisa M", "Lisa")
    p.set_alias("Pete", "Peter")
    rows = list(atomic.read_jsonl(Project.open("alex").files.train))

    def system(persona, chat_id):
        row = next(r for r in rows if r["persona"] == persona and r["chat_id"] == chat_id)
        return row["messages"][0]["content"], row

    text, row = system("Alex", "lisa")
    assert text == "You are Alex, texting with Lisa on WhatsApp. Reply as Alex would, in Alex's own texting style."
    assert row["partners"] == ["Lisa"]
    text, _ = system("Alex", "peter")
    assert text.startswith("You are Alex, texting with Peter on Telegram.")
    text, row = system("Lisa", "saturday-crew")
    assert text.startswith('You are Lisa, texting in the WhatsApp group "Saturday Crew" with ')
    assert set(row["partners"]) == {"Alex", "Peter", "Dani"} and row["chat"] == "Saturday Crew"
    # the one prompt function: chat and training agree
    assert text == system_prompt("Lisa", row["partners"], "Saturday Crew", "whatsapp")


def test_removing_a_chat_takes_everything_made_from_it():
    p = three_chats()
    p.set_alias("Pete", "Peter")
    p = Project.open("alex")
    victim = next(x for x in p.pairs() if x.chat_id == "saturday-crew")
    keep = next(x for x in p.pairs() if x.chat_id == "lisa")
    p.set_excluded([victim.id, keep.id])
    p.stats()
    removed = remove_chat(Project.open("alex"), "Saturday Crew")      # by title; the id works too
    assert removed.id == "saturday-crew"
    p = Project.open("alex")
    assert [c.id for c in p.chats] == ["lisa", "peter"]
    assert not p.files.chat("saturday-crew").dir.exists()
    assert {x.chat_id for x in p.pairs()} == {"lisa", "peter"}
    rows = list(atomic.read_jsonl(p.files.train))
    assert {r["chat_id"] for r in rows} == {"lisa", "peter"}
    assert p.exclusions() == [keep.id]
    # names only the group used are gone; Peter keeps his own name
    assert p.people.to_json() == {"Alex": ["Alex"], "Lisa": ["Lisa"], "Peter": ["Peter"]}
    assert "Dani" not in p.participants and "Dani" not in p.personas
    assert not p.files.stats.exists() and "Dani" not in p.stats()["people"]
    with pytest.raises(ProjectError, match="not a chat of this project"):
        remove_chat(p, "saturday-crew")
    remove_chat(p, "peter")
    with pytest.raises(ProjectError, match="only chat"):
        remove_chat(Project.open("alex"), "lisa")


def test_full_telegram_export_adds_every_chat_and_finds_me():
    import_export(LISA, "Alex", name="alex")
    p = import_export(FULL, name="alex", add=True)
    assert [c.title for c in p.added] == ["Marta Kowalska", "Climbing Wednesdays"]
    assert p.people.person_of("Marta Kowalska") == "Marta Kowalska" and p.me == "Alex"
    one = import_export(FULL, name="solo", chat="Climbing Wednesdays")     # a new project of one of them
    assert [c.title for c in one.chats] == ["Climbing Wednesdays"] and one.me == "Alex"


def test_adding_needs_to_know_who_you_are(tmp_path):
    import_export(LISA, "Alex", name="alex")
    stranger = write_android(tmp_path / "WhatsApp Chat with Ben.txt", conversation(3))
    with pytest.raises(ProjectError, match="which participant") as err:
        import_export(stranger, name="alex", add=True)
    assert "--me" in err.value.one_line() and "Ana" in err.value.one_line()
    p = import_export(stranger, "Ana", name="alex", add=True)
    assert p.people.person_of("Ana") == "Alex" and p.people.aliases("Alex") == ["Alex", "Ana"]
    with pytest.raises(ProjectError, match="no project named"):
        import_export(stranger, "Ana", name="nope", add=True)


def test_personas_can_be_picked_across_chats():
    p = three_chats()
    p.set_alias("Lisa M", "Lisa")
    result = Project.open("alex").rebuild(DatasetOptions(personas=["lisa", "Peter"]))
    assert result.personas == ["Lisa", "Peter"]
    rows = list(atomic.read_jsonl(p.files.train))
    assert {r["persona"] for r in rows} == {"Lisa", "Peter"}
    assert {r["chat_id"] for r in rows if r["persona"] == "Lisa"} == {"lisa", "saturday-crew"}


def test_one_chat_projects_are_migrated_on_open(tmp_path):
    """A project of the one-chat layout (messages.jsonl at the top) moves into chats/<id>/."""
    src = write_android(tmp_path / "WhatsApp Chat with Ben.txt", conversation(4))
    p = import_export(src, "Ana", name="old")
    train_before = p.files.train.read_text()
    config = json.loads(p.files.project_json.read_text())
    chat = config.pop("chats")[0]
    for key in ("people", "format"):
        config.pop(key)
    config.update({"source": chat["source"], "parse": chat["parse"]})
    del config["source"]["chat"]
    atomic.write_json(p.files.project_json, config)
    shutil.move(p.files.chat("ben").messages, p.files.legacy_messages)
    shutil.rmtree(p.files.chats_dir)

    opened = Project.open("old")
    assert [c.id for c in opened.chats] == ["ben"] and opened.chats[0].source["sha256"] == chat["source"]["sha256"]
    assert not opened.files.legacy_messages.exists()
    assert len(opened.messages()) == chat["counts"]["messages"]
    assert opened.people.to_json() == {"Ana": ["Ana"], "Ben": ["Ben"]}
    assert opened.files.train.read_text() == train_before      # the dataset is left as it was
    assert all(x.chat_id == "ben" for x in opened.pairs())
    stored = json.loads(opened.files.project_json.read_text())
    assert "source" not in stored and stored["chats"][0]["id"] == "ben"
    # the same file again is still a no-op
    assert import_export(src, "Ana", name="old").unchanged


def test_an_interrupted_migration_finishes(tmp_path):
    src = write_android(tmp_path / "WhatsApp Chat with Ben.txt", conversation(4))
    p = import_export(src, "Ana", name="old")
    # crashed after project.json was written, before the old file was removed
    shutil.copy(p.files.chat("ben").messages, p.files.legacy_messages)
    assert len(Project.open("old").messages()) == 25
    assert not p.files.legacy_messages.exists()


def test_people_table_rules():
    people = People()
    assert people.add("Lisa") == "Lisa" and people.add(" lisa ") == "Lisa"
    people.add("Lisa M")
    assert people.alias("Lisa M", "Lisa") == ("Lisa M", "Lisa")
    assert people.person_of("LISA M") == "Lisa" and people.resolve("Unknown") == "Unknown"
    people.add("Pete")
    assert people.alias("Pete", "Peter") == ("Pete", "Peter")     # a new name: a rename
    assert people.to_json() == {"Lisa": ["Lisa", " lisa ", "Lisa M"], "Peter": ["Pete"]}
    with pytest.raises(ProjectError, match="own name"):
        people.unalias("Lisa")
    assert people.unalias("Lisa M") == "Lisa M" and people.person_of("Lisa M") == "Lisa M"
    people.keep_only({"Lisa", "Pete"}, keep_people=["Lisa M"])
    assert people.to_json() == {"Lisa": ["Lisa"], "Peter": ["Pete"], "Lisa M": []}


def test_cli_add_people_chats_and_projects_json(tmp_path):
    home = tmp_path / "cli"
    run_wachat("import", str(LISA), "--me", "Alex", "--project", "alex", home=home, check=True)
    out = run_wachat("import", str(PETER), "--project", "alex", "--add", home=home, check=True).stdout
    assert "Added alex_peter_telegram.json" in out and "Peter (1:1, Telegram) [peter]" in out
    run_wachat("import", str(GROUP), "--project", "alex", "--add", home=home, check=True)
    again = run_wachat("import", str(GROUP), "--project", "alex", "--add", home=home, check=True)
    assert "nothing changed" in again.stdout
    out = run_wachat("people", "alex", "--alias", "Lisa M=Lisa", "--alias", "Pete=Peter", home=home, check=True).stdout
    assert "Lisa M → Lisa" in out and "Peter (persona) — also Pete — in Peter, Saturday Crew" in out
    [row] = [json.loads(l) for l in run_wachat("projects", "--json", home=home, check=True).stdout.splitlines()]
    assert [c["id"] for c in row["chats"]] == ["lisa", "peter", "saturday-crew"]
    assert row["chats"][2]["people"] == ["Dani", "Peter", "Lisa", "Alex"]
    assert row["people"]["Peter"] == ["Peter", "Pete"] and row["me"] == "Alex"
    rows = [json.loads(l) for l in run_wachat("pairs", "alex", "--chat", "Saturday Crew", "--persona", "pete",
                                              "--json", home=home, check=True).stdout.splitlines()]
    assert rows and {(r["chat_id"], r["persona"]) for r in rows} == {("saturday-crew", "Peter")}
    stats = run_wachat("stats", "alex", "--chat", "saturday crew", "--json", home=home, check=True).stdout
    assert json.loads(stats)["people"]["Lisa"]["messages"] == 102
    out = run_wachat("chats", "alex", "--remove", "saturday-crew", home=home, check=True).stdout
    assert "Removed chat Saturday Crew" in out and "saturday-crew" not in out.split("\n", 1)[1]
    bad = run_wachat("people", "alex", "--alias", "nobody", home=home)
    assert bad.returncode == 2 and "NAME=PERSON" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_wachat("import", str(GROUP), "--add", home=home)
    assert bad.returncode == 2 and "--project" in bad.stderr


def test_export_metadata_gives_each_persona_the_prompt_of_its_main_chat():
    from wachat_tui.export.pipeline import persona_prompts
    from wachat_tui.export.source import ExportSource

    p = three_chats()
    p.set_alias("Lisa M", "Lisa")
    p.set_alias("Pete", "Peter")
    config = json.loads(p.files.project_json.read_text())
    source = ExportSource(p.files, config, run=None, base_model="", base_path=Path("."), tokenizer_dir=Path("."),
                          personas=["Alex", "Lisa", "Peter", "Dani"])
    prompts = persona_prompts(source)
    assert prompts["Peter"] == system_prompt("Peter", ["Alex"], None, "telegram")     # 159 there, 115 in the group
    assert prompts["Lisa"] == system_prompt("Lisa", ["Alex"], None, "whatsapp")
    assert prompts["Dani"].startswith('You are Dani, texting in the WhatsApp group "Saturday Crew" with ')
