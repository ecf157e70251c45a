"""The fidelity report: typed results with ``to_json()`` / ``from_json()``.

Shape of :meth:`FidelityReport.to_json` (what ``eval.json`` and ``wachat eval --json`` hold)::

    {"overall":  {fidelity, style_distance, copy_rate, accuracy, floor, ceiling, chance,
                  base_style_distance, own_style_distance, base_fidelity, media_only_rate,
                  real_media_only_rate, leaks, distinct_2, ead_2, empty_rate, run_on_rate,
                  assistant_speak_rate, n, fidelity_note,
                  sources: {fine_tuned|base|real: SourceMetrics}},
     "personas": {name: same keys},
     "examples": [{case_id, persona, context, real, base, fine_tuned}],
     "leaks":    [{kind, value (masked), case_id, persona, source}],
     "classifier": {...}, "settings": {...}, "notes": [...]}

``sources`` hold the full numbers of each set of replies — accuracy, the style profile (the
per-persona style table: base · fine-tuned · real), its distance to the real replies, copy
and media-only rates, leaks and degeneration — and the flat keys repeat the fine-tuned
model's headline numbers with the floor/ceiling/real references beside them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import WachatError
from .degeneration import Degeneration
from .memorisation import Leak
from .style import StyleDistance, StyleProfile

CANDIDATE, BASE, REAL = "fine_tuned", "base", "real"
SOURCES = (BASE, CANDIDATE, REAL)


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class SourceMetrics:
    """Everything measured on one set of replies (one persona, or all of them)."""

    n: int
    accuracy: float | None
    style: StyleProfile | None
    style_distance: StyleDistance | None
    copy_rate: float | None
    media_only_rate: float | None
    leaks: int
    degeneration: Degeneration

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "accuracy": _r(self.accuracy),
            "style": self.style.to_json() if self.style else None,
            "style_distance": self.style_distance.to_json() if self.style_distance else None,
            "copy_rate": _r(self.copy_rate),
            "media_only_rate": _r(self.media_only_rate),
            "leaks": self.leaks,
            "degeneration": self.degeneration.to_json(),
        }

    @classmethod
    def from_json(cls, row: dict) -> "SourceMetrics":
        return cls(
            n=int(row.get("n") or 0), accuracy=row.get("accuracy"),
            style=StyleProfile.from_json(row["style"]) if row.get("style") else None,
            style_distance=StyleDistance.from_json(row["style_distance"]) if row.get("style_distance") else None,
            copy_rate=row.get("copy_rate"), media_only_rate=row.get("media_only_rate"),
            leaks=int(row.get("leaks") or 0), degeneration=Degeneration.from_json(row.get("degeneration") or {}))


@dataclass(frozen=True)
class Scores:
    """The headline numbers of one persona (or overall) and the sources they come from."""

    n: int
    chance: float
    ceiling: float | None
    floor: float | None
    accuracy: float | None
    fidelity: float | None
    base_fidelity: float | None
    fidelity_note: str | None
    style_distance: float | None
    base_style_distance: float | None
    copy_rate: float | None
    real_copy_rate: float | None
    media_only_rate: float | None
    real_media_only_rate: float | None
    leaks: int
    degeneration: Degeneration
    sources: dict[str, SourceMetrics] = field(default_factory=dict)
    own_style_distance: float | None = None
    """The style distance of another sample of the person's own messages (the noise a model
    cannot beat; see :mod:`wachat_tui.eval.measure`)."""

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "n": self.n, "chance": _r(self.chance), "ceiling": _r(self.ceiling), "floor": _r(self.floor),
            "accuracy": _r(self.accuracy), "fidelity": _r(self.fidelity), "base_fidelity": _r(self.base_fidelity),
            "fidelity_note": self.fidelity_note, "style_distance": _r(self.style_distance),
            "base_style_distance": _r(self.base_style_distance),
            "own_style_distance": _r(self.own_style_distance), "copy_rate": _r(self.copy_rate),
            "real_copy_rate": _r(self.real_copy_rate), "media_only_rate": _r(self.media_only_rate),
            "real_media_only_rate": _r(self.real_media_only_rate), "leaks": self.leaks,
        }
        out.update(self.degeneration.to_json())
        out["sources"] = {name: src.to_json() for name, src in self.sources.items()}
        return out

    @classmethod
    def from_json(cls, row: dict) -> "Scores":
        names = [f.name for f in fields(cls) if f.name not in ("degeneration", "sources")]
        data = {name: row.get(name) for name in names}
        data["n"] = int(data["n"] or 0)
        data["chance"] = float(data["chance"] or 0.0)
        data["leaks"] = int(data["leaks"] or 0)
        return cls(**data, degeneration=Degeneration.from_json(row),
                   sources={k: SourceMetrics.from_json(v) for k, v in (row.get("sources") or {}).items()})


@dataclass(frozen=True)
class Example:
    """One held-out context with the real reply and each model's, side by side."""

    case_id: str
    persona: str
    context: tuple[tuple[str, str], ...]
    real: str
    base: str | None
    fine_tuned: str

    def to_json(self) -> dict:
        return {"case_id": self.case_id, "persona": self.persona,
                "context": [{"author": a, "text": t} for a, t in self.context],
                "real": self.real, "base": self.base, "fine_tuned": self.fine_tuned}

    @classmethod
    def from_json(cls, row: dict) -> "Example":
        return cls(str(row.get("case_id", "")), str(row.get("persona", "")),
                   tuple((str(t["author"]), str(t["text"])) for t in row.get("context") or ()),
                   str(row.get("real", "")), row.get("base"), str(row.get("fine_tuned", "")))


