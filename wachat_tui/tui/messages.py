"""Textual messages the workers post to the screens (past tense: they report what happened).

Progress messages carry a complete snapshot, so a newer one can replace an older one still
waiting in the queue (``can_replace``): a flood of events never makes the UI fall behind.
"""
from __future__ import annotations

from typing import Any

from textual.message import Message

from .runstate import RunView


class ProjectOpened(Message):
    """The app switched to another project (or reloaded the current one)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ExportParsed(Message):
    """An export was read for the import preview: ``parsed`` is its chats (core.sources.ChatSource)."""

    def __init__(self, path: str, parsed: Any, language: Any = None) -> None:
        super().__init__()
        self.path = path
        self.parsed = parsed
        self.language = language  # core.language.LanguageReport of all its messages


class ExportParseFailed(Message):
    def __init__(self, path: str, error: str) -> None:
        super().__init__()
        self.path = path
        self.error = error


class DatasetPreviewed(Message):
    """``build_dataset`` ran with the options on screen; newer previews replace older ones."""

    def __init__(self, token: int, report: dict, pairs: list | None = None) -> None:
        super().__init__()
        self.token = token
        self.report = report
        self.pairs = pairs

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DatasetPreviewed)


class ProjectImported(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class TaskFailed(Message):
    """A background task failed with a sentence for the user."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class TrainingProgressed(Message):
    """A new snapshot of the running training; replaces any older snapshot still queued."""

    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingProgressed)


class TrainingEnded(Message):
    """The training process ended (finished, failed or cancelled)."""

    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view


class ExportProgressed(Message):
    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ExportProgressed)


class ExportEnded(Message):
    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view


class ModelLoaded(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class ReplyStreamed(Message):
    """The text of a bubble being written so far (cumulative), coalesced by the worker."""

    def __init__(self, bubble_id: int, author: str, text: str) -> None:
        super().__init__()
        self.bubble_id = bubble_id
        self.author = author
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplyStreamed) and message.bubble_id == self.bubble_id


class ReplyCompleted(Message):
    """A model-written turn is complete (the conversation has already saved its lines)."""

    def __init__(self, bubble_id: int, author: str, text: str) -> None:
        super().__init__()
        self.bubble_id = bubble_id
        self.author = author
        self.text = text


class GenerationEnded(Message):
    """A reply or a simulation stopped (done, stopped by the user, or failed)."""

    def __init__(self, reason: str = "done", error: str = "") -> None:
        super().__init__()
        self.reason = reason
        self.error = error


class MeasureProgressed(Message):
    """The fidelity measurement of a run went on (``done`` of ``total`` replies of ``source``)."""

    def __init__(self, run_id: str, source: str, done: int, total: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.source = source
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MeasureProgressed)


class MeasureEnded(Message):
    """The measurement ended: ``finished`` (eval.json written), ``cancelled`` or ``failed``."""

    def __init__(self, run_id: str, outcome: str, error: str = "") -> None:
        super().__init__()
        self.run_id = run_id
        self.outcome = outcome
        self.error = error
