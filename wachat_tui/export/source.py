"""What an export starts from: a project, one of its training runs, the run's adapter and base model.

Reads ``project.json`` and ``runs/<run_id>/run.json`` directly (plain JSON, no heavy imports),
so the CLI can refuse a missing project or run in milliseconds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError, ProjectError


@dataclass
class ExportSource:
    project_dir: Path
    project: dict
    run_id: str
    run_dir: Path
    run: dict
    adapter_dir: Path
    base_model: str
    base_path: Path
    tokenizer_dir: Path
    personas: list[str] = field(default_factory=list)

    @property
    def project_name(self) -> str:
        return str(self.project.get("name") or self.project_dir.name)

    @property
    def participants(self) -> list[str]:
        return [p for p in self.project.get("participants") or [] if p]

    @property
    def me(self) -> str | None:
        return self.project.get("me")

    @property
    def chat_title(self) -> str:
        return str(self.project.get("chat_name") or self.project_name)

    def partners_of(self, persona: str) -> list[str]:
        return [p for p in self.participants if p != persona]

    def default_persona(self) -> str | None:
        if self.me and self.me in self.personas:
            return self.me
        return self.personas[0] if self.personas else self.me


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def read_project(project_dir: Path) -> dict:
    project_dir = Path(project_dir)
    if not project_dir.is_dir():
        raise ProjectError(f"no project at {project_dir}", hint="`wachat projects` lists your projects")
    data = _read_json(project_dir / "project.json")
    if data is None:
        raise ProjectError(f"{project_dir.name} is not a wachat project (project.json missing or unreadable)",
                           hint="import the chat again with `wachat import`")
    return data


def _has_adapter(run_dir: Path) -> bool:
    return (run_dir / "adapter" / "adapter_config.json").is_file()


def list_runs(project_dir: Path) -> list[tuple[str, dict]]:
    """(run_id, run.json) for every run folder, oldest first."""
    runs_dir = Path(project_dir) / "runs"
    rows: list[tuple[str, dict]] = []
    if runs_dir.is_dir():
        for d in runs_dir.iterdir():
            if not d.is_dir() or d.name.startswith("."):
                continue
            info = _read_json(d / "run.json") or {}
            rows.append((d.name, info))
    rows.sort(key=lambda r: (str(r[1].get("created") or ""), r[0]))
    return rows


def pick_run(project_dir: Path, run_id: str | None = None) -> tuple[str, dict]:
    """The run to export: the given one, else the newest finished run with an adapter."""
    project_dir = Path(project_dir)
    name = project_dir.name
    runs = list_runs(project_dir)
    if run_id is not None:
        found = dict(runs).get(run_id)
        if found is None:
            known = ", ".join(r for r, _ in runs[-5:]) or "none yet"
            raise ProjectError(f"project {name!r} has no run named {run_id!r}", hint=f"runs: {known}")
        if not _has_adapter(project_dir / "runs" / run_id):
            status = found.get("status", "unknown")
            raise ProjectError(f"run {run_id!r} has no saved adapter (status: {status})",
                               hint="export a finished run, or train again")
        return run_id, found
    usable = [(r, info) for r, info in runs if _has_adapter(project_dir / "runs" / r)]
    if not usable:
        if runs:
            raise ProjectError(f"no run of project {name!r} has a saved adapter yet",
                               hint=f"wait for training to finish, or run `wachat train {name}`")
        raise ProjectError(f"project {name!r} has no trained runs", hint=f"train one first: `wachat train {name}`")
    finished = [(r, info) for r, info in usable if info.get("status") == "finished"]
    return (finished or usable)[-1]


def _resolve_base_path(run: dict, adapter_dir: Path) -> tuple[str, Path]:
    base_model = str(run.get("base_model") or "")
    base_path = run.get("base_path")
    if base_path and (Path(base_path) / "config.json").is_file():
        return base_model or str(base_path), Path(base_path)
    if base_model:
        from ..train.models import resolve_base  # re-creates the embedded checkpoint if the cache was cleared

        resolved = resolve_base(base_model)
        return base_model, Path(resolved.path)
    adapter_cfg = _read_json(adapter_dir / "adapter_config.json") or {}
    guess = adapter_cfg.get("base_model_name_or_path")
    if guess and (Path(guess) / "config.json").is_file():
        return str(guess), Path(guess)
    raise ModelError("cannot tell which base model this run was trained on",
                     hint="run.json has no usable base_path/base_model; train again")


def resolve_source(project_dir: Path, run_id: str | None = None) -> ExportSource:
    project_dir = Path(project_dir)
    project = read_project(project_dir)
    run_id, run = pick_run(project_dir, run_id)
    run_dir = project_dir / "runs" / run_id
    adapter_dir = run_dir / "adapter"
    base_model, base_path = _resolve_base_path(run, adapter_dir)
    # The tokenizer training used: saved with the adapter when the trainer did, else the base's.
    tokenizer_dir = adapter_dir if ((adapter_dir / "tokenizer.json").is_file()
                                    or (adapter_dir / "tokenizer.model").is_file()) else base_path
    personas = [p for p in (run.get("personas") or project.get("personas") or []) if p]
    if not personas and project.get("me"):
        personas = [project["me"]]
    return ExportSource(project_dir, project, run_id, run_dir, run, adapter_dir, base_model, base_path,
                        tokenizer_dir, personas)
