"""The export, start to finish: merge → write f16 GGUF → (quantize) → verify → rename into place
→ remembered in the project's ``exports.json`` (wherever the file was written), which is how
chat, eval and the TUI find it.

Progress goes out as the shared training/export events (:mod:`wachat_tui.events`).
Nothing appears at the final path unless every check passed: all writing happens under
hidden temp names in the output folder (``.<name>.*.tmp``, never matching ``*.gguf``), and an
existing file at the final path is only replaced by a verified one, atomically.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__
from ..core.layout import ExportRecord, list_exports, remember_export
from ..errors import ModelError
from ..events import Event, Log, Stage, Verified
from ..paths import ensure_private_dir
from .config import ExportConfig
from .source import ExportSource, resolve_source

Emit = Callable[[Event], None]
CHECKS = ("tokens", "logits", "end_of_turn")


def default_output(source: ExportSource, quant: str) -> Path:
    return source.files.models_dir / f"{source.run_id}-{quant}.gguf"


def persona_prompts(source: ExportSource) -> dict[str, str]:
    """{persona: system prompt} — the exact prompts training used, style cards included (with
    several chats: the prompt of the chat the persona wrote most in)."""
    from ..core.prompt import system_prompt

    prompts = {}
    for persona in source.personas:
        partners, chat_name, platform = source.setting_of(persona)
        prompts[persona] = system_prompt(persona, partners, chat_name, platform,
                                         card=source.style_cards.get(persona))
    return prompts


def run_fidelity(source: ExportSource) -> dict | None:
    """The run's fidelity summary: its ``wachat eval`` report, else the training's estimate (None: neither)."""
    from ..eval.summary import run_summary

    return run_summary(source.files.run(source.run_id))


def wachat_metadata(source: ExportSource, quant: str, prompts: dict[str, str], fidelity: dict | None = None) -> dict:
    """The ``wachat.*`` key-values stored in the GGUF, so a file found alone still says what it is —
    and how faithful it is (``wachat.fidelity``, JSON, when the run was measured)."""
    return {
        "wachat.format_version": 1,
        "wachat.version": __version__,
        "wachat.project": source.project_name,
        "wachat.chat_title": source.chat_title,
        "wachat.personas": json.dumps(source.personas, ensure_ascii=False),
        "wachat.participants": json.dumps(source.participants, ensure_ascii=False),
        "wachat.me": source.me or "",
        "wachat.is_group": source.is_group,
        "wachat.system_prompts": json.dumps(prompts, ensure_ascii=False),
        "wachat.style_cards": json.dumps(source.style_cards, ensure_ascii=False),
        "wachat.base_model": source.base_model,
        "wachat.run_id": source.run_id,
        "wachat.created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "wachat.quant": quant,
        "wachat.fidelity": json.dumps(fidelity, ensure_ascii=False) if fidelity else None,
    }


def _prepare_dir(folder: Path, private: bool) -> None:
    """Project folders are owner-only (0700); a folder the user chose with --out keeps its mode."""
    if private:
        ensure_private_dir(folder)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def _write_file(path: Path, text: str) -> None:
    """Small companion files: temp + rename in the same folder, 0600, the folder's mode untouched."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _temp_path(out: Path, tag: str) -> Path:
    return out.parent / f".{out.name}.{tag}.{os.getpid()}.tmp"


def _sweep_stale_temps(out: Path) -> None:
    """Remove the temp files of exports to ``out`` whose process is gone (killed: a hard kill
    runs no cleanup, and an f16 temp file is hundreds of MB)."""
    from ..core.layout import pid_alive

    name = glob.escape(out.name)
    # ``.<out>.<tag>.<pid>.tmp`` files, and the HF staging folder the converter reads, which is
    # named after the f16 temp file: ``..<out>.f16.<pid>.tmp.hf.<pid>.tmp``
    for leftover in [*out.parent.glob(f".{name}.*.tmp"), *out.parent.glob(f"..{name}.*.tmp")]:
        pid = leftover.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                _unlink(leftover)


