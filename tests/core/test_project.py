"""Projects on disk (wachat_tui.core.project): layout, permissions, atomicity, re-import."""
from __future__ import annotations

import json
import os
import stat

import pytest

from wachat_tui import paths
from wachat_tui.core import atomic
from wachat_tui.core import project as project_mod
from wachat_tui.core.dataset import DatasetOptions, report_counts
from wachat_tui.core.project import Project, ensure_demo_project, import_export, last_project
from wachat_tui.errors import ProjectError

from .chat_builders import conversation, write_android


@pytest.fixture
def export(tmp_path):
    return write_android(tmp_path / "WhatsApp Chat with Ben.txt", conversation(10, exchanges=3))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_import_layout_contract_and_permissions(export):
    p = import_export(export, "Ana")
    assert p.name == "ben" and p.dir == paths.projects_dir() / "ben"
    assert p.files.dir == p.dir
    for name in ("project.json", "chats/ben/messages.jsonl", "exclusions.json",
                 "dataset/train.jsonl", "dataset/validation.jsonl"):
        assert (p.dir / name).is_file(), name
    # the review pairs are made the first time they are asked for (not by every import)
    assert not p.files.pairs.exists()
    assert p.pairs() and p.files.pairs.is_file()
    # the style document is made the first time it is asked for (not by every import)
    assert not p.files.stats.exists()
    p.stats()
    assert (p.dir / "stats.json").is_file()
    for root, dirs, files in os.walk(paths.data_home()):
        assert mode(root) == 0o700, root
        for f in files:
            assert mode(os.path.join(root, f)) == 0o600, f
    config = json.loads((p.dir / "project.json").read_text())
    assert set(config) >= {"name", "created", "updated", "chats", "people", "me", "personas", "participants",
                           "is_group", "chat_name", "options", "counts"}
    chat = config["chats"][0]
    assert set(chat["source"]) == {"file", "sha256", "size", "chat"}
    assert config["me"] == "Ana" and config["personas"] == ["Ana", "Ben"] and config["is_group"] is False
    assert config["people"] == {"Ana": ["Ana"], "Ben": ["Ben"]}
    assert chat["id"] == "ben" and chat["platform"] == "whatsapp" and chat["me"] == "Ana"
    assert config["chat_name"] == "Ben" and chat["parse"]["platform"] == "android"
    assert DatasetOptions.from_dict(config["options"]) == DatasetOptions()
    assert p.train_path.read_text().count("\n") == config["counts"]["samples_train"] > 0
    assert len(p.messages()) == 61 and len(p.pairs()) == config["counts"]["pairs"]
    assert last_project() == "ben"
    assert json.loads((paths.data_home() / "state.json").read_text()) == {"last_project": "ben"}
    assert not [c for c in paths.projects_dir().iterdir() if c.name.startswith(".")]  # no temp left


def test_reimport_same_file_is_a_noop(export):
    first = import_export(export, "Ana", name="chat")
    before = {f: f.stat().st_mtime_ns for f in first.dir.rglob("*") if f.is_file()}
    again = import_export(export, "Ana", name="chat")
    assert again.unchanged and not first.unchanged
    assert {f: f.stat().st_mtime_ns for f in first.dir.rglob("*") if f.is_file()} == before
    # without a name it finds the project by the file's hash instead of creating a duplicate
    assert import_export(export, "Ana").name == "chat"
    assert [p.name for p in Project.list()] == ["chat"]


def test_refresh_rebuilds_and_keeps_exclusions(export):
    p = import_export(export, "Ana", name="chat")
    victim = p.pairs()[0].id
    p.set_excluded([victim])
    again = import_export(export, "Ana", name="chat", options=DatasetOptions(session_gap_minutes=30), refresh=True)
    assert not again.unchanged
    assert again.exclusions() == [victim]
    assert again.options.session_gap_minutes == 30
    assert next(x for x in again.pairs() if x.id == victim).excluded is True
    assert again.config["created"] == p.config["created"]


def test_refresh_without_options_keeps_project_options(export):
    import_export(export, "Ana", name="chat", options=DatasetOptions(validation_fraction=0.3))
    again = import_export(export, "Ana", name="chat", refresh=True)
    assert again.options.validation_fraction == 0.3


