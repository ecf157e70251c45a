"""What an export starts from: a project, one of its training runs, the run's adapter and base model.

The project's files and runs are found through :mod:`wachat_tui.core.layout` (plain JSON, no
heavy imports), so the CLI can refuse a missing project or run in milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.layout import DamagedFile, ProjectFiles, RunRecord, find_run, read_json_object
from ..core.lock import run_being_trained
from ..errors import ModelError, ProjectError


@dataclass
class ExportSource:
    files: ProjectFiles
    project: dict
    """``project.json``: name, participants, me, is_group, chat_name."""
    run: RunRecord
    base_model: str
    base_path: Path
    tokenizer_dir: Path
    personas: list[str] = field(default_factory=list)

    @property
    def project_dir(self) -> Path:
        return self.files.dir

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def style_cards(self) -> dict[str, str]:
        """``{persona: card}`` the run trained with (empty: none)."""
        return dict(self.run.style_cards) if self.run is not None else {}

    @property
    def adapter_dir(self) -> Path:
        return self.run.adapter

    @property
    def project_name(self) -> str:
        return str(self.project.get("name") or self.files.name)

    @property
    def participants(self) -> list[str]:
        return [p for p in self.project.get("participants") or [] if p]

    @property
    def me(self) -> str | None:
        return self.project.get("me")

    @property
    def is_group(self) -> bool:
        return bool(self.project.get("is_group", False))

    @property
    def chat_title(self) -> str:
        return str(self.project.get("chat_name") or self.project_name)

    def partners_of(self, persona: str) -> list[str]:
        return [p for p in self.participants if p != persona]

    def setting_of(self, persona: str) -> tuple[list[str], str | None, str]:
        """``(partners, group name or None, platform)`` of the chat ``persona`` wrote most in
        (a project with several chats); the project-wide values for a project of one chat."""
        from ..core.people import People

        chats = [c for c in self.project.get("chats") or [] if isinstance(c, dict)]
        if len(chats) < 2:
            return (self.partners_of(persona), self.project.get("chat_name") if self.is_group else None,
                    str((chats[0].get("platform") if chats else None) or "whatsapp"))
        try:
            people = People.from_json(self.project.get("people"))
        except ProjectError:
            people = People()

        def written(chat: dict) -> int:
            counts = (chat.get("parse") or {}).get("counts_by_author") or {}
            return sum(n for name, n in counts.items() if people.resolve(name) == persona)

        best = max(chats, key=written)
        members = list(dict.fromkeys(people.resolve(str(n)) for n in best.get("participants") or []))
        return ([m for m in members if m != persona], best.get("title") if best.get("is_group") else None,
                str(best.get("platform") or "whatsapp"))

    def default_persona(self) -> str | None:
        if self.me and self.me in self.personas:
            return self.me
        return self.personas[0] if self.personas else self.me


def read_project(project_dir: Path) -> dict:
    """``project.json`` of the project at ``project_dir`` (ProjectError when it is none)."""
    files = ProjectFiles(project_dir)
    if not files.dir.is_dir():
        raise ProjectError(f"no project at {files.dir}", hint="`wachat projects` lists your projects")
    try:
        return read_json_object(files.project_json)
    except (FileNotFoundError, DamagedFile):
        raise ProjectError(f"{files.name} is not a wachat project (project.json missing or unreadable)",
                           hint="import the chat again with `wachat import`") from None


def _resolve_base_path(run: RunRecord) -> tuple[str, Path]:
    base_model = run.base_model
    if run.base_path and (Path(run.base_path) / "config.json").is_file():
        return base_model or run.base_path, Path(run.base_path)
    if base_model:
        from ..train.models import resolve_base  # re-creates the embedded checkpoint if the cache was cleared

        resolved = resolve_base(base_model)
        return base_model, Path(resolved.path)
    adapter_config = read_json_object(run.adapter / "adapter_config.json", missing={})
    guess = adapter_config.get("base_model_name_or_path")
    if guess and (Path(guess) / "config.json").is_file():
        return str(guess), Path(guess)
    raise ModelError("cannot tell which base model this run was trained on",
                     hint="run.json has no usable base_path/base_model; train again")


def resolve_source(project_dir: Path, run_id: str | None = None) -> ExportSource:
    files = ProjectFiles(project_dir)
    project = read_project(files.dir)
    run = find_run(files, run_id, need_adapter=True, prefer_finished=True)  # default: newest finished
    trainer = run_being_trained(files, run.run_id)
    if trainer is not None:  # its adapter is replaced at every new best: export a finished run only
        raise ProjectError(f"run {run.run_id} is still being trained ({trainer.describe()})",
                           hint="export it when it has finished, or pick a finished run with --run")
    base_model, base_path = _resolve_base_path(run)
    # The tokenizer training used: saved with the adapter when the trainer did, else the base's.
    adapter = run.adapter
    tokenizer_dir = adapter if ((adapter / "tokenizer.json").is_file()
                                or (adapter / "tokenizer.model").is_file()) else base_path
    personas = [p for p in (run.personas or project.get("personas") or []) if p]
    if not personas and project.get("me"):
        personas = [project["me"]]
    return ExportSource(files, project, run, base_model, base_path, tokenizer_dir, personas)
