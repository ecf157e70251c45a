"""Export speed and size: wall time and file size per quant for the embedded SmolLM2-135M.

    .venv/bin/python benchmarks/export_bench.py [--project-dir DIR [--run R]] [--quants f16,q8_0,q4_k_m]
    .venv/bin/python benchmarks/export_bench.py --archs [llama,mistral,…]

``--archs`` instead converts a tiny model of each supported architecture (tests/export/tiny.py),
merged and LoRA-only, with llama.cpp's converter, and prints per architecture: seconds, top-1
agreement and max |Δlogit| against the merged HF model, and whether a greedy reply stops on the
end-of-turn token (for the LoRA: base GGUF + LoRA GGUF loaded together by llama.cpp).

Each export runs as a user runs it (``python -m wachat_tui.export``, a fresh process: imports,
merge, GGUF writing, quantization and all three llama.cpp checks), so the wall time is what
``wachat export`` costs. Without ``--project-dir`` a throwaway project is made with the embedded
base and a fresh LoRA adapter (rank 16 on all projections, small random B so the merge changes
the weights). Not part of the test run. ``bench(args)`` is also called by chat_bench.py.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUANTS = ("f16", "q8_0", "q4_k_m")


def make_synthetic_project(root: Path) -> Path:
    """A project with one run on the embedded base and a random (but gentle) LoRA adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from wachat_tui.train.models import resolve_base

    base = resolve_base("embedded:smollm2-135m")
    project = root / "bench"
    run = project / "runs" / "bench-run"
    run.mkdir(parents=True)
    (project / "project.json").write_text(json.dumps({
        "name": "bench", "me": "Maya", "personas": ["Maya", "Leo"], "participants": ["Maya", "Leo"],
        "is_group": False, "chat_name": "Leo"}))
    (run / "run.json").write_text(json.dumps({
        "run_id": "bench-run", "project": "bench", "base_model": base.name, "base_path": str(base.path),
        "mode": "lora", "personas": ["Maya", "Leo"], "status": "finished", "created": "2026-01-01T00:00:00"}))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(base.path), dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets,
                                                  task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 1e-3)
    peft_model.save_pretrained(str(run / "adapter"))
    return project


def export_once(project: Path, quant: str, run_id: str | None, out: Path) -> dict:
    cmd = [sys.executable, "-m", "wachat_tui.export", "--project-dir", str(project), "--quant", quant,
           "--out", str(out)]
    if run_id:
        cmd += ["--run", run_id]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    wall = time.perf_counter() - t0
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    end = events[-1] if events else {"event": "failed", "error": proc.stderr[-500:]}
    if end["event"] != "finished":
        return {"quant": quant, "ok": False, "error": end.get("error"), "wall_s": round(wall, 1)}
    m = end["metrics"]
    checks = m["checks"]
    row = {
        "quant": quant, "ok": True, "wall_s": round(wall, 1), "bytes": m["bytes"],
        "mb": round(m["bytes"] / 1e6, 1), "seconds": m["seconds"],
        "f16_top1": checks["logits"]["top1_agreement"], "f16_near_ties": checks["logits"]["near_ties"],
        "f16_max_abs_diff": checks["logits"]["max_abs_diff"], "positions": checks["logits"]["positions"],
        "eot_tokens": checks["end_of_turn"]["tokens"],
    }
    if "quant_top1_agreement" in m:
        row["quant_top1"] = m["quant_top1_agreement"]
        row["quant_max_abs_diff"] = m["quant_max_abs_diff"]
    out.unlink(missing_ok=True)
    return row


