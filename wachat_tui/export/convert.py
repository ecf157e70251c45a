"""Run llama.cpp's converters (see :mod:`.converter`) in a separate process and wait for the file.

The converter imports its own ``gguf-py``, which is newer than the ``gguf`` wheel this process
uses, so it cannot run in-process. One converter process is started on first use and kept for
the rest of this process (an export converts the merged model and maybe the adapter; a test
session converts dozens of tiny models), so torch and the converter are imported once. If a job
is interrupted (Ctrl-C, cancel) the process is killed, which stops it writing at once; the next
job starts a fresh one.
"""
from __future__ import annotations

import atexit
import errno
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Callable, Literal

from ..errors import ModelError
from .converter import Converter, find_converter

# What a write that ran out of room fails with (a full disk, a quota, a file-size limit).
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

ProgressFn = Callable[[int, int], None]


@dataclass
class ConversionJob:
    """One run of a converter script, as its command-line arguments."""

    script: Literal["model", "lora"]
    args: list[str]
    metadata: dict = field(default_factory=dict)
    """Extra GGUF key-values (``wachat.*``): str/bool/int/float, anything else stored as JSON text."""


class ConversionFailed(ModelError):
    """The converter refused or failed; ``log`` holds its last warnings and errors."""

    def __init__(self, message: str, hint: str | None = None, log: list[str] | None = None):
        super().__init__(message, hint)
        self.log = log or []


class ConverterProcess:
    """A running converter worker. Not thread-safe on its own: :func:`run_conversion` locks."""

    def __init__(self, converter: Converter):
        self.converter = converter
        self._log = tempfile.TemporaryFile(prefix="wachat-convert-", suffix=".log")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TQDM_DISABLE": "1",
               "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wachat_tui.export.convert_worker", str(converter.root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, encoding="utf-8",
            env=env, bufsize=1)
        self._next_id = 0
        self._ready = False  # the worker imports torch and the converter first: read its hello lazily

    def _wait_ready(self) -> None:
        if self._ready:
            return
        hello = self._read()
        if not hello.get("ready"):
            raise ModelError("llama.cpp's converter did not start",
                             hint=f"check its folder {self.converter.root}; the log says: {self.log_tail()}")
        self._ready = True

    def _read(self) -> dict:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            code = self.proc.wait()
            raise ModelError(f"llama.cpp's converter process ended unexpectedly (exit code {code})",
                             hint=self.log_tail() or "run the export again")
        return json.loads(line)

    def log_tail(self, lines: int = 3) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: ConversionJob, threads: int | None = None, progress: ProgressFn | None = None) -> dict:
        self._wait_ready()
        self._next_id += 1
        message = {"id": self._next_id, "script": job.script, "args": [str(a) for a in job.args],
                   "metadata": job.metadata, "threads": threads}
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self._read()
            if "stage" in reply:
                if progress:
                    progress(int(reply["done"]), int(reply["total"]))
                continue
            if reply.get("ok"):
                summary = reply.get("summary") or {}
                if progress:
                    progress(summary.get("tensors", 0), summary.get("tensors", 0))
                return {**summary, "convert_s": reply.get("seconds")}
            if reply.get("errno") in DISK_FULL:  # the caller says "the disk is full" and keeps the old file
                raise OSError(reply["errno"], os.strerror(reply["errno"]))
            raise _explain(reply.get("error") or "unknown error", reply.get("log") or [], self.converter)

    def close(self) -> None:
        """Stop the worker. It holds no state worth a graceful exit (jobs are whole files written
        under temp names), and it may still be importing torch: kill it."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._log.close()


def _explain(error: str, log: list[str], converter: Converter) -> ConversionFailed:
    """Turn the converter's failure into one sentence for the user."""
    text = " ".join([error, *log])
    if "pre-tokenizer was not recognized" in text:
        return ConversionFailed(
            "llama.cpp's converter does not know this base model's tokenizer (unrecognised BPE pre-tokenizer)",
            hint=f"the llama.cpp in llama-cpp-python {converter.version} cannot run it; train on a supported base",
            log=log)
    if "is not supported" in text and "Model " in text:
        return ConversionFailed(f"llama.cpp's converter does not support this model: {log[-1] if log else error}",
                                hint="train on a supported base model", log=log)
    detail = next((line for line in reversed(log) if line.startswith("ERROR")), error)
    return ConversionFailed(f"llama.cpp's converter failed: {detail}"[:400],
                            hint="the model folder may be incomplete; train again or report this", log=log)


_lock = threading.Lock()
_process: ConverterProcess | None = None


def _shared_process() -> ConverterProcess:
    """The running converter process for the installed converter (started if needed; call locked)."""
    global _process
    converter = find_converter()
    if _process is not None and (not _process.alive() or _process.converter != converter):
        _process.close()
        _process = None
    if _process is None:
        _process = ConverterProcess(converter)
    return _process


def start_converter() -> Converter:
    """Find the converter (a clear ModelError when setup has not put it in place) and start its
    process in the background, so its imports overlap with the merge that comes first."""
    with _lock:
        return _shared_process().converter


def run_conversion(job: ConversionJob, *, threads: int | None = None,
                   progress: ProgressFn | None = None) -> dict:
    """Run one job in the shared converter process; returns the summary of the written file.

    Raises :class:`ConversionFailed` (a ModelError) when the converter refuses the model, and
    ModelError when the converter is not set up. On any interruption the process is killed.
    """
    global _process
    with _lock:
        process = _shared_process()
        try:
            return process.run(job, threads=threads, progress=progress)
        except ConversionFailed:
            raise
        except BaseException:
            # Interrupted or the worker died mid-job: stop it now so nothing keeps writing.
            process.close()
            _process = None
            raise


def shutdown() -> None:
    """Stop the shared converter process (also done at interpreter exit)."""
    global _process
    with _lock:
        if _process is not None:
            _process.close()
            _process = None


atexit.register(shutdown)