@dataclass(frozen=True)
class FidelityReport:
    """The whole measurement."""

    overall: Scores
    personas: dict[str, Scores]
    examples: list[Example] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    classifier: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    chats: dict[str, Scores] = field(default_factory=dict)
    """The overall scores of each chat of the project (empty for a one-chat project)."""

    def to_json(self) -> dict:
        return {
            "overall": self.overall.to_json(),
            "personas": {name: s.to_json() for name, s in self.personas.items()},
            "chats": {chat_id: s.to_json() for chat_id, s in self.chats.items()},
            "examples": [e.to_json() for e in self.examples],
            "leaks": [leak.to_json() for leak in self.leaks],
            "classifier": self.classifier,
            "settings": self.settings,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, doc: dict) -> "FidelityReport":
        """A report read back from ``eval.json`` (what the Eval view shows)."""
        try:
            return cls(
                overall=Scores.from_json(doc["overall"]),
                personas={str(k): Scores.from_json(v) for k, v in doc["personas"].items()},
                examples=[Example.from_json(e) for e in doc.get("examples") or ()],
                leaks=[Leak.from_json(x) for x in doc.get("leaks") or ()],
                classifier=dict(doc.get("classifier") or {}), settings=dict(doc.get("settings") or {}),
                notes=[str(n) for n in doc.get("notes") or ()],
                chats={str(k): Scores.from_json(v) for k, v in (doc.get("chats") or {}).items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WachatError(f"the fidelity report is damaged ({exc.__class__.__name__}: {exc})",
                              "measure again with `wachat eval`") from None

    def summary(self) -> dict:
        """The few numbers that travel with a model file (export.json / GGUF metadata)."""
        o = self.overall
        return {
            "fidelity": _r(o.fidelity, 3), "style_distance": _r(o.style_distance, 3),
            "copy_rate": _r(o.copy_rate, 3), "accuracy": _r(o.accuracy, 3), "floor": _r(o.floor, 3),
            "ceiling": _r(o.ceiling, 3), "media_only_rate": _r(o.media_only_rate, 3),
            "real_media_only_rate": _r(o.real_media_only_rate, 3), "leaks": o.leaks, "n": o.n,
            "personas": {name: {"fidelity": _r(s.fidelity, 3), "style_distance": _r(s.style_distance, 3),
                                "copy_rate": _r(s.copy_rate, 3)} for name, s in self.personas.items()},
        }
