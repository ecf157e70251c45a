"""One training run, as the training process carries it out, step by step:

open the run (new, or an existing one to resume) → load its data (a snapshot of the project's
dataset taken when the run starts) → load the base model and build the trainer → train →
finish (final evaluation, adapter, record). Each step is one method; the trainer callbacks
call back into :meth:`TrainingJob.on_step`, :meth:`~TrainingJob.on_evaluated` and
:meth:`~TrainingJob.on_checkpoint`. Events go out through the :class:`~wachat_tui.events.Emitter`.
"""
from __future__ import annotations

import contextlib
import math
import os
import random
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.layout import (ProjectFiles, RunFiles, RunRecord, checkpoint_complete, new_run_id, pid_alive,
                           read_json_object)
from ..core import atomic
from ..core.lock import project_lock
from ..core.project import ensure_pairs
from ..core.prompt import with_card
from ..core.style_card import style_cards
from ..core.atomic import write_json
from ..errors import WachatError
from ..events import Checkpointed, Emitter, Evaluated, Failed, Finished, Sampled, Started, Step
from ..paths import ensure_private_dir
from . import data as chat_data
from .batching import resolve_batching
from .callbacks import CancelCallback, CheckpointCallback, EvaluationCallback, ProgressCallback
from .best import BestRule
from .config import TrainConfig
from .fidelity import FidelityProbe
from .modeling import (adapted_layer_names, generate_reply, load_base_model, load_tokenizer, quantization_info,
                       save_adapter_atomically)
from .models import ResolvedBase, resolve_base
from .progress import RunProgress, now_iso

OOM_HINT = "lower --batch-size, shorten --seq-len, or use --qlora"


class TrainingCancelled(Exception):
    """The user asked the run to stop (SIGINT/SIGTERM, the Cancel key)."""


def out_of_memory(exc: BaseException) -> str | None:
    """A one-line error for an out-of-memory failure (GPU or CPU), else None."""
    text = str(exc).strip()
    first = text.splitlines()[0][:200] if text else ""
    if isinstance(exc, torch.OutOfMemoryError):
        return f"out of GPU memory ({first})" if first else "out of GPU memory"
    if isinstance(exc, MemoryError):
        return "out of memory (the system could not allocate more RAM)"
    low = text.lower()
    if "out of memory" in low or "can't allocate memory" in low or "cannot allocate memory" in low:
        return f"out of memory ({first})"
    return None


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    """Rank 0 of a distributed (``accelerate launch``) run, or the only process."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0) == 0


@contextlib.contextmanager
def main_process_first(device: str | None):
    """In a distributed run, the main process does the block first (it writes what the others read)."""
    if world_size() <= 1:
        yield
        return
    from accelerate import PartialState

    # on the CPU, accelerate sets up its (gloo) process group only when told it runs on the CPU
    with PartialState(cpu=device == "cpu").main_process_first():
        yield


def peak_memory_mb(device: str) -> float | None:
    if device == "cuda" and torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


@dataclass
class TrainingData:
    """The run's samples, tokenized for the base model, and the held-out prompts for sampling."""

    train: list[chat_data.Tokenized]
    validation: list[chat_data.Tokenized]
    held_out: list[chat_data.HeldOut] = field(default_factory=list)