def test_other_file_into_existing_project_needs_refresh(export, tmp_path):
    import_export(export, "Ana", name="chat")
    other = write_android(tmp_path / "other.txt", conversation(3))
    with pytest.raises(ProjectError, match="already exists"):
        import_export(other, "Ana", name="chat")
    assert len(import_export(other, "Ana", name="chat", refresh=True).messages()) == 19


def test_me_must_be_a_participant_and_nothing_is_written(export):
    with pytest.raises(ProjectError) as err:
        import_export(export, "Zoe", name="chat")
    assert "Zoe" in err.value.one_line() and "Ana, Ben" in err.value.one_line()
    assert not (paths.projects_dir() / "chat").exists()
    assert not paths.projects_dir().exists() or not any(paths.projects_dir().iterdir())


def test_me_is_matched_case_insensitively(export):
    assert import_export(export, "ana", name="chat").me == "Ana"


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "x" * 70, "with space"])
def test_invalid_project_names(export, bad):
    with pytest.raises(ProjectError, match="invalid project name"):
        import_export(export, "Ana", name=bad)


def test_open_missing_project():
    with pytest.raises(ProjectError, match="no project named 'nope'"):
        Project.open("nope")


def test_set_excluded_rebuilds_dataset(export):
    p = import_export(export, "Ana", name="chat", options=DatasetOptions(validation_fraction=0))
    target = next(x for x in p.pairs() if x.persona == "Ben")
    p.stats()
    kept = p.stats_path.stat().st_mtime_ns
    p.set_excluded([target.id])
    assert p.stats_path.stat().st_mtime_ns == kept       # the style does not change with exclusions
    rows = list(atomic.read_jsonl(p.train_path))
    msgs = [m for r in rows if r["persona"] == "Ben" and r["session"] == target.session for m in r["messages"]]
    hit = [m for m in msgs if m["content"] == target.reply]
    assert hit and all(m["train"] is False for m in hit) and {m["pair"] for m in hit} == {target.id}
    assert p.counts["excluded"] == 1 and Project.open("chat").counts["excluded"] == 1
    chat = Project.open("chat").stats()["chat"]  # the stats agree with project.json
    assert chat["pairs_excluded"] == 1 and chat["pairs_train"] == p.counts["pairs_train"]
    assert p.counts == report_counts(p.last_result.report)
    p.set_excluded([target.id], excluded=False)
    assert p.exclusions() == [] and p.counts["excluded"] == 0


def test_pairs_are_made_on_first_use_and_dropped_with_their_dataset(export):
    from wachat_tui.core.project import ensure_pairs

    p = import_export(export, "Ana", name="chat")
    expected = json.loads(json.dumps([x.to_json() for x in p.build().pairs]))
    assert expected and not p.files.pairs.exists()
    assert [x.to_json() for x in Project.open("chat").pairs()] == expected   # built, written
    assert list(atomic.read_jsonl(p.files.pairs)) == expected
    assert ensure_pairs(p.files) is None                                     # there: kept
    assert [x.to_json() for x in p.pairs()] == expected                      # read back
    p.set_excluded([expected[0]["id"]])          # a new dataset: its pairs are made again
    assert not p.files.pairs.exists()
    assert Project.open("chat").pairs()[0].excluded is True


def test_rebuild_with_new_options_and_stats(export):
    p = import_export(export, "Ana", name="chat")
    result = p.rebuild(DatasetOptions(personas=["Ben"]))
    assert result.personas == ["Ben"] and Project.open("chat").personas == ["Ben"]
    assert {r["persona"] for r in atomic.read_jsonl(p.train_path)} == {"Ben"}
    doc = p.stats()
    assert p.stats_path.exists() and doc["chat"]["messages"] == 60 and set(doc["people"]) == {"Ana", "Ben"}
    assert doc["chat"]["personas"] == ["Ben"]
    # a new session gap changes the turns: the kept document is dropped and made again
    p.rebuild(DatasetOptions(personas=["Ben"], session_gap_minutes=5))
    assert not p.stats_path.exists()
    assert p.stats()["chat"]["sessions_gap_minutes"] == 5


