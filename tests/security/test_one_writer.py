"""One project, one writer — the conflicting pairs started for real, as separate processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wachat_tui.core.layout import ProjectFiles, RunRecord
from wachat_tui.core.lock import lock_holder, project_lock

from ..conftest import run_wachat
from .conftest import Events, wachat_popen
from .injection import ME, import_hostile

HOLD = textwrap.dedent("""
    import sys, time
    from wachat_tui.core.lock import project_lock
    with project_lock(sys.argv[1], sys.argv[2]):
        print("held", flush=True)
        time.sleep(float(sys.argv[3]))
""")


def hold_write_lock(project_dir: Path, what: str, seconds: float) -> subprocess.Popen:
    """Another process in the middle of a short write (an import, say) for ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(project_dir), what, str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_short_writes_wait_for_each_other_then_give_up_naming_the_holder(tmp_path):
    project = import_hostile(tmp_path / "exports")
    pair = project.pairs()[0].id

    holder = hold_write_lock(project.dir, "importing big-chat.zip", 2)
    waited = run_wachat("pairs", "hostile", "--exclude", pair)       # waits for the holder, then saves
    assert waited.returncode == 0, waited.stderr
    assert holder.poll() is not None                                  # it finished only after the holder
    assert json.loads(project.files.exclusions.read_text())["pairs"] == [pair]

    holder = hold_write_lock(project.dir, "importing big-chat.zip", 600)
    try:
        refused = subprocess.run([sys.executable, "-m", "wachat_tui", "pairs", "hostile", "--include", pair],
                                 capture_output=True, text=True, env=dict(os.environ, WACHAT_LOCK_WAIT="1"))
        assert refused.returncode == 75
        [line] = refused.stderr.strip().splitlines()
        assert f"project 'hostile' is busy: importing big-chat.zip (process {holder.pid}, since " in line
    finally:
        holder.send_signal(signal.SIGKILL)   # a writer killed hard: the OS frees its lock
        holder.wait()
    assert lock_holder(project.dir) is None
    again = run_wachat("pairs", "hostile", "--include", pair, check=True)
    assert "Excluded 0 pair(s)" in again.stdout


def test_two_processes_append_to_one_chat_history_at_once(tmp_path):
    from wachat_tui.chat.store import ChatStore

    project = import_hostile(tmp_path / "exports")
    with ChatStore(project.dir) as store:
        conv = store.new_conversation("shared")
    script = textwrap.dedent("""
        import sys
        from wachat_tui.chat.lines import ChatLine
        from wachat_tui.chat.store import ChatStore
        with ChatStore(sys.argv[1]) as store:
            for i in range(300):
                store.add(int(sys.argv[2]), ChatLine(sys.argv[3], f"{sys.argv[3]} {i}"))
    """)
    writers = [subprocess.Popen([sys.executable, "-c", script, str(project.dir), str(conv), who],
                                stderr=subprocess.PIPE, text=True) for who in ("app", "cli")]
    for w in writers:
        assert w.wait(timeout=300) == 0, w.stderr.read()
    with ChatStore(project.dir) as store:
        lines = store.history(conv)
    assert len(lines) == 600
    for who in ("app", "cli"):
        assert [l.text for l in lines if l.author == who] == [f"{who} {i}" for i in range(300)]


@pytest.mark.slow
def test_a_running_training_refuses_a_second_one_and_exports_of_its_run_but_not_a_refresh(tmp_path, tiny_base):
    from wachat_tui.core.project import import_export
    from wachat_tui.paths import demo_export

    project = import_export(demo_export(), ME, name="demo")
    files = ProjectFiles(project.dir)
    first = wachat_popen("train", "demo", "--base", str(tiny_base), "--events", "--max-steps", "100000",
                         "--eval-steps", "2", "--save-steps", "100000", "--samples", "0", "--batch-size", "2",
                         "--seq-len", "64", "--eval-max-samples", "2")
    events = Events(first)
    run_id = None
    try:
        run_id = events.next("started")["config"]["run_id"]
        while not events.next("evaluated")["best"] or not files.run(run_id).has_adapter():
            pass                                                  # an adapter is saved at a best evaluation
        worker = RunRecord.read(files.run(run_id)).pid
        assert worker and worker != first.pid                     # the training process itself holds it

        second = run_wachat("train", "demo", "--base", str(tiny_base), "--max-steps", "1")
        assert second.returncode == 75
        [line] = second.stderr.strip().splitlines()
        assert f"project 'demo' is busy: training run {run_id} (process {worker}, since" in line

        export = run_wachat("export", "demo", "--run", run_id)
        assert export.returncode != 0
        [line] = export.stderr.strip().splitlines()
        assert f"run {run_id} is still being trained" in line and f"process {worker}" in line

        # a refresh and an exclusion meanwhile are short writes: they go ahead, and the run keeps
        # training on the copy of the dataset it took when it started
        snapshot = files.run(run_id).snapshot_train.read_bytes()
        assert snapshot == files.train.read_bytes()
        shorter = tmp_path / "WhatsApp Chat with Leo.txt"
        shorter.write_text("".join(demo_export().read_text(encoding="utf-8").splitlines(True)[:1500]),
                           encoding="utf-8")
        run_wachat("import", str(shorter), "--me", ME, "--project", "demo", "--refresh", check=True)
        run_wachat("pairs", "demo", "--exclude", project.pairs()[0].id, check=True)
        assert files.train.read_bytes() != snapshot
        step = events.next("step")["step"]
        assert events.next("step")["step"] > step                # still training
        assert files.run(run_id).snapshot_train.read_bytes() == snapshot
    finally:
        worker = RunRecord.read(files.run(run_id)).pid if run_id else None
        if worker:
            os.kill(worker, signal.SIGKILL)                       # killed hard: no chance to clean up
        first.wait(timeout=120)
    assert lock_holder(files, "training") is None                 # the OS released its lock
    with project_lock(files, "the next run", kind="training"):
        pass


@pytest.mark.asyncio
async def test_the_app_waits_for_a_cli_write_then_saves_its_exclusion(tmp_path):
    from wachat_tui.tui.app import WachatApp

    from ..tui.conftest import settle, wait_until

    project = import_hostile(tmp_path / "exports")
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#pairs")
        pair = table.current.id
        holder = hold_write_lock(project.dir, "importing from the command line", 2)
        await pilot.press("x")                                  # saved in a worker: it waits for the CLI
        await wait_until(pilot, lambda: holder.poll() is not None, timeout=60)
        await settle(pilot)
        assert json.loads(project.files.exclusions.read_text())["pairs"] == [pair]
        assert not [n for n in app._notifications if n.severity == "error"]


def test_the_lock_is_reentrant_for_its_thread_and_excludes_the_others(tmp_path):
    import threading

    from wachat_tui.core.lock import ProjectBusy

    files = ProjectFiles(tmp_path)
    outcome = {}

    def other_thread():
        try:
            with project_lock(files, "the review pane", wait=0.3):
                outcome["got"] = True
        except ProjectBusy as exc:
            outcome["busy"] = exc

    with project_lock(files, "an import"):
        with project_lock(ProjectFiles(tmp_path / "." / ""), "its rebuild"):   # same thread: no deadlock
            assert lock_holder(files).what == "an import"
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert "got" not in outcome and outcome["busy"].holder.pid == os.getpid()
    assert lock_holder(files) is None
    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert outcome.get("got")