class TrainingJob:
    """One run of ``python -m wachat_tui.train``: open, load data, load model, train, finish."""

    def __init__(self, project_dir: Path, config: TrainConfig, emit: Emitter,
                 cancel: threading.Event, run_id: str | None = None, resume: bool = False):
        self.project = ProjectFiles(Path(project_dir))
        self.config = config
        self.emit = emit
        self.cancel = cancel
        self.resume = resume
        self.run_id = run_id
        self.main = is_main_process()
        self.files: RunFiles | None = None
        self.progress: RunProgress | None = None
        self.checkpoint: Path | None = None
        """The checkpoint a resumed run continues from (None: from the start)."""
        self.tokenizer = None
        self.trainer = None
        self.progress_callback: ProgressCallback | None = None
        self.cancel_callback: CancelCallback | None = None
        self.held_out: list[chat_data.HeldOut] = []
        self.fidelity: FidelityProbe | None = None
        """The fidelity estimate run at each evaluation (main process only; None when off)."""
        self._participants: list[str] = []
        self._language: str | None = None  # the chat's main language: picks the default base
        self._people: dict = {}

    # ------------------------------------------------------------------ the whole run
    def run(self) -> int:
        """Exit code: 0 finished, 1 failed, 130 cancelled. Opening errors propagate (no run to mark)."""
        self.open_run()
        try:
            train_rows, validation_rows = self.load_data()
            base = self.load_base()
            data = self.tokenize(train_rows, validation_rows)
            trainer = self.load_model(base, data)
            self.train(trainer, data)
            return self.finish(trainer, data)
        except (TrainingCancelled, KeyboardInterrupt):
            return self.cancelled()
        except WachatError as exc:
            return self.failed(exc.message, exc.hint or "")
        except (MemoryError, RuntimeError) as exc:  # torch.OutOfMemoryError is a RuntimeError
            oom = out_of_memory(exc)
            if oom is None:
                raise
            return self.failed(oom, OOM_HINT)

    # ------------------------------------------------------------------ 1. open the run
    def open_run(self) -> None:
        try:
            info = read_json_object(self.project.project_json)
        except FileNotFoundError:
            raise WachatError(f"{self.project.dir} is not a wachat project (no project.json)",
                              "create one with `wachat import EXPORT --me NAME`") from None
        self._participants = list(info.get("participants") or [])
        language = info.get("language")
        self._language = language.get("primary") if isinstance(language, dict) else None
        self._people = info.get("people") if isinstance(info.get("people"), dict) else {}
        if self.resume:
            self._reopen()
        else:
            self._create(info)
        self.emit.events_path = self.files.events if self.main else None
        if self.resume:
            self.emit.log(f"resuming from {self.checkpoint.name}" if self.checkpoint
                          else "no complete checkpoint in this run yet: starting it over")

    def _create(self, info: dict) -> None:
        ensure_private_dir(self.project.runs_dir)
        self.run_id = self.run_id or new_run_id(self.project)
        self.files = self.project.run(self.run_id)
        if self.main and self.files.run_json.exists():
            raise WachatError(f"run {self.run_id} already exists", "pick another --run-id, or --resume it")
        ensure_private_dir(self.files.dir)
        cfg = self.config
        record = RunRecord(run_id=self.run_id, project=info.get("name") or self.project.name,
                           base_model=cfg.base or "", mode=cfg.mode, personas=list(info.get("personas") or []),
                           config=cfg.to_dict(), created=now_iso(), device=cfg.device or "cpu", pid=os.getpid())
        self.progress = RunProgress(self.files, record, writer=self.main, rule=BestRule(cfg.best_within))
        self.progress.save()

    def _reopen(self) -> None:
        self.files = self.project.run(self.run_id)
        if not self.files.run_json.exists():
            raise WachatError(f"no run {self.run_id!r} in this project", "see `wachat train P --list`")
        progress = RunProgress.read(self.files, writer=self.main)
        rec = progress.record
        # the other processes of a distributed run may read the record after the main one wrote its pid
        if self.main and rec.status == "running" and rec.pid not in (None, os.getpid()) and pid_alive(rec.pid):
            raise WachatError(f"run {self.run_id} is still running (process {rec.pid})",
                              "cancel it first, or wait for it to finish")
        if rec.status == "finished":
            raise WachatError(f"run {self.run_id} already finished", "start a new run instead")
        self.progress = progress  # only now: a refusal above must not mark that run failed
        if self.main:
            self._discard_leftovers()
        stored = TrainConfig.from_dict(rec.config)
        # the device may differ on resume (e.g. moved machines); everything else is the run's own
        stored.device = self.config.device or stored.device
        self.config = stored
        self.progress.rule = BestRule(stored.best_within)
        rec.config, rec.status, rec.error, rec.device = stored.to_dict(), "running", None, stored.device or "cpu"
        self.checkpoint = self.files.last_checkpoint()
        self.progress.forget_after(self._checkpoint_step() if self.checkpoint else -1)

    def _discard_leftovers(self) -> None:
        """A process killed mid-write leaves temporaries behind (atomic writes, an adapter being
        swapped): the resumed run starts clean. An adapter caught between the two renames of its
        swap is put back first."""
        files = self.files
        adapter = files.adapter
        swapped_out = sorted(files.dir.glob(f".{adapter.name}.old-*"))
        if not adapter.exists() and swapped_out:
            os.rename(swapped_out[-1], adapter)
        for leftover in [*files.dir.glob(".*"), *files.data_dir.glob(".*")]:
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        # a checkpoint cut short by the kill: never resumed from, and gone before the trainer
        # counts checkpoints to rotate (it could otherwise delete a whole one to keep it)
        for folder in files.checkpoints.glob("checkpoint-*") if files.checkpoints.is_dir() else ():
            if folder.is_dir() and not checkpoint_complete(folder):
                shutil.rmtree(folder)

    def _checkpoint_step(self) -> int:
        return int(self.checkpoint.name.split("-")[1]) if self.checkpoint else 0

    # ------------------------------------------------------------------ 2. the data
    def load_data(self) -> tuple[list[dict], list[dict]]:
        """The run's samples, from its snapshot of the dataset (taken now for a new run)."""
        self.config.validate()
        with main_process_first(self.config.device):
            if self.main:
                self._snapshot_dataset()
            train_rows = chat_data.read_samples(self.files.snapshot_train)
            validation_rows = chat_data.read_samples(self.files.snapshot_validation)
        if not train_rows:
            raise chat_data.DatasetError(
                "the project has no training samples",
                "import a chat where the persona writes replies (see `wachat pairs P`), "
                "or include excluded pairs again")
        rec = self.progress.record
        if self.config.personas:
            chosen = self._chosen_personas(train_rows)
            train_rows = [r for r in train_rows if r.get("persona") in chosen]
            validation_rows = [r for r in validation_rows if r.get("persona") in chosen]
            rec.personas = chosen
        if not rec.personas:
            seen: dict[str, int] = {}
            for r in train_rows:
                if r.get("persona"):
                    seen[r["persona"]] = seen.get(r["persona"], 0) + 1
            rec.personas = sorted(seen, key=lambda k: -seen[k])
        self._apply_style_cards(train_rows, validation_rows)
        return train_rows, validation_rows

    def _apply_style_cards(self, train_rows: list[dict], validation_rows: list[dict]) -> None:
        """Each persona's style card, from the training replies (kept in ``run.json``; a resumed
        run reuses its own), said after the system prompt of every sample."""
        rec = self.progress.record
        if not self.config.style_card:
            rec.style_cards = {}
            return
        if not (self.resume and rec.style_cards):
            rec.style_cards = style_cards(train_rows, rec.personas)
        for row in (*train_rows, *validation_rows):
            card = rec.style_cards.get(row.get("persona"))
            messages = row.get("messages") or ()
            if card and messages and messages[0].get("role") == "system":
                messages[0]["content"] = with_card(messages[0]["content"], card)
        for persona, card in rec.style_cards.items():
            self.emit.log(f"style card · {card}")

    def _chosen_personas(self, rows: list[dict]) -> list[str]:
        """The ``--persona`` names as the dataset spells them (any name a person appears under
        works: "Pete" is Peter); DatasetError naming the personas when one has no samples."""
        from ..core.names import find_name
        from ..core.people import People

        people = People.from_json(self._people)
        available = list(dict.fromkeys(r["persona"] for r in rows if r.get("persona")))
        chosen = []
        for name in self.config.personas or ():
            person = find_name(people.resolve(name), available) or find_name(name, available)
            if person is None:
                raise chat_data.DatasetError(
                    f"{name!r} has no training samples in this project",
                    f"personas with samples: {', '.join(available) or 'none'}")
            chosen.append(person)
        return list(dict.fromkeys(chosen))

    def _snapshot_dataset(self) -> None:
        """Copy the project's train/validation samples into the run, once: a dataset rebuilt
        while the run trains (or before it resumes) cannot change what it trains on."""
        files = self.files
        if files.snapshot_train.exists():
            return
        if self.resume:
            self.emit.log("this run has no copy of its dataset (it started with an older wachat): "
                          "using the project's dataset as it is now", "warning")
        ensure_private_dir(files.data_dir)
        # under the project's write lock: a refresh or exclusion saved at this moment is either
        # wholly in the copy or wholly after it
        with project_lock(self.project, f"training run {self.run_id}: copying the dataset"):
            ensure_pairs(self.project)   # made on first use: held-out contexts and eval read it
            for source, target in ((self.project.pairs, files.snapshot_pairs),
                                   (self.project.validation, files.snapshot_validation),
                                   (self.project.train, files.snapshot_train)):  # train last: marks completion
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=files.data_dir)
                try:
                    with os.fdopen(fd, "wb") as out:
                        if source.exists():
                            with open(source, "rb") as src:
                                shutil.copyfileobj(src, out)
                    os.replace(tmp, target)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                    raise

    # ------------------------------------------------------------------ 3. base model, tokens
    def load_base(self) -> ResolvedBase:
        cfg, rec = self.config, self.progress.record
        with main_process_first(self.config.device):  # the first use of the embedded model converts it, once
            if self.resume and rec.base_path and Path(rec.base_path).exists():
                base = ResolvedBase(rec.base_model, Path(rec.base_path))
            else:
                base = resolve_base(cfg.base, cfg.device, log=self.emit.log, language=self._language)
        rec.base_model, rec.base_path = base.name, str(base.path)
        if not cfg.base:
            cfg.base = base.name
            rec.config = cfg.to_dict()
        self.progress.save()
        self._check_cancel()
        self.tokenizer = load_tokenizer(base.path)
        return base

    def tokenize(self, train_rows: list[dict], validation_rows: list[dict]) -> TrainingData:
        cfg = self.config
        train_tok, train_report = chat_data.tokenize_samples(self.tokenizer, train_rows, cfg.max_seq_len)
        val_tok, val_report = chat_data.tokenize_samples(self.tokenizer, validation_rows, cfg.max_seq_len)
        if not train_tok:
            raise chat_data.DatasetError(
                "none of the training samples has a persona reply to learn from",
                "check the persona names and exclusions in `wachat pairs P`")
        if train_report.fallback_masking:
            self.emit.log(f"chat template does not render incrementally; masked {train_report.fallback_masking} "
                          "samples by text search", "warning")
        if train_report.truncated:
            self.emit.log(f"{train_report.truncated} training samples were longer than {cfg.max_seq_len} tokens "
                          "and were cut (system prompt and latest turns kept)", "warning")
        if not val_tok:
            self.emit.log("no validation samples: evaluation and best-checkpoint selection are off", "warning")
        if cfg.eval_max_samples and len(val_tok) > cfg.eval_max_samples:
            val_tok = random.Random(cfg.seed).sample(val_tok, cfg.eval_max_samples)
        self.progress.metrics.dataset = {"train": train_report.to_dict(), "validation": val_report.to_dict(),
                                         "validation_used": len(val_tok)}
        held_out = []
        if val_tok and self.main:
            self.fidelity = FidelityProbe.build(self.project, self.files.snapshot_pairs, cfg, self.emit.log,
                                                cards=self.progress.record.style_cards)
        if cfg.sample_every_eval and cfg.n_samples and validation_rows and self.fidelity is None:
            pairs = atomic.read_jsonl(self.files.snapshot_pairs) if self.files.snapshot_pairs.exists() else ()
            held_out = chat_data.held_out_prompts(validation_rows, cfg.n_samples, cfg.seed, self._participants,
                                                  pairs=pairs)
        self.held_out = held_out
        self._check_cancel()
        return TrainingData(train_tok, val_tok, held_out)

    # ------------------------------------------------------------------ 4. model and trainer
    def load_model(self, base: ResolvedBase, data: TrainingData):
        from .trainer import build_trainer

        cfg, rec = self.config, self.progress.record
        model = load_base_model(base.path, cfg)
        self._check_cancel()
        total_steps = cfg.total_steps(len(data.train), world_size())
        rec.max_steps = total_steps
        trainer = build_trainer(model, self.tokenizer, data.train, data.validation, cfg, self.files.checkpoints,
                                total_steps)
        eval_steps = cfg.resolved_eval_steps(total_steps)
        self.progress_callback = ProgressCallback(total_steps, eval_steps, lambda: trainer.tokens_seen, self.on_step)
        self.cancel_callback = CancelCallback(self.cancel.is_set)
        for callback in (self.progress_callback, self.cancel_callback, EvaluationCallback(self.on_evaluated),
                         CheckpointCallback(self.on_checkpoint)):
            trainer.add_callback(callback)
        self.trainer = trainer
        params = list(trainer.model.parameters())
        started = dict(cfg.to_dict(), base_model=base.name, base_path=str(base.path), run_id=self.run_id,
                       batching=resolve_batching(cfg), eval_steps=eval_steps,
                       save_steps=cfg.resolved_save_steps(total_steps), warmup_steps=cfg.warmup_steps(total_steps),
                       gradient_checkpointing=cfg.resolved_gradient_checkpointing(), lora_alpha=cfg.lora_alpha,
                       lora_targets=adapted_layer_names(trainer.model), personas=rec.personas,
                       style_cards=rec.style_cards,
                       resumed_from=self.checkpoint.name if self.checkpoint else None,
                       world_size=world_size(), quantization=quantization_info(trainer.model))
        self.emit(Started(config=started, device=cfg.device or "cpu",
                          trainable_params=sum(p.numel() for p in params if p.requires_grad),
                          total_params=sum(p.numel() for p in params), train_samples=len(data.train),
                          validation_samples=len(data.validation), max_steps=total_steps,
                          run_dir=str(self.files.dir)))
        self.progress.save()
        return trainer

    # ------------------------------------------------------------------ 5. training
    def train(self, trainer, data: TrainingData) -> None:
        from .trainer import load_checkpoint_weights

        rec = self.progress.record
        if data.validation and self.checkpoint is None and rec.base_eval_loss is None:
            trainer.evaluate()  # step 0: the base model's loss, the yardstick for the rest
        self._check_cancel()
        if self.checkpoint is not None and self._checkpoint_step() >= rec.max_steps:
            # every step was done before the stop: load the weights and finish (Trainer would run one more)
            load_checkpoint_weights(trainer, self.checkpoint)
        else:
            try:
                trainer.train(resume_from_checkpoint=str(self.checkpoint) if self.checkpoint else None)
            finally:
                self.progress.metrics.train_seconds += self.progress_callback.train_seconds
        if self.cancel_callback.cancelled and trainer.state.global_step < rec.max_steps:
            raise TrainingCancelled()

    # ------------------------------------------------------------------ 6. the end
    def finish(self, trainer, data: TrainingData) -> int:
        rec, step = self.progress.record, trainer.state.global_step
        history = self.progress.metrics.eval_history
        if data.validation and (not history or history[-1]["step"] != step):
            trainer.evaluate()
        if self.main and (not data.validation or not self.files.has_adapter()):
            save_adapter_atomically(trainer.model, self.files.adapter)
        self._write_adapter_note()
        rec.status, rec.step = "finished", step
        self.progress.metrics.peak_memory_mb = peak_memory_mb(self.config.device or "cpu")
        self.progress.save()
        print(f"wachat-train: process {os.environ.get('RANK', '0')} of {world_size()} finished at step {step} "
              f"({trainer.tokens_seen} tokens trained here)", file=sys.stderr, flush=True)
        self.emit(Finished(path=str(self.files.adapter), metrics=self.progress.metrics_json(with_history=False)))
        return 0

    def cancelled(self) -> int:
        rec = self.progress.record
        step = self.trainer.state.global_step if self.trainer is not None else rec.step
        rec.step, rec.status = max(rec.step, step), "cancelled"
        if self.main and self.trainer is not None and not self.files.has_adapter() and step > 0:
            try:
                save_adapter_atomically(self.trainer.model, self.files.adapter)
                self._write_adapter_note()
            except OSError as exc:  # the checkpoint is what resumes; the adapter is a convenience
                self.emit.log(f"could not save the adapter so far: {exc}", "warning")
        note = f"the adapter so far is in {self.files.adapter}; " if self.files.has_adapter() else ""
        self.progress.save()
        self.emit(Failed(error="cancelled",
                         hint=f"{note}continue with `wachat train {rec.project} --resume {rec.run_id}`"))
        return 130

    def failed(self, error: str, hint: str) -> int:
        if not self.main:  # its events go nowhere: the launcher's log is where this process can speak
            print(f"wachat-train: process {os.environ.get('RANK')} failed: {error} ({hint})", file=sys.stderr, flush=True)
        if self.progress is not None:
            self.progress.record.status, self.progress.record.error = "failed", error
            try:
                self.progress.save()
            except OSError as exc:
                print(f"wachat-train: could not record the failure in run.json: {exc}", file=sys.stderr)
        self.emit(Failed(error=error, hint=hint))
        return 1

    def _write_adapter_note(self) -> None:
        """Keep the base-model name with the adapter so export/chat know what to merge into."""
        if not self.main or not self.files.adapter.exists():
            return
        rec = self.progress.record
        write_json(self.files.adapter_note, {
            "run_id": rec.run_id, "base_model": rec.base_model, "base_path": rec.base_path, "mode": rec.mode,
            "personas": rec.personas, "best_eval_loss": rec.best_eval_loss, "best_step": rec.best_step,
            "best_fidelity": rec.best_fidelity})

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise TrainingCancelled()

    # ------------------------------------------------------------------ trainer callbacks
    def on_step(self, event: Step) -> None:
        self.progress.record_step(event)
        self.emit(event)

    def on_checkpoint(self, step: int) -> None:
        self.progress.record.step = step
        self.emit(Checkpointed(step=step, path=str(self.files.checkpoint(step))))
        self.progress.save()

    def on_evaluated(self, step: int, metrics: dict, model) -> bool:
        """Record an evaluation (and its fidelity estimate); save the adapter when it is the best;
        sample replies. Returns: stop now?"""
        loss = float(metrics["eval_loss"])
        perplexity = float(metrics.get("eval_perplexity", math.exp(min(loss, 50))))
        estimate = None
        if self.fidelity is not None and not self.cancel.is_set():
            estimate = self._estimate(model, baseline=step == 0)
        numbers = estimate.to_json() if estimate else None
        best = self.progress.record_eval(step, loss, perplexity, numbers)
        if best and self.main:
            save_adapter_atomically(model, self.files.adapter)
            self._write_adapter_note()
        self.emit(Evaluated(step=step, eval_loss=loss, perplexity=perplexity, best=best,
                            fidelity=numbers["fidelity"] if numbers else None, estimate=numbers))
        if self.config.sample_every_eval and self.main:
            if estimate is not None:
                self._samples_from(step, estimate)
            elif self.held_out:
                self._sample(step, model)
        self.progress.save()
        patience = self.config.early_stopping_patience
        if patience and step > 0 and self.progress.evals_since_lowest_loss() >= patience:
            self.emit.log(f"early stopping: the validation loss has not improved for {patience} evaluations")
            return True
        return False

    def _estimate(self, model, baseline: bool = False):
        """The fidelity estimate of the model as it is now, or None when generation failed.
        ``baseline``: the model is still the base model (step 0), whose replies are cached."""
        unwrapped = self.trainer.accelerator.unwrap_model(model) if self.trainer is not None else model
        try:
            estimate = self.fidelity.estimate(unwrapped, self.tokenizer,
                                              baseline=self._baseline_identity(unwrapped) if baseline else None)
            if self.fidelity.baseline_cached:
                self.emit.log("base model's fidelity estimate: replies from the project's cache (eval-cache/)")
        except (RuntimeError, ValueError) as exc:  # an estimate must never kill the run; running out of memory does
            if out_of_memory(exc):
                raise
            self.emit.log(f"fidelity estimate failed: {type(exc).__name__}: {exc}".splitlines()[0], "warning")
            return None
        self.progress.metrics.fidelity_seconds += estimate.seconds
        return estimate

    def _baseline_identity(self, model) -> dict:
        """What makes the untrained model's replies what they are: the base weights (and their
        files), how they are loaded and on what, and the library versions that generate."""
        import transformers

        rec, cfg = self.progress.record, self.config
        path = Path(rec.base_path) if rec.base_path else None
        weights = []
        if path is not None and path.is_dir():
            weights = sorted([f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in path.iterdir()
                             if f.suffix in (".safetensors", ".bin", ".gguf", ".json"))
        return {"model": rec.base_model, "path": rec.base_path, "weights": weights, "mode": rec.mode,
                "quantization": quantization_info(model), "dtype": str(getattr(model, "dtype", "")),
                "device": cfg.device or "cpu", "torch": torch.__version__, "transformers": transformers.__version__}

    def _samples_from(self, step: int, estimate) -> None:
        """The first replies of the estimate, shown as the evaluation's samples (generated once, not twice)."""
        for row in self.fidelity.sample_rows(step, estimate, self.config.n_samples):
            self.progress.record_sample(row)
            self.emit(Sampled(**row))
        self.progress.save_samples()

    def _sample(self, step: int, model) -> None:
        unwrapped = self.trainer.accelerator.unwrap_model(model) if self.trainer is not None else model
        for i, h in enumerate(self.held_out):
            if self.cancel.is_set():
                return
            try:
                text = generate_reply(unwrapped, self.tokenizer, h.messages, self.config.sample_max_new_tokens,
                                      self.config.seed + i)
            except (RuntimeError, ValueError) as exc:  # a sample must never kill the run; running out of memory does
                if out_of_memory(exc):
                    raise
                self.emit.log(f"sample generation failed: {type(exc).__name__}: {exc}".splitlines()[0], "warning")
                return
            self.progress.record_sample({"step": step, "persona": h.persona, "context": h.context,
                                         "real": h.real, "generated": text})
            self.emit(Sampled(step=step, persona=h.persona, context=h.context, real=h.real, generated=text))
        self.progress.save_samples()
