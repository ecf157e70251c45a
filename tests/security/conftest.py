"""Fixtures for the untrusted-input, one-writer, offline and crash-safety tests."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer random Llama with a ChatML BPE tokenizer (built in seconds, no download): the real
    trainer runs on it in milliseconds per step, so kill/resume rounds cost process start-ups only."""
    from tests.export.tiny import FAMILIES, Assets, make_base
    from wachat_tui.export.converter import find_converter
    from wachat_tui.paths import cache_home

    assets = Assets(find_converter().root / "models", cache_home() / "test-tokenizers")
    return make_base(FAMILIES["smollm"], tmp_path_factory.mktemp("tiny-base") / "base", assets)


def wachat_popen(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """The real CLI in its own process, stdout (events or text) readable line by line."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "wachat_tui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full_env, **kwargs)


class Events:
    """A process's JSON-lines events, read in a thread so that waiting for one can time out."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.queue.put(json.loads(line))
        self.queue.put(None)

    def next(self, *names: str, timeout: float = 600) -> dict:
        """The next event named one of ``names`` (the others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {names} event within {timeout} s") from None
            if event is None:
                raise AssertionError(f"the process ended before {names}: {self.proc.stderr.read()[-2000:]}")
            if event["event"] in names:
                return event
            if event["event"] in ("failed", "finished"):
                raise AssertionError(f"the process ended before {names}: {event}")
