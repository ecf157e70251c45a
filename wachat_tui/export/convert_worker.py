"""The converter process: runs llama.cpp's converter scripts, one job per line on stdin.

Started by :mod:`.convert` as ``python -m wachat_tui.export.convert_worker <converter folder>``.
It imports torch and the converter (with the ``gguf-py`` it ships) once, says ``{"ready": true}``
and then serves jobs, so a second conversion in the same export (or test session) does not pay
the imports again::

    stdin:  {"id": 1, "script": "model"|"lora", "args": [...], "metadata": {...}, "threads": 2}
    stdout: {"id": 1, "stage": "writing", "done": 0, "total": 272}
            {"id": 1, "ok": true, "summary": {...}, "log": [...], "seconds": 3.1}

Each job runs the script exactly as its command line would (``runpy`` with ``sys.argv``). Two
things are added at the moment the file header is written (the last point where key-values can
still be added): our ``wachat.*`` metadata, and a summary of what was written (architecture,
tokenizer, tensor count) for the export record. Everything the scripts print goes to stderr;
stdout carries only the JSON lines above.
"""
from __future__ import annotations

import errno
import gc
import json
import logging
import os
import re
import runpy
import signal
import sys
import time
from pathlib import Path

_PROTOCOL = sys.stdout


def _send(message: dict) -> None:
    _PROTOCOL.write(json.dumps(message) + "\n")
    _PROTOCOL.flush()


class _Recent(logging.Handler):
    """Keeps the warnings and errors of the current job, for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines = (self.lines + [f"{record.levelname}: {record.getMessage()}"])[-20:]


def _add_value(writer, key: str, value) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_int64(key, value)
    elif isinstance(value, float):
        writer.add_float64(key, value)
    else:
        writer.add_string(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _install_header_hook(gguf, job: dict) -> None:
    """Wrap GGUFWriter.write_header_to_file to add ``job['metadata']`` and record a summary."""
    original = gguf.GGUFWriter.write_header_to_file

    def write_header(self, *args, **kwargs):
        kv = self.kv_data[0] if self.kv_data else {}
        if not job.get("_hooked"):
            job["_hooked"] = True
            for key, value in (job.get("metadata") or {}).items():
                if value is not None:
                    _add_value(self, key, value)

            def value_of(key):
                item = kv.get(key)
                return None if item is None else item.value

            tokens = value_of("tokenizer.ggml.tokens")
            total = sum(len(shard) for shard in self.tensors)
            job["_summary"] = {"architecture": self.arch, "tensors": total,
                               "tokenizer": value_of("tokenizer.ggml.model"),
                               "pre_tokenizer": value_of("tokenizer.ggml.pre"),
                               "vocab_size": len(tokens) if tokens is not None else None,
                               "file_type": value_of("general.file_type")}
            _send({"id": job["id"], "stage": "writing", "done": 0, "total": total})
        return original(self, *args, **kwargs)

    gguf.GGUFWriter.write_header_to_file = write_header
    job["_restore"] = lambda: setattr(gguf.GGUFWriter, "write_header_to_file", original)


def run_job(job: dict, scripts: dict[str, Path], recent: _Recent) -> dict:
    import gguf
    import torch

    recent.lines = []
    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    script = scripts[job["script"]]
    _install_header_hook(gguf, job)
    sys.argv = [str(script), *job["args"]]
    t0 = time.perf_counter()
    error, os_errno = None, None
    # The worker boundary: any failure of the converter (its own SystemExit, a NotImplementedError
    # for an unknown tokenizer, an assertion on an odd checkpoint…) becomes a failed result.
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (0, None):
            error = f"the converter stopped (exit code {exc.code})"
    except Exception as exc:  # noqa: BLE001 - see above
        error = f"{type(exc).__name__}: {exc}"
        os_errno = _write_errno(exc)  # a full disk is said as such
    finally:
        job["_restore"]()
        gc.collect()
    result = {"id": job["id"], "ok": error is None and "_summary" in job, "log": recent.lines,
              "summary": job.get("_summary"), "seconds": round(time.perf_counter() - t0, 2)}
    if error is None and "_summary" not in job:
        error = "the converter wrote no file"
    if error:
        result["error"] = error
    if os_errno is not None:
        result["errno"] = os_errno
    return result


def _write_errno(exc: Exception) -> int | None:
    """The errno of a failed write, for the parent to tell a full disk from a converter bug.
    numpy's ``tofile`` (the converter writes tensors with it) reports a short write — a full disk,
    a quota, a file-size limit — as ``OSError("N requested and M written")`` without an errno."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno is None and re.fullmatch(r"\d+ requested and \d+ written", str(exc)):
        return errno.ENOSPC
    return exc.errno


def _stay_with_parent() -> None:
    """Ctrl-C is the parent's to handle (it kills this process), and this process must not outlive
    a parent that was killed outright (Linux: the kernel sends SIGKILL when the parent dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(argv: list[str]) -> int:
    global _PROTOCOL
    _stay_with_parent()
    root = Path(argv[0]).resolve()
    # The scripts import `conversion` from their folder and `gguf` from its gguf-py (newer than
    # the gguf wheel of the same version number): both must win over anything installed.
    sys.path[:0] = [str(root), str(root / "gguf-py")]
    _PROTOCOL = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr  # whatever the scripts print must not corrupt the protocol
    recent = _Recent()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger().addHandler(recent)

    import torch  # noqa: F401  (the slow imports, once)
    import conversion  # noqa: F401
    import gguf  # noqa: F401

    scripts = {"model": root / "convert_hf_to_gguf.py", "lora": root / "convert_lora_to_gguf.py"}
    _send({"ready": True, "gguf": str(Path(gguf.__file__).parent)})
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        with torch.inference_mode():
            _send(run_job(job, scripts, recent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
