"""`wachat eval`'s work, with no UI in it: measure a run (or any GGUF) against its base model.

1. **What is measured** (:func:`choose_target`): ``--model FILE.gguf``; else the run's newest
   export still on disk — the file the user chats with, through llama.cpp; else the run's HF
   adapter on its base model (transformers).
2. **On what**: the held-out cases of the run's own snapshot of the review pairs (the split it
   trained with), balanced per persona, capped (default 200).
3. **Against what**: the base model with the same prompts and sampling (the floor) — a GGUF
   base through llama.cpp when the target is a GGUF and the base is an embedded model; the
   same loaded weights with the adapter switched off when the target is the HF adapter; the
   real replies are the ceiling. The base model's replies are the same for every run of the
   project, so they are cached in ``<project>/eval-cache/`` (:class:`BaseReplyCache`, keyed by
   model, sampling, seed and case set): a second eval generates only the fine-tuned replies.
4. **Saved**: ``eval.json`` in the run (atomic), and the summary on the run's exports in
   ``exports.json`` (:func:`record_in_exports`).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..core import embedded
from ..core.atomic import write_json
from ..core.gguf_file import check_gguf_file
from ..core.layout import (DamagedFile, ExportRecord, ProjectFiles, RunRecord, find_run, list_exports, list_runs,
                           read_json_object, remember_export)
from ..errors import WachatError
from .backends import GGUFBackend, HFBackend, ReplayBackend, chat_sampling
from .cases import DEFAULT_CAP, Case, load_eval_data
from .measure import Progress, build_yardsticks, choose_cases, generate_replies, measure
from .report import BASE, FidelityReport
from .summary import report_summary

CACHE_VERSION = 2
"""Bump when what a base reply is changes (prompt, clean-up, seeding): old cache files stop matching.
2: each reply is seeded from the seed and its prompt (``chat.engine.reply_seed``), not the seed alone."""
CACHE_KEPT = 8
"""Cached base-reply sets kept per project (the newest)."""


# --------------------------------------------------------------------------- what is measured
@dataclass(frozen=True)
class Target:
    """The model one ``wachat eval`` measures, and the run it belongs to (if known)."""

    project: ProjectFiles
    run: RunRecord | None
    gguf: Path | None = None
    """The GGUF llama.cpp runs (None: the run's HF adapter)."""
    lora: Path | None = None
    """A GGUF LoRA on top of ``gguf`` (adapter-only exports)."""
    export: ExportRecord | None = None

    @property
    def backend(self) -> str:
        return "gguf" if self.gguf is not None else "hf"

    @property
    def label(self) -> str:
        if self.gguf is not None:
            return (self.lora or self.gguf).name
        return f"run {self.run.run_id} adapter (transformers)" if self.run else "adapter"


def choose_target(project: ProjectFiles, run_id: str | None = None, model: str | None = None) -> Target:
    """The model to measure (see the module docstring); WachatError with one line when there is none."""
    if run_id and model:
        raise WachatError("give --run or --model, not both",
                          "--run measures a run's newest export (or its adapter); --model any GGUF file")
    if model:
        chosen = embedded.lookup(model)
        path = chosen.gguf_path() if chosen else check_gguf_file(
            Path(model).expanduser(), hint="point --model at a .gguf file (see `wachat export`)")
        record = next((e for e in list_exports(project) if Path(e.path).resolve() == path.resolve()), None)
        run = _run_named(project, record.run_id) if record else None
        return Target(project, run, gguf=path, export=record)
    run = find_run(project, run_id, need_adapter=True)
    for record in list_exports(project):
        if record.run_id == run.run_id:
            if record.base_path:
                return Target(project, run, gguf=Path(record.base_path), lora=Path(record.lora_path or record.path),
                              export=record)
            return Target(project, run, gguf=Path(record.path), export=record)
    return Target(project, run)


def _run_named(project: ProjectFiles, run_id: str | None) -> RunRecord | None:
    return next((r for r in list_runs(project) if run_id and r.run_id == run_id), None)


# --------------------------------------------------------------------------- the base model's replies
def cases_digest(cases: Sequence[Case]) -> str:
    """A digest of the case set, in order (a re-imported dataset gives other cases, another digest)."""
    rows = [[c.id, c.persona, [list(t) for t in c.context], c.reply, list(c.partners), c.chat] for c in cases]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class BaseReplyCache:
    """The base model's replies to one case set, in ``<project>/eval-cache/base-<key>.json``."""

    project: ProjectFiles
    model: dict
    """Which base model wrote them, and how (backend, name, file)."""
    sampling: dict
    seed: int
    cases: Sequence[Case]
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        material = {"version": CACHE_VERSION, "model": self.model, "sampling": self.sampling, "seed": self.seed,
                    "cases": cases_digest(self.cases)}
        self.material = material
        self.digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]

    @property
    def path(self) -> Path:
        return self.project.base_replies(self.digest)

    def load(self) -> tuple[list[str], list[bool], float] | None:
        """The cached ``(replies, ran_on, seconds)``, or None when there is no (usable) entry."""
        try:
            doc = read_json_object(self.path, missing=None)
        except DamagedFile:
            return None  # a torn cache file is only a cache: generate again
        if not doc or doc.get("material") != self.material:
            return None
        replies, ran_on = doc.get("replies"), doc.get("ran_on")
        if not isinstance(replies, list) or not isinstance(ran_on, list) or len(replies) != len(self.cases):
            return None
        return [str(r) for r in replies], [bool(x) for x in ran_on], float(doc.get("seconds") or 0.0)

    def save(self, replies: Sequence[str], ran_on: Sequence[bool], seconds: float) -> None:
        write_json(self.path, {"material": self.material, "created": datetime.now().isoformat(timespec="seconds"),
                               "seconds": round(seconds, 1), "replies": list(replies), "ran_on": list(ran_on)})
        others = sorted((p for p in self.project.eval_cache.glob("base-*.json") if p != self.path),
                        key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in others[CACHE_KEPT - 1:]:
            old.unlink(missing_ok=True)


# --------------------------------------------------------------------------- backends
def _base_identity(cards: dict[str, str] | None, **model) -> dict:
    """What identifies the base model's replies in the cache: the model, and the style cards it
    was told (the same prompts as the fine-tuned model's)."""
    return {**model, **({"cards": cards} if cards else {})}


@contextlib.contextmanager
def open_backends(target: Target, *, seed: int = 0, n_threads: int | None = None, sampling=None
                  ) -> Iterator[tuple[object, Callable[[], object] | None, dict | None]]:
    """``(candidate, open_base, base_identity)``: the candidate backend, a function that opens the
    base backend (called only when the cache misses) and what identifies the base for the cache
    (None: no floor can be measured)."""
    opened: list = []

    def keep(backend):
        opened.append(backend)
        return backend

    try:
        if target.gguf is not None:
            candidate = keep(GGUFBackend(target.gguf, name=target.label, seed=seed, n_threads=n_threads,
                                         lora_path=target.lora, sampling=sampling,
                                         cards=target.run.style_cards if target.run else None))
            # the base model answers the same prompts, style cards included
            cards = candidate.cards
            base_name = target.run.base_model if target.run else candidate.metadata.get("wachat.base_model", "")
            base = embedded.lookup(base_name) if base_name else None
            if base is not None:
                path = base.gguf_path()
                identity = _base_identity(cards, backend="gguf", model=base.base_name, file=path.name,
                                          bytes=path.stat().st_size)
                yield candidate, lambda: keep(GGUFBackend(path, name=f"{base.label} (GGUF)", seed=seed,
                                                          n_threads=n_threads, sampling=sampling,
                                                          cards=cards)), identity
            elif target.run is not None and target.run.base_path and Path(target.run.base_path).is_dir():
                base_path = target.run.base_path
                identity = _base_identity(cards, backend="hf", model=target.run.base_model or base_path)
                yield candidate, lambda: keep(HFBackend.load(base_path, name=f"{target.run.base_model} (HF)",
                                                             seed=seed, sampling=sampling, cards=cards)), identity
            else:
                yield candidate, None, None
            return
        run = target.run
        base_path = _base_checkpoint(run)
        cards = run.style_cards
        candidate = keep(HFBackend.load(base_path, run.adapter, name=target.label, seed=seed, sampling=sampling,
                                        cards=cards))
        identity = _base_identity(cards, backend="hf", model=run.base_model or str(base_path))
        yield candidate, lambda: HFBackend(candidate.model, candidate.tokenizer, name=f"{run.base_model} (HF)",
                                           seed=seed, sampling=sampling, without_adapter=True, cards=cards), identity
    finally:
        for backend in reversed(opened):
            backend.close()


def _base_checkpoint(run: RunRecord) -> Path:
    """The run's base model as a transformers checkpoint (converted once for embedded models)."""
    path = Path(run.base_path or "")
    if (path / "config.json").exists():
        return path
    from ..train.models import resolve_base

    return resolve_base(run.base_model or None, "cpu").path


# --------------------------------------------------------------------------- the whole eval
@dataclass
class EvalOutcome:
    """What ``wachat eval`` did."""

    report: FidelityReport
    target: Target
    saved: Path | None
    """The ``eval.json`` written (None: the model belongs to no run of this project)."""
    base_cached: bool
    exports_updated: int


def evaluate(project: ProjectFiles, *, run_id: str | None = None, model: str | None = None,
             cap: int | None = DEFAULT_CAP, seed: int = 0, n_threads: int | None = None, sampling=None,
             progress: Callable[[Progress], None] | None = None,
             log: Callable[[str], None] = lambda message: None) -> EvalOutcome:
    """Measure the target of ``run_id`` / ``model`` (see the module docstring) and save the report.

    ``sampling``: a :class:`~wachat_tui.chat.engine.Sampling` for both models (default: the chat's)."""
    target = choose_target(project, run_id, model)
    run = target.run
    pairs = run.files.snapshot_pairs if run is not None and run.files.snapshot_pairs.exists() else None
    data = load_eval_data(project, pairs)
    started = time.perf_counter()
    sampling = (sampling or chat_sampling()).validate()
    # the model loads first: a file llama.cpp refuses fails at once, not after the classifier is fitted
    with open_backends(target, seed=seed, n_threads=n_threads, sampling=sampling) as (candidate, open_base, identity):
        yard = build_yardsticks(data, seed=seed)
        cases = choose_cases(data, yard, cap, seed=seed)
        log(f"{len(cases)} held-out replies of {', '.join(dict.fromkeys(c.persona for c in cases))} · "
            f"measuring {target.label}")
        base, base_seconds, cache = None, 0.0, None
        hit = False
        if open_base is not None:
            cache = BaseReplyCache(project, identity, asdict(sampling), seed, cases)
            cached = cache.load()
            if cached is None:
                log(f"base model: generating {len(cases)} replies (kept for the next eval in {cache.path.name})")
                t0 = time.perf_counter()
                texts, ran_on = generate_replies(open_base(), cases, BASE, progress)
                base_seconds = time.perf_counter() - t0
                cache.save(texts, ran_on, base_seconds)
            else:
                texts, ran_on, base_seconds = cached
                hit = True
                log(f"base model: {len(cases)} replies from the cache ({cache.path.name})")
            base = ReplayBackend(f"{identity['model']} ({identity['backend']})",
                                 {c.id: (t, r) for c, t, r in zip(cases, texts, ran_on)})
        else:
            log("no base model to compare with: the floor is left out")
        # the base replies exist by now: only the fine-tuned model's progress is news
        fine_tuned_progress = (lambda p: progress(p) if p.source != BASE else None) if progress else None
        report = measure(data, candidate, base=base, cases=cases, yardsticks=yard, seed=seed,
                         progress=fine_tuned_progress)
    report.settings.update({
        "backend": target.backend, "model": str(target.lora or target.gguf) if target.gguf else None,
        "run_id": run.run_id if run else None, "seconds": round(time.perf_counter() - started, 1),
        "measured": datetime.now().isoformat(timespec="seconds"),
        "base_cache": {"hit": hit, "file": cache.path.name if cache else None, "seconds": round(base_seconds, 1)},
        "sampling": asdict(sampling),
        "training": _training_numbers(run),
    })
    if hit:
        report.settings["generation_seconds"][BASE] = round(base_seconds, 1)
    saved, updated = None, 0
    if run is not None:
        write_json(run.files.eval_json, report.to_json())
        saved = run.files.eval_json
        updated = record_in_exports(project, run.run_id, report_summary(report))
    return EvalOutcome(report, target, saved, hit, updated)


def _training_numbers(run: RunRecord | None) -> dict | None:
    """The run's own validation losses and estimate (what training measured; nothing is recomputed)."""
    if run is None:
        return None
    return {"base_eval_loss": run.base_eval_loss, "best_eval_loss": run.best_eval_loss, "best_step": run.best_step,
            "best_fidelity_estimate": run.best_fidelity}


def record_in_exports(project: ProjectFiles, run_id: str, summary: dict) -> int:
    """Put ``summary`` on every export of the run in ``exports.json``; returns how many."""
    records = [r for r in list_exports(project, existing_only=False) if r.run_id == run_id]
    for record in records:
        record.fidelity = summary
        remember_export(project, record)
    return len(records)
