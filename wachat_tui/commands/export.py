"""`wachat export P [--run R] [--quant q8_0|q4_k_m|f16] [--out FILE] [--events]`."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from ..display import safe

HELP = "merge a trained run into a verified GGUF file (llama.cpp, Ollama, LM Studio)"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--run", default=None, help="run id to export (default: the newest finished run)")
    parser.add_argument("--quant", default="q8_0", choices=("q8_0", "q4_k_m", "f16"),
                        help="weight type: q8_0 (default, near-lossless), q4_k_m (smallest), f16 (unquantized)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output .gguf file, anywhere (default: <project>/models/<run>-<quant>.gguf); "
                             "the project remembers it, so `wachat chat` finds it")
    parser.add_argument("--lora-gguf", action="store_true",
                        help="also write the adapter alone as a GGUF LoRA (for llama.cpp --lora)")
    parser.add_argument("--events", action="store_true", help="print JSON-lines progress events instead of a bar")


def project_dir_for(name: str) -> Path:
    """The folder of project ``name`` (ProjectError with a hint when there is none)."""
    from ..core.project import Project

    return Project.open(name).dir


def ollama_name(project: str, persona: str | None) -> str:
    raw = f"wachat-{project}-{persona}" if persona else f"wachat-{project}"
    return re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-") or "wachat"


def run(args) -> int:
    from ..core.layout import ProjectFiles, find_run
    from ..core.lock import run_being_trained
    from ..errors import WachatError
    from ..export.config import ExportConfig
    from ..export.runner import start_export

    project_dir = project_dir_for(args.project)
    ExportConfig(quant=args.quant, run_id=args.run, out=args.out).validate()
    # a missing run, or one still training, fails here, before a worker starts (it checks again)
    files = ProjectFiles(project_dir)
    record = find_run(files, args.run, need_adapter=True, prefer_finished=True)
    trainer = run_being_trained(files, record.run_id)
    if trainer is not None:
        raise WachatError(f"run {record.run_id} is still being trained ({trainer.describe()})",
                          "export it when it has finished, or pick a finished run with --run")
    proc = start_export(project_dir, args.run, args.quant, args.out, lora_gguf=args.lora_gguf)
    try:
        final = _print_events(proc) if args.events else _show_progress(proc)
    except KeyboardInterrupt:
        proc.cancel()
        raise
    if final is None or final.name != "finished":
        error = getattr(final, "error", "export ended without a result")
        hint = getattr(final, "hint", "") or None
        if error == "cancelled":
            print("wachat: export cancelled", file=sys.stderr)
            return 130
        raise WachatError(error, hint)
    if not args.events:
        _print_summary(final)
    return 0


def _print_events(proc):
    final = None
    for event in proc.events():
        print(event.to_json(), flush=True)
        if event.name in ("finished", "failed"):
            final = event
    return final


def _show_progress(proc):
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    final = None
    labels = {"merging": "Merging adapter", "writing": "Writing GGUF", "quantizing": "Quantizing",
              "verifying": "Verifying with llama.cpp"}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console,
                  transient=False) as progress:
        tasks: dict[str, int] = {}
        for event in proc.events():
            if event.name == "stage":
                if event.stage not in tasks:
                    for other, tid in tasks.items():  # previous stages are done
                        task = progress.tasks[tid]
                        if task.total is None or task.completed < task.total:
                            progress.update(tid, total=1, completed=1)
                    tasks[event.stage] = progress.add_task(labels.get(event.stage, event.stage),
                                                           total=event.total or None, detail="")
                progress.update(tasks[event.stage], completed=event.done, total=event.total or None,
                                detail=escape(safe(event.detail[:60])))
            elif event.name == "verified":
                mark = "[green]✓[/]" if event.passed else "[red]✗[/]"
                progress.console.print(f"  {mark} {escape(safe(event.check))}: {escape(safe(event.detail))}",
                                       highlight=False)
            elif event.name in ("finished", "failed"):
                final = event
                for tid in tasks.values():
                    task = progress.tasks[tid]
                    if event.name == "finished" and (task.total is None or task.completed < task.total):
                        progress.update(tid, total=1, completed=1)
    return final


def _print_summary(final) -> None:
    m = final.metrics or {}
    secs = (m.get("seconds") or {}).get("total_s")
    size = m.get("bytes")
    print(safe(final.path))
    info = []
    if size:
        info.append(f"{size / 1e6:.0f} MB {m.get('quant', '')}")
    if secs is not None:
        info.append(f"{secs:.0f} s")
    if info:
        print(f"  ({', '.join(info)}; all checks passed)", file=sys.stderr)
    modelfile = m.get("modelfile")
    if modelfile:
        name = ollama_name(m.get("project") or "chat", m.get("persona"))
        print(f"ollama create {name} -f {safe(modelfile)}")
    if m.get("lora_gguf"):
        print(f"LoRA adapter: {safe(m['lora_gguf'])}", file=sys.stderr)
    if m.get("lora_error"):
        print(f"wachat: warning: no GGUF LoRA written: {safe(m['lora_error'])}", file=sys.stderr)
