"""Which GGUF a chat runs on: the one place that decides it, for the CLI and the TUI alike.

1. ``--model`` when given: a GGUF file, or ``embedded`` (``embedded:KEY``) for a base model.
2. Else the project's newest verified export, wherever it was written: the export pipeline
   records each one in ``exports.json`` (:func:`wachat_tui.core.layout.list_exports`, which
   skips files deleted since).
3. Else — and only when the project has no export yet — the embedded base model for the
   chat's language (SmolLM2 for English, Gemma 3 for any other), untrained.

Nothing here catches errors: a damaged ``exports.json`` or a missing embedded package is told
to the user, never hidden behind a silent switch to the base model.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core import embedded
from ..core.layout import ExportRecord, ProjectFiles, list_exports, read_json_object


@dataclass(frozen=True)
class ChatModel:
    """A GGUF to chat with, and where it came from."""

    path: Path
    """The GGUF llama.cpp loads."""
    lora_path: Path | None = None
    """A GGUF LoRA applied on top of ``path`` (adapter-only exports)."""
    export: ExportRecord | None = None
    """The project's export record, when the model is one of its exports."""
    base: embedded.EmbeddedModel | None = None
    """The embedded base model, when that is what runs."""

    @property
    def cards(self) -> dict[str, str] | None:
        """The style cards the model was trained with, from its export record (None: let the
        engine read them from the GGUF — an adapter-only export's base GGUF has none)."""
        return self.export.style_cards if self.export is not None and self.export.style_cards else None

    @property
    def is_base(self) -> bool:
        """The untrained embedded model: replies will not sound like anyone in the chat."""
        return self.base is not None

    def ready_path(self, log: Callable[[str], None] | None = None) -> Path:
        """The GGUF to load: an embedded base split over several packages is assembled on first
        use (a minute; call this off the UI thread)."""
        if self.base is not None:
            return self.base.gguf_path(log)
        return self.path

    @property
    def name(self) -> str:
        """What the history and the UI call it: the file name (of the adapter, if any)."""
        return (self.lora_path or self.path).name


def model_from_export(record: ExportRecord) -> ChatModel:
    """The model an export record describes (an adapter-only export runs on its base GGUF)."""
    if record.base_path:
        return ChatModel(Path(record.base_path), lora_path=Path(record.lora_path or record.path),
                         export=record)
    return ChatModel(Path(record.path), export=record)


def latest_export(project: ProjectFiles | Path) -> ChatModel | None:
    """The project's newest verified export still on disk, or None when it has none."""
    exports = list_exports(project)
    return model_from_export(exports[0]) if exports else None


def base_model(model: embedded.EmbeddedModel = embedded.DEFAULT) -> ChatModel:
    """An embedded base model (ModelError with the pip line when its package is missing).

    A model that is assembled from chunk packages is not assembled here (this runs on the UI
    thread): ``path`` is where it will be, :meth:`ChatModel.ready_path` makes it.
    """
    if model.packaging == "chunks":
        if not model.installed():
            model.gguf_path()  # raises the ModelError that names the package
        return ChatModel(model.assembled_path(), base=model)
    return ChatModel(model.gguf_path(), base=model)


def project_base(project: ProjectFiles | Path) -> embedded.EmbeddedModel:
    """The embedded base for the project's language (as detected at import; English if unknown)."""
    files = project if isinstance(project, ProjectFiles) else ProjectFiles(Path(project))
    try:
        language = read_json_object(files.project_json).get("language")
    except FileNotFoundError:
        language = None
    primary = language.get("primary") if isinstance(language, dict) else None
    return embedded.for_language(primary if isinstance(primary, str) else None)


def find_chat_model(project: ProjectFiles | Path, model_arg: str | None = None) -> ChatModel:
    """The model to chat with (see the module docstring for the order)."""
    if model_arg:
        chosen = embedded.lookup(model_arg)
        return base_model(chosen) if chosen else ChatModel(Path(model_arg).expanduser())
    return latest_export(project) or base_model(project_base(project))
