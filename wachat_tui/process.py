"""Run a wachat worker process (training, export) and read its JSON-lines events.

The worker prints events on stdout (see ``events.py``) and logs on stderr. Readers
(the CLI progress bar, ``--events`` passthrough, the TUI) iterate :meth:`EventProcess.events`.
Cancelling sends SIGINT, which the workers turn into "save and exit cleanly"; a worker
that does not stop in time gets SIGTERM, then SIGKILL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Iterator, Sequence

from .events import Event, Failed, parse_event


class EventProcess:
    def __init__(self, module: str, args: Sequence[str], *, env: dict | None = None,
                 log_path: Path | None = None):
        self.module = module
        self.args = list(args)
        run_env = dict(os.environ)
        run_env.setdefault("PYTHONUNBUFFERED", "1")
        run_env.setdefault("TOKENIZERS_PARALLELISM", "false")
        if env:
            run_env.update(env)
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._log_path = log_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=run_env,
            start_new_session=True,  # Ctrl-C in the terminal goes to us; we forward it once
        )
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        self.cancelled = False

    def _drain_stderr(self) -> None:
        log = None
        if self._log_path is not None:
            try:
                self._log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self._log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                log = os.fdopen(fd, "a", encoding="utf-8")
            except OSError:
                log = None
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr_tail.append(line.rstrip("\n"))
            if log:
                log.write(line)
                log.flush()
        if log:
            log.close()

    @property
    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    def events(self) -> Iterator[Event]:
        """Yield events until the process ends; a crash without a `failed` event yields one."""
        assert self.proc.stdout is not None
        saw_end = False
        for line in self.proc.stdout:
            event = parse_event(line)
            if event is None:
                continue
            if event.name in ("finished", "failed"):
                saw_end = True
            yield event
        code = self.proc.wait()
        self._stderr_thread.join(timeout=5)
        if not saw_end:
            if self.cancelled:
                yield Failed(error="cancelled", hint="")
            else:
                last = next((l for l in reversed(self._stderr_tail) if l.strip()), "")
                yield Failed(error=f"worker exited with code {code}: {last}"[:500],
                             hint="see the log for details")

    def cancel(self, timeout: float = 60.0) -> None:
        """Ask the worker to save and stop (SIGINT), escalating if it does not."""
        if self.proc.poll() is not None:
            return
        self.cancelled = True
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def cancel_async(self) -> None:
        threading.Thread(target=self.cancel, daemon=True).start()

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()
