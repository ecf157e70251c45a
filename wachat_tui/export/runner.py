"""Start an export in its own process (for the TUI and the CLI) and read its events."""
from __future__ import annotations

from pathlib import Path

from ..core.layout import ProjectFiles
from ..process import EventProcess
from .config import ExportConfig


def export_args(project_dir: Path, run_id: str | None = None, quant: str = "q8_0",
                out: Path | None = None, lora_gguf: bool = False) -> list[str]:
    ExportConfig(quant=quant, run_id=run_id, out=out, lora_gguf=lora_gguf).validate()
    args = ["--project-dir", str(project_dir), "--quant", quant]
    if run_id:
        args += ["--run", run_id]
    if out is not None:
        args += ["--out", str(Path(out).expanduser().resolve())]
    if lora_gguf:
        args.append("--lora-gguf")
    return args


def start_export(project_dir: Path, run_id: str | None = None, quant: str = "q8_0",
                 out: Path | None = None, lora_gguf: bool = False) -> EventProcess:
    """Run ``python -m wachat_tui.export`` and return the process; iterate ``.events()``.

    Events: Stage(merging|writing|quantizing|verifying, done, total), Verified per check,
    Log, then Finished(path=<gguf>, metrics) or Failed(error, hint). ``.cancel()`` stops it
    and leaves no partial file. stderr goes to the project's ``export.log``
    (:attr:`ProjectFiles.export_log`). A finished export is in the project's ``exports.json``
    (:func:`wachat_tui.core.layout.list_exports`).
    """
    project_dir = Path(project_dir)
    return EventProcess("wachat_tui.export", export_args(project_dir, run_id, quant, out, lora_gguf),
                        log_path=ProjectFiles(project_dir).export_log)