def test_message_lines_are_the_json_rows(tmp_path):
    from datetime import datetime

    from wachat_tui.core.records import Message

    msgs = [Message(datetime(2024, 1, 2, 3, 4, 5), None, 'He said "hi"\n\tthen\u2028left', "system"),
            Message(datetime(2024, 1, 2, 3, 4, 5, 678), "Zoë 🌸", "\x01 ctrl é", "media", True, "IMG 1.jpg", "photo"),
            Message(datetime(2024, 1, 2, 3, 4, 6), "A\\B", "", "text", False, "", None)]
    for m in msgs:
        assert m.to_json_line() == json.dumps(m.to_json(), ensure_ascii=False)
        assert Message.from_json(json.loads(m.to_json_line())) == m.__class__.from_json(m.to_json())


def test_pair_lines_are_the_json_rows(tmp_path):
    from datetime import datetime

    from wachat_tui.core import atomic
    from wachat_tui.core.records import Pair, Utterance

    pairs = [Pair("abc123", "Zoë", 3, "validation", datetime(2024, 1, 2, 3, 4, 5),
                  (Utterance("Leo", 'say "hi"\n\tok'), Utterance("A\\B", "\u2028 😀")), "fine\x01", True),
             Pair("def456", "Maya", 0, "train", datetime(2024, 1, 2, 3, 4, 5, 600), (), "", False)]
    target = tmp_path / "pairs.jsonl"
    assert atomic.write_jsonl(target, (p.to_json() for p in pairs)) == 2
    lines = target.read_text(encoding="utf-8").split("\n")[:-1]   # (U+2028 is not a line end here)
    assert [json.loads(line) for line in lines] == [p.to_json() for p in pairs]
    assert [Pair.from_json(json.loads(line)) for line in lines] == [Pair.from_json(p.to_json()) for p in pairs]


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "d" / "file.json"
    atomic.write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        atomic.write_json(target, {"v": {1, 2}})  # a set is not JSON: fails mid-write
    assert json.loads(target.read_text()) == {"v": 1}
    assert [f.name for f in target.parent.iterdir()] == ["file.json"]


def test_failed_import_leaves_nothing_behind(export, monkeypatch):
    real = project_mod.write_messages   # what an import writes after the dataset

    def explode(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(project_mod, "write_messages", explode)
    with pytest.raises(OSError):
        import_export(export, "Ana", name="chat")
    assert list(paths.projects_dir().iterdir()) == []
    assert Project.list() == []


def test_failed_refresh_keeps_previous_project(export, tmp_path, monkeypatch):
    p = import_export(export, "Ana", name="chat")
    config_before = (p.dir / "project.json").read_text()
    other = write_android(tmp_path / "other.txt", conversation(3))

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(project_mod, "write_messages", explode)
    with pytest.raises(OSError):
        import_export(other, "Ana", name="chat", refresh=True)
    assert (p.dir / "project.json").read_text() == config_before
    assert len(Project.open("chat").messages()) == 61  # 60 + the encryption notice


def test_list_and_last_project(export, tmp_path):
    assert Project.list() == [] and last_project() is None
    import_export(export, "Ana", name="one")
    import_export(write_android(tmp_path / "b.txt", conversation(2)), "Ben", name="two")
    assert {p.name for p in Project.list()} == {"one", "two"}
    assert last_project() == "two"
    (paths.projects_dir() / "junk").mkdir()  # a folder without project.json is not a project
    assert len(Project.list()) == 2


def test_ensure_demo_project():
    p = ensure_demo_project()
    assert p.name == "demo" and p.me == "Maya" and p.personas == ["Maya", "Leo"]
    assert ensure_demo_project().dir == p.dir
    assert p.counts["samples_train"] > 100


@pytest.mark.parametrize("fixture, me", [("chats/he_noa_itai.txt", "נועה"), ("chats/multi/friends_group.txt", "Dani")])
def test_an_import_writes_the_rows_a_rebuild_writes(fixture, me):
    """An import streams its dataset rows to disk (JsonlSink, str-key options); a rebuild
    writes them with write_jsonl: the same bytes (non-ASCII, emoji, a group, a 1:1 chat)."""
    from ..conftest import FIXTURES

    p = import_export(FIXTURES / fixture, me, name="rows")
    streamed = p.train_path.read_bytes(), p.files.validation.read_bytes()
    p.rebuild()
    assert (p.train_path.read_bytes(), p.files.validation.read_bytes()) == streamed
    assert streamed[0].count(b"\n") > 5