def bench(args=None) -> dict:
    """Export each quant once; returns {"quants": [rows], "threads": …, "cpus": …}."""
    quants = tuple(getattr(args, "quants", None) or QUANTS)
    project_dir = getattr(args, "project_dir", None)
    run_id = getattr(args, "run", None)
    with tempfile.TemporaryDirectory(prefix="wachat-export-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        project = Path(project_dir) if project_dir else make_synthetic_project(tmp)
        setup_s = time.perf_counter() - t0
        rows = [export_once(project, q, run_id, tmp / f"bench-{q}.gguf") for q in quants]
    return {"model": "SmolLM2-135M-Instruct (embedded) + LoRA", "cpus": os.cpu_count(),
            "setup_s": round(setup_s, 1), "quants": rows}


def print_report(result: dict) -> None:
    print(f"export of {result['model']} on {result['cpus']} CPUs (each a fresh `python -m wachat_tui.export`)")
    print(f"  {'quant':7} {'wall':>7} {'size':>9} {'merge':>6} {'write':>6} {'quant.':>6} {'verify':>6}  "
          "checks")
    for r in result["quants"]:
        if not r["ok"]:
            print(f"  {r['quant']:7} FAILED after {r['wall_s']} s: {r['error']}")
            continue
        s = r["seconds"]
        checks = (f"f16 top-1 {r['f16_top1']:.1%} ({r['f16_near_ties']} ties) / {r['positions']} pos, "
                  f"max|Δ| {r['f16_max_abs_diff']:.3f}")
        if "quant_top1" in r:
            checks += f"; {r['quant']} top-1 {r['quant_top1']:.1%}, max|Δ| {r['quant_max_abs_diff']:.2f}"
        checks += f"; stops after {r['eot_tokens']} tok"
        print(f"  {r['quant']:7} {r['wall_s']:6.1f}s {r['mb']:7.1f}MB {s.get('merge_s', 0):5.1f}s "
              f"{s.get('write_s', 0):5.1f}s {s.get('quantize_s', 0):5.1f}s {s.get('verify_s', 0):5.1f}s  {checks}")


ARCHS = ("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3")


def bench_archs(archs) -> list[dict]:
    """Merged and LoRA-only export of a tiny model per architecture, checked as an export is."""
    from tests.export.tiny import FAMILIES, Assets, make_adapter, make_base
    from wachat_tui.export import verify
    from wachat_tui.export.convert import ConversionFailed, ConversionJob, run_conversion
    from wachat_tui.export.converter import find_converter
    from wachat_tui.export.gguf import write_gguf
    from wachat_tui.export.lora import write_lora_gguf
    from wachat_tui.export.merge import load_merged, load_tokenizer
    from wachat_tui.paths import cache_home

    converter = find_converter()
    assets = Assets(converter.root / "models", cache_home() / "test-tokenizers")
    system = "You are Maya, texting with Leo in a WhatsApp chat. Reply as Maya would."
    t0 = time.perf_counter()
    try:  # start the converter process once, so no row pays for it
        run_conversion(ConversionJob("model", ["--print-supported-models"]))
    except ConversionFailed:
        pass
    print(f"converter {converter.root} (llama-cpp-python {converter.version}) started in "
          f"{time.perf_counter() - t0:.1f} s")
    rows = []
    with tempfile.TemporaryDirectory(prefix="wachat-arch-bench-") as tmp:
        for name in archs:
            root = Path(tmp) / name
            base = make_base(FAMILIES[name], root / "base", assets)
            adapter = make_adapter(base, root / "adapter", std=0.02)
            tok = load_tokenizer(base)
            model, _ = load_merged(base, adapter, threads=1)
            text = verify.render_chat(tok, verify.sample_messages(system), True)
            ids = tok.encode(text, add_special_tokens=False)
            ref = verify.hf_logits(model, ids)
            eot, prompts = verify.end_of_turn_ids(tok), verify.end_of_turn_prompts(tok, system)
            t = time.perf_counter()
            summary = write_gguf(root / "merged.gguf", model, tokenizer_dir=base, hf_tokenizer=tok, threads=1)
            merged_s = time.perf_counter() - t
            write_gguf(root / "base.gguf", checkpoint_dir=base, tokenizer_dir=base, hf_tokenizer=tok, threads=1)
            t = time.perf_counter()
            write_lora_gguf(adapter, base, root / "lora.gguf", threads=1)
            lora_s = time.perf_counter() - t
            for kind, path, lora, seconds in (("merged", root / "merged.gguf", None, merged_s),
                                              ("lora", root / "base.gguf", root / "lora.gguf", lora_s)):
                logits = verify.check_logits(path, None, ids, reference=ref, threads=1, lora_path=lora)
                stop = verify.check_end_of_turn(path, prompts, eot, max_tokens=60, threads=1, lora_path=lora)
                tokens = verify.check_tokens(path, tok, text).passed if lora is None else None
                rows.append({"arch": name, "kind": kind, "converter": Path(converter.model_script if lora is None
                                                                           else converter.lora_script).name,
                             "seconds": round(seconds, 2), "tokens": tokens,
                             "top1": logits.metrics["top1_agreement"], "max_abs_diff": logits.metrics["max_abs_diff"],
                             "logits_passed": logits.passed, "stops": stop.passed,
                             "stop_tokens": stop.metrics.get("tokens"), "pre_tokenizer": summary["pre_tokenizer"]})
                print_arch_row(rows[-1])
    return rows


def print_arch_row(r: dict) -> None:
    tokens = "" if r["tokens"] is None else f" tokens {'ok' if r['tokens'] else 'DIFFER'};"
    print(f"  {r['arch']:8} {r['kind']:6} {r['converter']:24} {r['seconds']:6.2f}s{tokens} top-1 {r['top1']:.1%}, "
          f"max|Δ| {r['max_abs_diff']:.3f}; stops on EOT: {'yes' if r['stops'] else 'NO'}"
          + (f" (after {r['stop_tokens']} tokens)" if r["stops"] else ""), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", nargs="?", const=",".join(ARCHS), default=None,
                    help="tiny model per architecture instead (comma list; default all)")
    ap.add_argument("--project-dir", type=Path, default=None, help="export a real project's run instead")
    ap.add_argument("--run", default=None, help="run id (default: newest finished run)")
    ap.add_argument("--quants", type=lambda s: tuple(q.strip() for q in s.split(",")), default=QUANTS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if args.archs:
        rows = bench_archs(tuple(a.strip() for a in args.archs.split(",")))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return 0 if all(r["logits_passed"] and r["stops"] and r["tokens"] is not False for r in rows) else 1
    result = bench(args)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(r["ok"] for r in result["quants"]) else 1


if __name__ == "__main__":
    sys.exit(main())
