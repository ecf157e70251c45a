"""How long and how much memory a training run will take, said before it starts.

No torch import: the Train pane calls :func:`estimate_run` as the user edits the form.

**Time** = the tokens the run will process ÷ a rate, plus the evaluations. The rate is the median
real tokens/s of this machine's earlier finished runs of the same base and device (their
``metrics.json``); without one it is a stated default measured on a 2-core CPU. The tokens are
the dataset's estimate (characters ÷ 3.5) per epoch × epochs (or × the share of an epoch that
``max_steps`` covers). Each evaluation adds its recorded cost (validation loss + the fidelity
estimate), else a default.

**Memory** = the base model loaded for training + the activations of the largest batch, which
grow with batch size × the longest sample (a linear fit: padded batches of several samples also
hold the attention scores, which one-sample batches avoid on the CPU). The constants were fitted to the peak RSS that
``benchmarks/train_bench.py --memory`` measured (see the README's training benchmark).

Checked against real runs: :func:`check_against_run` gives the ratio of the estimate to what a
finished run recorded; the tests and the README state the factor it stays within.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..core import embedded
from ..core.layout import ProjectFiles, RunFiles, list_runs
from .config import TrainConfig

DEFAULT_TOKENS_PER_S = {embedded.DEFAULT.base_name: 150.0, embedded.MULTILINGUAL.base_name: 60.0}
"""Real tokens/s on a 2-core CPU when no earlier run says better: SmolLM2-135M ran 170–180
(FACTS, 2026-11-30) on an idle machine, ~30–60 when shared; Gemma 3 270M has twice the
parameters and a 262k vocabulary."""
FALLBACK_TOKENS_PER_S = 60.0
"""Any other base on the CPU (most are larger than the embedded ones)."""
DEFAULT_EVAL_SECONDS = 30.0
"""One evaluation (validation loss on 16 samples + the fidelity estimate's 24 unguided replies +
the checkpoint) on 2 cores: ~35 s measured on a machine training at half FACTS' idle rate (the
pauses of a default en_sam_noor run, 2026-12-02; ~55 s when the estimate was guided)."""
LOAD_SECONDS = 40.0
"""Loading the base model and tokenizing the samples, before the first step."""

MODEL_MB = {embedded.DEFAULT.base_name: 900.0, embedded.MULTILINGUAL.base_name: 2400.0}
"""Resident memory with the base loaded for LoRA training, tokenizer, data and the fidelity
classifier, before the first batch (fp32 on the CPU). SmolLM2: 610 MB measured with the model
alone. Gemma 3 270M: a default run on tests/fixtures/chats/de_jonas_lena.txt (longest sample 234
tokens, 3 steps) peaked at 3.96 GB; this value puts the estimate at 4.0 GB for it."""
FALLBACK_MODEL_MB = 4000.0
BATCH_MB_PER_TOKEN = {False: 3.15, True: 1.2}
"""Memory per token of the largest batch (batch × longest sample), without / with activation
checkpointing, SmolLM2-135M. Fitted to `train_bench.py --memory sam_noor` (longest sample 424
tokens): batch 1 → 2.5 GB, batch 4 → 6.5 GB, batch 4 with checkpointing → 3.2 GB peak RSS."""
SAMPLE_MB_PER_TOKEN = 1.33
"""Memory per token of the longest sample whatever the batch (the same fit)."""
_SCALE = {embedded.DEFAULT.base_name: 1.0, embedded.MULTILINGUAL.base_name: 1.5}
"""Other bases relative to SmolLM2 (Gemma 3 270M: 262k-word vocabulary in the LM head; a guess, with
``MODEL_MB`` fitted to the one measured Gemma run)."""


@dataclass(frozen=True)
class RecordedRun:
    """What one finished run measured on this machine."""

    base: str
    device: str
    tokens_per_s: float
    eval_seconds: float | None
    peak_memory_mb: float | None


@dataclass(frozen=True)
class RunCost:
    """The estimate for one configuration."""

    steps: int
    tokens: int
    seconds: float
    peak_memory_mb: float
    tokens_per_s: float
    rate_source: str
    """Where the rate comes from, in words ("3 earlier runs on this machine" / "default …")."""

    def line(self) -> str:
        return (f"≈ {format_duration(self.seconds)} · peak memory ≈ {self.peak_memory_mb / 1024:.1f} GB "
                f"({self.tokens_per_s:.0f} tokens/s: {self.rate_source})")


def format_duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def recorded_runs(project_dirs: Iterable[Path]) -> list[RecordedRun]:
    """Finished runs of these projects that recorded a rate, oldest first."""
    out = []
    for directory in project_dirs:
        for record in list_runs(ProjectFiles(directory)):
            if record.status != "finished" or record.dir is None:
                continue
            try:
                metrics = json.loads(RunFiles(record.dir).metrics.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            rate = metrics.get("tokens_per_s")
            if not isinstance(rate, (int, float)) or rate <= 0:
                continue
            # estimates that generated (a base-model estimate from the project's cache took no time)
            evals = sum(1 for row in ((metrics.get("history") or {}).get("eval")) or []
                        if not isinstance(row.get("estimate"), dict) or row["estimate"].get("seconds"))
            fidelity_s = metrics.get("fidelity_seconds")
            out.append(RecordedRun(base=record.base_model or "", device=record.device or "cpu",
                                   tokens_per_s=float(rate),
                                   eval_seconds=float(fidelity_s) / evals if evals and fidelity_s else None,
                                   peak_memory_mb=metrics.get("peak_memory_mb")))
    return out


@dataclass(frozen=True)
class DatasetShape:
    """What the estimate needs from a training split: samples, tokens per epoch, the longest sample."""

    samples: int
    tokens: int
    longest: int


def dataset_shape(train_jsonl: Path, personas: Sequence[str] | None = None) -> DatasetShape:
    """Read the training split once: token estimates (characters ÷ 3.5 + role markers) per sample."""
    from ..core.samples import CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS

    n = total = longest = 0
    try:
        lines = train_jsonl.read_text(encoding="utf-8").splitlines()
    except OSError:
        return DatasetShape(0, 0, 0)
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if personas and row.get("persona") not in personas:
            continue
        tokens = sum(len(m.get("content") or "") / CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS
                     for m in row.get("messages") or ())
        n += 1
        total += int(tokens)
        longest = max(longest, int(tokens))
    return DatasetShape(n, total, longest)


def estimate_for_project(project_dir: Path, config: TrainConfig, projects_root: Path | None = None) -> RunCost:
    """The estimate for ``config`` on a project's training split, with the rates recorded by the
    runs of every project under ``projects_root`` (this machine's history; default: just this one)."""
    shape = dataset_shape(ProjectFiles(project_dir).train, config.personas)
    roots = sorted(p for p in projects_root.iterdir() if p.is_dir()) if projects_root else [project_dir]
    return estimate_run(config, shape.samples, shape.tokens, shape.longest, recorded_runs(roots))


def estimate_run(config: TrainConfig, n_train_samples: int, train_tokens: int, longest_tokens: int,
                 history: Sequence[RecordedRun] = ()) -> RunCost:
    """Time and peak memory of ``config`` on a dataset of ``n_train_samples`` samples holding
    ``train_tokens`` tokens per epoch, the longest ``longest_tokens`` long."""
    base = config.base or embedded.DEFAULT.base_name
    device = config.device or "cpu"
    steps = config.total_steps(n_train_samples)
    per_step = config.effective_batch * (train_tokens / max(1, n_train_samples))
    tokens = int(steps * per_step)
    same = [r for r in history if r.base == base and r.device == device][-5:]
    if same:
        rate = statistics.median(r.tokens_per_s for r in same)
        source = f"{len(same)} earlier run{'s' if len(same) > 1 else ''} here"
        eval_costs = [r.eval_seconds for r in same if r.eval_seconds]
        eval_s = statistics.median(eval_costs) if eval_costs else DEFAULT_EVAL_SECONDS
    else:
        rate = DEFAULT_TOKENS_PER_S.get(base, FALLBACK_TOKENS_PER_S)
        source = "a 2-core CPU's, no earlier run here"
        eval_s = DEFAULT_EVAL_SECONDS
    evaluations = steps // config.resolved_eval_steps(steps) + 1
    seconds = LOAD_SECONDS + tokens / rate + evaluations * eval_s
    return RunCost(steps=steps, tokens=tokens, seconds=seconds, peak_memory_mb=peak_memory_mb(config, longest_tokens),
                   tokens_per_s=rate, rate_source=source)


def peak_memory_mb(config: TrainConfig, longest_tokens: int) -> float:
    """Peak resident memory of a CPU run of ``config`` whose longest sample is ``longest_tokens``."""
    base = config.base or embedded.DEFAULT.base_name
    length = min(longest_tokens, config.max_seq_len)
    gc = config.resolved_gradient_checkpointing()
    scale = _SCALE.get(base, 3.0)
    activations = scale * length * (BATCH_MB_PER_TOKEN[gc] * config.batch_size + SAMPLE_MB_PER_TOKEN)
    return MODEL_MB.get(base, FALLBACK_MODEL_MB) + activations


def check_against_run(estimate: RunCost, wall_seconds: float, peak_mb: float | None) -> tuple[float, float | None]:
    """(estimated ÷ real time, estimated ÷ real peak memory) of a finished run."""
    return estimate.seconds / wall_seconds, (estimate.peak_memory_mb / peak_mb if peak_mb else None)
