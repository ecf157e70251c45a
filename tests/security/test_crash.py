"""Crash safety, end to end: real processes killed with SIGKILL (no chance to clean up) at random
moments — seeded, so a failure reproduces (WACHAT_CRASH_SEED) — and at the worst moments on
purpose; then start again: the project opens, no file is half-written, the last good adapter,
GGUF and conversation are intact, and a resumed training ends where an uninterrupted one does.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wachat_tui.core.layout import ProjectFiles, RunFiles, RunRecord, checkpoint_complete, list_exports
from wachat_tui.core.project import Project

from ..conftest import DEMO_ME, run_wachat
from .conftest import REPO, Events

pytestmark = pytest.mark.slow
SEED = int(os.environ.get("WACHAT_CRASH_SEED", "20261130"))


def rng(stage: str) -> random.Random:
    return random.Random(f"{SEED}-{stage}")


def kill_after(proc: subprocess.Popen, seconds: float) -> None:
    time.sleep(seconds)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_whole(files: ProjectFiles) -> dict:
    """Every file of the project parses, and the dataset is the one project.json describes."""
    config = json.loads(files.project_json.read_text(encoding="utf-8"))
    counts = config["counts"]
    assert sum(len(jsonl(chat)) for chat in files.chats_dir.glob("*/messages.jsonl")) == counts["messages"]
    if files.pairs.exists():   # made on first use, and removed with the dataset it was made of
        assert len(jsonl(files.pairs)) == counts["pairs"]
    assert len(jsonl(files.train)) == counts["samples_train"]
    assert len(jsonl(files.validation)) == counts["samples_validation"]
    json.loads(files.exclusions.read_text(encoding="utf-8"))
    return config


def no_leftovers(files: ProjectFiles) -> list[str]:
    stray = [*files.dir.glob(".*.tmp"), *files.dataset_dir.glob(".*.tmp"), *files.dir.parent.glob(".*.importing")]
    if files.journal.exists():
        stray.append(files.journal)
    return [p.name for p in stray]


# --------------------------------------------------------------------------- import
def test_import_killed_anywhere_leaves_the_old_project_or_the_new_one(tmp_path):
    from wachat_tui.paths import demo_export, projects_dir

    full = demo_export()
    lines = full.read_text(encoding="utf-8").splitlines(True)
    shorter = tmp_path / "WhatsApp Chat with Leo.txt"
    shorter.write_text("".join(lines[: len(lines) * 2 // 3]), encoding="utf-8")
    files = ProjectFiles(projects_dir() / "demo")
    signature = {}

    t0 = time.monotonic()
    run_wachat("import", str(full), "--me", DEMO_ME, "--project", "demo", check=True)
    duration = time.monotonic() - t0
    signature["full"] = assert_whole(files)["counts"]["pairs"]
    run_wachat("import", str(shorter), "--me", DEMO_ME, "--project", "demo", "--refresh", check=True)
    signature["short"] = assert_whole(files)["counts"]["pairs"]
    assert signature["full"] != signature["short"]

    r = rng("import")
    sources = [full, shorter]
    for round_ in range(4):   # a refresh killed at a random moment of its life (most of it is start-up)
        source = sources[round_ % 2]
        proc = subprocess.Popen([sys.executable, "-m", "wachat_tui", "import", str(source), "--me", DEMO_ME,
                                 "--project", "demo", "--refresh"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        kill_after(proc, r.uniform(0.4, 1.0) * duration)
        project = Project.open("demo")                       # finishes a write cut short after its commit
        assert project.counts["pairs"] in signature.values()
        assert_whole(project.files)

    # the worst moments, on purpose: right before the commit point, and in the middle of the renames
    # (from the short dataset to the full one, so that each outcome can be told apart)
    run_wachat("import", str(shorter), "--me", DEMO_ME, "--project", "demo", "--refresh", check=True)
    for where, patch in (("before the journal", "_Transaction.commit"), ("after one rename", "_finish")):
        script = (
            "import os, signal\n"
            "import wachat_tui.core.atomic as atomic\n"
            "def die(*args):\n"
            f"    if {patch!r} == '_finish':\n"
            "        tmp, target = args[1][0]\n"
            "        os.replace(tmp, target)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            f"{'atomic._Transaction.commit' if patch != '_finish' else 'atomic._finish'} = die\n"
            "from wachat_tui.cli import main\n"
            f"main(['import', {str(full)!r}, '--me', {DEMO_ME!r}, '--project', 'demo', '--refresh'])\n")
        before = json.loads(files.project_json.read_text())["counts"]["pairs"]
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert proc.returncode == -signal.SIGKILL, (where, proc.stderr[-2000:])
        if where == "after one rename":
            assert files.journal.exists()                     # cut off in the middle of the renames
        project = Project.open("demo")
        expected = before if where == "before the journal" else signature["full"]
        assert project.counts["pairs"] == expected, where     # all old, or all new: never a mix
        assert_whole(project.files)

    # a new project killed while it is assembled: nothing half-made is listed, the next import works
    for round_ in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "wachat_tui", "import", str(full), "--me", DEMO_ME,
                                 "--project", f"fresh{round_}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        kill_after(proc, r.uniform(0.4, 1.0) * duration)
        assert all(p.files.is_project() for p in Project.list())
    run_wachat("import", str(full), "--me", DEMO_ME, "--project", "fresh9", check=True)
    run_wachat("import", str(shorter), "--me", DEMO_ME, "--project", "demo", "--refresh", check=True)
    assert no_leftovers(files) == []
    assert assert_whole(files)["counts"]["pairs"] == signature["short"]


# --------------------------------------------------------------------------- training
def _adapter_weights(run: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run / "adapter" / "adapter_model.safetensors"))


def _worker(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wachat_tui.train", "--project-dir", str(project), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _assert_run_readable(run: RunFiles) -> None:
    from wachat_tui.train.runner import load_run_events

    RunRecord.read(run)                                       # run.json whole
    assert load_run_events(run)                              # events.jsonl readable (a torn last line is skipped)
    last = run.last_checkpoint()
    assert last is None or checkpoint_complete(last)
    if run.has_adapter():
        _adapter_weights(run.dir)                             # the adapter loads


def test_training_killed_between_and_during_checkpoints_resumes_to_the_uninterrupted_result(tmp_path, tiny_base):
    import torch

    from ..train.conftest import make_tiny_project

    opts = ("--base", str(tiny_base), "--max-steps", "12", "--save-steps", "3", "--eval-steps", "100",
            "--eval-max-samples", "2", "--samples", "0", "--batch-size", "4", "--seq-len", "64")
    home = Path(os.environ["WACHAT_HOME"])
    straight = make_tiny_project(home, name="straight")
    ref = subprocess.run([sys.executable, "-m", "wachat_tui.train", "--project-dir", str(straight), *opts],
                         capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    ref_losses = {e["step"]: e["loss"] for e in map(json.loads, ref.stdout.splitlines()) if e["event"] == "step"}
    [ref_run] = [p for p in (straight / "runs").iterdir() if p.is_dir()]

    project = make_tiny_project(home, name="crashy")
    r = rng("training")
    # 1. killed at a random moment between two steps
    proc = _worker(project, *opts)
    events = Events(proc)
    run_dir = Path(events.next("started")["run_dir"])
    run = RunFiles(run_dir)
    stop_at = r.randint(2, 6)
    while events.next("step")["step"] < stop_at:
        pass
    kill_after(proc, r.uniform(0.0, 0.3))
    _assert_run_readable(run)

    # 2. resumed, and killed while a checkpoint is being written (or just after, if the write was
    #    too quick to catch): the trainer_state.json that makes it complete is written last
    before = set(run.checkpoints.glob("checkpoint-*")) if run.checkpoints.is_dir() else set()
    proc = _worker(project, *opts, "--resume")
    caught = None
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        fresh = [p for p in run.checkpoints.glob("checkpoint-*")
                 if p not in before and not checkpoint_complete(p)] if run.checkpoints.is_dir() else []
        if fresh:
            caught = fresh[0].name
            kill_after(proc, r.uniform(0.0, 0.01))
            break
        time.sleep(0.002)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    assert RunRecord.read(run).status != "finished", "the run finished before a checkpoint write was caught"
    print(f"seed {SEED}: first kill after step {stop_at}; second kill in the middle of writing {caught}")
    _assert_run_readable(run)

    # 3. resumed to the end
    done = subprocess.run([sys.executable, "-m", "wachat_tui.train", "--project-dir", str(project), *opts,
                           "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    final = [json.loads(line) for line in done.stdout.splitlines()]
    assert final[-1]["event"] == "finished" and RunRecord.read(run).step == 12
    for e in final:
        if e["event"] == "step":
            assert e["loss"] == pytest.approx(ref_losses[e["step"]], rel=1e-4), (e["step"], caught, SEED)
    from safetensors.torch import load_file

    for folder in ("adapter", "checkpoints/checkpoint-12"):    # the saved adapter and the last weights
        mine = load_file(str(run_dir / folder / "adapter_model.safetensors"))
        reference = load_file(str(ref_run / folder / "adapter_model.safetensors"))
        assert mine.keys() == reference.keys()
        for name in mine:
            assert torch.allclose(mine[name], reference[name], rtol=1e-4, atol=1e-6), (folder, name, caught, SEED)
    assert not [p.name for p in run.dir.glob(".*")]


# --------------------------------------------------------------------------- export
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export(project: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.security.export_driver", str(project), "q8_0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONUNBUFFERED="1",
                                     PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])))


def test_export_killed_at_each_stage_keeps_the_previous_good_gguf(tmp_path, tiny_base):
    from ..export.tiny import make_project

    project = make_project(Path(os.environ["WACHAT_HOME"]), tiny_base)
    first = _export(project)
    good = Path(Events(first).next("finished")["path"])
    first.wait(timeout=60)
    good_sha = _sha(good)
    r = rng("export")
    for stage in ("merging", "writing", "quantizing", "verifying"):
        proc = _export(project)
        events = Events(proc)
        while events.next("stage")["stage"] != stage:
            pass
        kill_after(proc, r.uniform(0.0, 0.01 if stage == "verifying" else 0.03))
        assert _sha(good) == good_sha, stage                   # the last good GGUF, untouched
        [record] = list_exports(project)                       # the registry whole, still pointing at it
        assert Path(record.path) == good
        assert sorted(p.name for p in good.parent.glob("*.gguf")) == [good.name]
    last = _export(project)
    assert Path(Events(last).next("finished")["path"]) == good
    last.wait(timeout=60)
    assert not list(good.parent.glob(".*.tmp"))                # temp files of the killed exports swept


def test_a_full_disk_during_export_is_a_clear_error_and_keeps_the_previous_file(tmp_path, tiny_base, monkeypatch):
    """The converter process runs out of room in the middle of the GGUF (a file-size limit set in
    that process only, the kernel refusing the write as a full disk would)."""
    from wachat_tui.errors import ModelError
    from wachat_tui.export import convert
    from wachat_tui.export.config import ExportConfig
    from wachat_tui.export.pipeline import export_model

    from ..export.tiny import make_project

    project = make_project(Path(os.environ["WACHAT_HOME"]), tiny_base)
    checks = ("tokens",)
    good, _ = export_model(project, ExportConfig(quant="f16"), checks=checks)
    good_sha, registry = _sha(good), (project / "exports.json").read_bytes()

    hook = tmp_path / "fsize-hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, resource, signal\n"
        "limit = int(os.environ['WACHAT_TEST_FSIZE'])\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n")
    monkeypatch.setenv("WACHAT_TEST_FSIZE", str(good.stat().st_size // 2))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]))
    convert.shutdown()                                        # the next export starts a converter with the limit
    try:
        with pytest.raises(ModelError) as failed:
            export_model(project, ExportConfig(quant="f16"), checks=checks)
    finally:
        convert.shutdown()
    line = failed.value.one_line()
    assert "\n" not in line and line.startswith(f"the disk is full: could not write {good.name}")
    assert "previous file is kept" in line
    assert _sha(good) == good_sha and (project / "exports.json").read_bytes() == registry
    assert not list(good.parent.glob(".*.tmp"))


# --------------------------------------------------------------------------- chat
def test_chat_killed_while_a_reply_is_saved_keeps_the_conversation(tmp_path):
    import sqlite3

    from wachat_tui.chat.store import ChatStore
    from wachat_tui.core.project import import_export
    from wachat_tui.paths import demo_export

    project = import_export(demo_export(), DEMO_ME, name="demo")
    args = ("chat", "demo", "--as", "Leo", "--model", "embedded", "--max-tokens", "48", "--seed", "3")
    run_wachat(*args, "-m", "first line", check=True)
    with ChatStore(project.dir) as store:
        conv = store.latest()
        kept = [(l.author, l.text, l.by_model) for l in store.history(conv)]
    assert kept[0] == ("Maya", "first line", False) and kept[-1][2]

    r = rng("chat")
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "wachat_tui", *args, "--continue", "-m", f"ping {round_}"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout.readline().startswith(f"Maya: ping {round_}")   # saved; the reply streams now
        kill_after(proc, r.uniform(0.0, 1.0))
        db = sqlite3.connect(ProjectFiles(project.dir).chat_db)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        with ChatStore(project.dir) as store:
            history = [(l.author, l.text, l.by_model) for l in store.history(conv)]
        assert history[: len(kept)] == kept                   # nothing already saved was lost
        assert ("Maya", f"ping {round_}", False) in history
        assert all(text.strip() for _, text, _ in history)
        kept = history
    again = run_wachat(*args, "--continue", "-m", "still there?", check=True)
    assert "Leo: " in again.stdout