def _unlink(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _check_disk(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ModelError(f"not enough disk space in {folder}: {needed / 1e6:.0f} MB needed, "
                         f"{free / 1e6:.0f} MB free", hint="free some space or choose another --out")


def _throttled_progress(emit: Emit, stage: str) -> Callable[[int, int], None]:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done in (0, total) or now - last[0] >= 0.2:
            last[0] = now
            emit(Stage(stage=stage, done=done, total=total, detail=f"{done}/{total} tensors"))
    return progress


def export_model(project_dir: Path, config: ExportConfig | None = None, emit: Emit | None = None,
                 checks: Sequence[str] = CHECKS) -> tuple[Path, dict]:
    """Export one run of a project to a verified GGUF; returns ``(path, metrics)``.

    Raises :class:`~wachat_tui.errors.WachatError` subclasses (ModelError, ProjectError,
    VerificationError) with a one-line message; on any failure no file is left at the output
    path (an older file there stays as it was) and no temp file is left behind.
    """
    from . import verify
    from .convert import DISK_FULL, start_converter
    from .gguf import check_supported, quantize, read_hparams, write_gguf
    from .merge import load_merged, load_tokenizer
    from .modelfile import detect_format, render_modelfile

    config = (config or ExportConfig()).validate()
    threads = config.resolved_threads()
    emit = emit or (lambda e: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    source = resolve_source(Path(project_dir), config.run_id)
    list_exports(source.files, existing_only=False)  # a damaged registry fails now, not after the work
    out = Path(config.out) if config.out else default_output(source, config.quant)
    hparams = read_hparams(source.base_path)
    check_supported(hparams)  # before any heavy loading: unsupported → instant, clear error
    start_converter()  # llama.cpp's converter (setup put it in place): missing → instant, clear error;
    # found → its process starts importing now, while the merge runs
    _prepare_dir(out.parent, private=config.out is None)
    emit(Log(message=f"exporting run {source.run_id} of {source.project_name} "
                     f"(base {source.base_model}) to {out}"))

    # ---- merge
    t = time.perf_counter()
    emit(Stage(stage="merging", done=0, total=1, detail=f"{source.adapter_dir} + {source.base_model}"))
    tokenizer = load_tokenizer(source.tokenizer_dir)
    prompts = persona_prompts(source)
    fidelity = run_fidelity(source)
    persona = source.default_persona()
    system = prompts.get(persona) if persona else None
    messages = verify.sample_messages(system)
    chat_text = verify.render_chat(tokenizer, messages, add_generation_prompt=True)  # no template → fail now
    prompt_ids = tokenizer.encode(chat_text, add_special_tokens=False)
    eot = verify.end_of_turn_ids(tokenizer)
    model, merge_info = load_merged(source.base_path, source.adapter_dir, threads=threads)
    emit(Stage(stage="merging", done=1, total=1, detail=f"merged {merge_info['lora_layers']} LoRA layers"))
    timings["merge_s"] = round(time.perf_counter() - t, 2)  # imports + load + merge
    for key in ("load_s", "merge_only_s"):
        if key in merge_info:
            timings[key] = merge_info.pop(key)
    reference = verify.hf_logits(model, prompt_ids) if "logits" in checks else None

    _sweep_stale_temps(out)
    f16_tmp = _temp_path(out, "f16")
    q_tmp = _temp_path(out, config.quant) if config.quant != "f16" else None
    results: list[verify.CheckResult] = []
    metrics: dict = {"run_id": source.run_id, "project": source.project_name, "quant": config.quant,
                     "base_model": source.base_model, "lora_layers": merge_info["lora_layers"],
                     "params": merge_info["params"]}
    try:
        # ---- write f16
        _check_disk(out.parent, int(merge_info["params"] * 2 * (1.6 if q_tmp else 1.05)))
        t = time.perf_counter()
        summary = write_gguf(f16_tmp, model, tokenizer_dir=source.tokenizer_dir,
                             hf_tokenizer=tokenizer, metadata=wachat_metadata(source, config.quant, prompts, fidelity),
                             name=f"wachat {source.project_name} {source.run_id}",
                             progress=_throttled_progress(emit, "writing"), threads=threads)
        timings["write_s"] = round(time.perf_counter() - t, 2)
        metrics.update(summary)
        metrics["f16_bytes"] = f16_tmp.stat().st_size
        del model  # the reference logits are all verification still needs from it

        def record(result: verify.CheckResult) -> None:
            results.append(result)
            emit(Verified(check=result.check, passed=result.passed, detail=result.detail))

        final_tmp = f16_tmp
        if q_tmp is not None:
            t = time.perf_counter()
            emit(Stage(stage="quantizing", done=0, total=1, detail=f"f16 → {config.quant}"))
            quantize(f16_tmp, q_tmp, config.quant, threads=threads)
            timings["quantize_s"] = round(time.perf_counter() - t, 2)
            emit(Stage(stage="quantizing", done=1, total=1,
                       detail=f"{metrics['f16_bytes'] / 1e6:.0f} MB → {q_tmp.stat().st_size / 1e6:.0f} MB"))
            final_tmp = q_tmp

        def ok() -> bool:
            return all(r.passed for r in results)

        # ---- logits: the f16 conversion against the merged HF model (quantization loss excluded)
        if "logits" in checks:
            emit(Stage(stage="verifying", done=0, total=len(checks), detail="logits (f16 vs merged model)"))
            record(verify.check_logits(f16_tmp, None, prompt_ids, reference=reference,
                                       min_agreement=config.min_top1_agreement, threads=threads))
            if q_tmp is not None and ok():  # how far quantization moved the predictions (reported only)
                q = verify.check_logits(q_tmp, None, prompt_ids, reference=reference, enforce=False,
                                        threads=threads)
                metrics["quant_top1_agreement"] = q.metrics.get("top1_agreement")
                metrics["quant_max_abs_diff"] = q.metrics.get("max_abs_diff")
                timings["verify_quantized_s"] = q.seconds
                emit(Log(message=f"{config.quant} vs merged model: {q.detail}"))
        if q_tmp is not None:
            _unlink(f16_tmp)

        # ---- tokens and end-of-turn on the file users will get
        if "tokens" in checks and ok():
            emit(Stage(stage="verifying", done=len(results), total=len(checks), detail="tokens"))
            record(verify.check_tokens(final_tmp, tokenizer, chat_text))
        if "end_of_turn" in checks and ok():
            emit(Stage(stage="verifying", done=len(results), total=len(checks), detail="end of turn"))
            record(verify.check_end_of_turn(final_tmp, verify.end_of_turn_prompts(tokenizer, system), eot,
                                            max_tokens=config.max_turn_tokens, threads=threads))
        timings["verify_s"] = round(sum(r.seconds for r in results)
                                    + timings.get("verify_quantized_s", 0), 2)
        failed = [r for r in results if not r.passed]
        if failed:
            raise verify.VerificationError(
                "export verification failed: " + "; ".join(f"{r.check}: {r.detail}" for r in failed),
                hint=f"nothing was written to {out.name}; " + _failure_hint(failed[0].check))
        emit(Stage(stage="verifying", done=len(results), total=len(checks), detail="all checks passed"))

        os.chmod(final_tmp, 0o600)
        os.replace(final_tmp, out)  # atomic: readers see the old file or the new one, never half
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        raise ModelError(f"the disk is full: could not write {out.name} in {out.parent} ({exc.strerror})",
                         hint="free some space or choose another --out; nothing was written"
                              + (" and the previous file is kept" if out.exists() else "")) from None
    finally:
        _unlink(f16_tmp)
        _unlink(q_tmp)

    # ---- companions: Modelfile (+ optional LoRA GGUF), then the project's export registry
    match = detect_format(getattr(tokenizer, "chat_template", None), chat_text, messages,
                          bos=tokenizer.bos_token or "", eos=tokenizer.eos_token or "</s>")
    eot_names = [s for s in eot.values() if s]
    modelfile = source.files.modelfile if config.out is None else out.with_name(f"{out.stem}.Modelfile")
    _write_file(modelfile, render_modelfile(
        out.name, match, system=system, eos=tokenizer.eos_token or "", extra_stops=eot_names,
        title=f"{source.chat_title} ({persona or 'persona'})"))
    metrics["modelfile"] = str(modelfile)
    metrics["chat_format"] = match.label
    if config.lora_gguf:
        from .lora import write_lora_gguf

        lora_out = (source.files.lora_dir / f"{source.run_id}-lora.gguf" if config.out is None
                    else out.with_name(f"{out.stem}.lora.gguf"))
        try:  # the merged GGUF is already verified and in place: a LoRA problem is only a warning
            write_lora_gguf(source.adapter_dir, source.base_path, lora_out, threads=threads,
                            metadata=wachat_metadata(source, "lora", prompts))
            metrics["lora_gguf"] = str(lora_out)
            metrics["lora_bytes"] = lora_out.stat().st_size
        except ModelError as exc:
            metrics["lora_error"] = exc.one_line()
            emit(Log(message=f"no GGUF LoRA written: {exc.one_line()}", level="warning"))

    metrics["bytes"] = out.stat().st_size
    metrics["checks"] = {r.check: {"passed": r.passed, "detail": r.detail, **r.metrics} for r in results}
    timings["total_s"] = round(time.perf_counter() - t_start, 2)
    metrics["seconds"] = timings
    metrics["persona"] = persona
    metrics["fidelity"] = fidelity
    metrics["style_cards"] = source.style_cards
    remember_export(source.files, export_record(out, config.quant, metrics))
    return out, metrics


def export_record(out: Path, quant: str, metrics: dict) -> ExportRecord:
    """The entry of ``exports.json`` for a verified export (the metrics without a slot of
    their own go to ``extra``)."""
    own = {"run_id", "quant", "bytes", "seconds", "checks", "lora_gguf", "modelfile", "fidelity", "style_cards"}
    return ExportRecord(
        path=os.path.abspath(out), run_id=metrics["run_id"], quant=quant, bytes=metrics["bytes"],
        created=datetime.now().isoformat(timespec="seconds"), seconds=metrics["seconds"]["total_s"],
        checks=[{"check": name, **result} for name, result in metrics["checks"].items()],
        lora_path=metrics.get("lora_gguf"), modelfile=metrics.get("modelfile"), fidelity=metrics.get("fidelity"),
        style_cards=metrics.get("style_cards") or None,
        extra={"timings": metrics["seconds"], **{k: v for k, v in metrics.items() if k not in own}})


def _failure_hint(check: str) -> str:
    return {
        "tokens": "llama.cpp cannot reproduce this base model's tokenizer",
        "logits": "the converted weights do not match the merged model; please report this",
        "end_of_turn": "the model does not stop its replies; train longer or check the base model's chat template",
    }.get(check, "see the log")
