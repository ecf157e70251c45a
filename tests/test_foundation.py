"""The shared pieces: events, atomic writes, the CLI's error contract, the worker process."""
from __future__ import annotations

import json
import os
import stat
import sys
import textwrap

import pytest

from wachat_tui.core import atomic
from wachat_tui.errors import WachatError
from wachat_tui.process import EventProcess
from wachat_tui import events as ev
from tests.conftest import run_wachat


def test_events_round_trip_through_json_lines():
    original = ev.Step(step=3, max_steps=10, epoch=0.5, loss=1.25, lr=2e-4, tokens_per_s=812.0, eta_s=4.2)
    back = ev.parse_event(original.to_json())
    assert isinstance(back, ev.Step)
    assert (back.step, back.loss, back.eta_s) == (3, 1.25, 4.2)
    assert json.loads(original.to_json())["event"] == "step"


def test_parse_event_ignores_noise_and_unknown_fields():
    assert ev.parse_event("") is None
    assert ev.parse_event("Loading weights...") is None
    assert ev.parse_event('{"event": "nope"}') is None
    e = ev.parse_event('{"event": "failed", "error": "boom", "hint": "x", "extra": 1}')
    assert isinstance(e, ev.Failed) and e.error == "boom"


def test_atomic_write_is_owner_only_and_never_half_written(tmp_path):
    target = tmp_path / "sub" / "data.json"
    atomic.write_json(target, {"a": 1})
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700

    def rows():
        yield {"a": 2}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic.write_jsonl(target, rows())
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]


def test_error_one_line_joins_message_and_hint():
    err = WachatError("No such project: 'x'.", "run `wachat projects` to list them")
    assert err.one_line() == "No such project: 'x' — run `wachat projects` to list them"


def test_cli_help_and_unknown_command():
    ok = run_wachat("--help")
    assert ok.returncode == 0 and "wachat" in ok.stdout
    bad = run_wachat("no-such-command")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_event_process_reads_events_and_reports_a_crash(tmp_path, monkeypatch):
    pkg = tmp_path / "fakeworker"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(textwrap.dedent("""
        import sys
        from wachat_tui.events import Step, emit
        print("noise that is not an event")
        emit(Step(step=1, max_steps=2, loss=2.0))
        print("something broke", file=sys.stderr)
        sys.exit(3)
    """))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    proc = EventProcess("fakeworker", [])
    got = list(proc.events())
    assert [e.name for e in got] == ["step", "failed"]
    assert "code 3" in got[-1].error and "something broke" in got[-1].error


def test_emitter_writes_the_stream_and_the_run_file_and_survives_a_gone_reader(tmp_path):
    import io

    events_file = tmp_path / "run" / "events.jsonl"
    stream = io.StringIO()
    heard = []
    emitter = ev.Emitter(stream, events_file)
    emitter.listeners.append(heard.append)
    emitter(ev.Step(step=1, max_steps=2, loss=2.0))
    emitter.log("hello")
    assert [ev.parse_event(l).name for l in stream.getvalue().splitlines()] == ["step", "log"]
    assert events_file.read_text() == stream.getvalue()
    assert stat.S_IMODE(os.stat(events_file).st_mode) == 0o600 and [e.name for e in heard] == ["step", "log"]

    class GoneReader(io.StringIO):
        def write(self, text):
            raise BrokenPipeError

    ev.Emitter(GoneReader(), events_file)(ev.Finished(path="x"))  # the reader went away: the run goes on
    assert events_file.read_text().splitlines()[-1].startswith('{"event": "finished"')
    silent = io.StringIO()
    ev.Emitter(silent, tmp_path / "other.jsonl", enabled=False)(ev.Step(step=1))  # a non-main process
    assert silent.getvalue() == "" and not (tmp_path / "other.jsonl").exists()
