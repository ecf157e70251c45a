"""Training throughput: our trainer vs a plain TRL SFTTrainer baseline, on the same data.

    .venv/bin/python benchmarks/train_bench.py                 # CPU, embedded SmolLM2-135M
    .venv/bin/python benchmarks/train_bench.py --samples 200   # more data, longer run
    .venv/bin/python benchmarks/train_bench.py --trl-loss      # also: our trainer with TRL's own loss
    .venv/bin/python benchmarks/train_bench.py --cuda          # GPU: TinyLlama-1.1B shape, random weights, QLoRA
    .venv/bin/python benchmarks/train_bench.py --memory sam_noor   # memory levers of the default CPU run

``--memory CHAT`` (``demo`` or ``sam_noor`` = tests/fixtures/chats/en_sam_noor.txt): our trainer with
the CPU defaults, on the chat's *longest* training samples (the batches that set the peak), a few
optimizer steps per variant, each variant in a fresh process: the defaults, activation checkpointing
on, one sample per batch with gradient accumulation (no padding, so no attention mask), a shorter
sequence length. Reports peak RSS beside real tokens/s and their ratios to the defaults.

CPU mode trains one epoch over the first N chat samples of the demo project (imported into a
temporary home) with the same model (SmolLM2-135M fp32), LoRA settings (r 16, alpha 32, all
attention + MLP projections), batch size and learning rate, in two fresh processes:

- baseline: TRL ``SFTTrainer`` on the ``messages`` rows with TRL's defaults — its own
  tokenization, default collator (pads each batch to its longest sample), no packing,
  TRL's default activation checkpointing;
- ours: ``wachat_tui.train.trainer.build_trainer`` — persona-only labels, length-grouped batches,
  LM head only on trained positions, no activation checkpointing on the CPU;
- ``--trl-loss`` adds "ours-trl-loss": the same trainer with TRL's own loss instead of ours
  (``SFTTrainer.compute_loss``, ``loss_type="nll"``: TRL's chunked fused LM head). The two
  compute the same loss (the train loss matches); the figures say which one is cheaper. The
  product keeps only the winner (ours, see README).

It reports real (non-padding) tokens per second of ``trainer.train()`` wall time, padding
share and peak memory (max RSS on the CPU, max allocated on CUDA), then the ratio.

``--cuda``: TinyLlama-1.1B's architecture with random weights (no download), QLoRA (NF4,
double quant, bf16 compute), r 64 on all projections, sequences of 1024 tokens; reports
tokens/s, peak memory and MFU = tokens/s × 4·N / peak bf16 FLOPs (4·N: forward 2·N plus the
backward pass through frozen weights 2·N; LoRA's own FLOPs and attention are left out).
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("WACHAT_CACHE", str(REPO / ".cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PEAK_BF16_TFLOPS = {"H100": 989.4, "H200": 989.4, "H800": 989.4, "A100": 312.0, "A800": 312.0,
                    "L40S": 362.1, "L4": 121.0, "A10": 125.0, "RTX 4090": 165.2, "B200": 2250.0}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- data
CHATS = {"demo": (None, "Maya"), "sam_noor": (REPO / "tests" / "fixtures" / "chats" / "en_sam_noor.txt", "Sam")}
MEMORY_VARIANTS = {
    "defaults": {},
    "checkpointing": {"gradient_checkpointing": True},
    "batch 1 × accum 4": {"batch_size": 1, "grad_accum": 4},
    "checkpointing + batch 1 × accum 4": {"gradient_checkpointing": True, "batch_size": 1, "grad_accum": 4},
    "seq 512": {"max_seq_len": 512},
}


def demo_samples(n: int, chat: str = "demo") -> list[dict]:
    """The first n training samples of a chat (the bundled demo by default), imported into a temp home."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, WACHAT_HOME=home)
        from wachat_tui.paths import demo_export

        source, me = CHATS[chat]
        subprocess.run([sys.executable, "-m", "wachat_tui", "import", str(source or demo_export()), "--me", me,
                        "--project", "bench"], check=True, env=env, capture_output=True, text=True)
        path = Path(home) / "projects" / "bench" / "dataset" / "train.jsonl"
        rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    return rows[:n]


# --------------------------------------------------------------------------- one variant (child process)
def run_variant(variant: str, data_path: Path, batch_size: int, lr: float, seed: int) -> dict:
    import torch

    torch.manual_seed(seed)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from wachat_tui.train.models import ensure_embedded

    rows = [json.loads(l) for l in data_path.read_text(encoding="utf-8").splitlines() if l.strip()]
    base = ensure_embedded()
    tok = AutoTokenizer.from_pretrained(str(base))
    counts = {"real": 0, "padded": 0, "batches": 0}

    if variant == "baseline":
        from datasets import Dataset
        from peft import LoraConfig
        from trl import SFTConfig, SFTTrainer
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
        ds = Dataset.from_list([{"messages": [{"role": m["role"], "content": m["content"]} for m in r["messages"]]}
                                for r in rows])
        default = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)

        def counting(examples):
            batch = default(examples)
            counts["real"] += int(batch["attention_mask"].sum())
            counts["padded"] += int(batch["attention_mask"].numel())
            counts["batches"] += 1
            return batch

        args = SFTConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=batch_size,
                         num_train_epochs=1, learning_rate=lr, bf16=False, use_cpu=True, report_to="none",
                         save_strategy="no", disable_tqdm=True, seed=seed, logging_steps=10)
        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                             data_collator=counting,
                             peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=TARGETS,
                                                    task_type="CAUSAL_LM"))
        settings = {"activation_checkpointing": bool(trainer.args.activation_checkpointing),
                    "collator": "DataCollatorForLanguageModeling (padded)", "loss": "all tokens"}
    else:
        from wachat_tui.train import data as chat_data
        from wachat_tui.train.batching import resolve_batching
        from wachat_tui.train.config import TrainConfig
        from wachat_tui.train.modeling import load_base_model
        from wachat_tui.train.trainer import build_trainer

        cfg = TrainConfig.for_device("cpu", batch_size=batch_size, learning_rate=lr, epochs=1, seed=seed,
                                     max_seq_len=1024)
        toks, _ = chat_data.tokenize_samples(tok, rows, cfg.max_seq_len)
        model = load_base_model(base, cfg)
        steps = cfg.total_steps(len(toks))
        trainer = build_trainer(model, tok, toks, [], cfg, Path(tempfile.mkdtemp()), steps, save=False)
        inner = trainer.data_collator

        def counting(examples):
            batch = inner(examples)
            m = batch.get("attention_mask")
            counts["real"] += int(m.sum()) if m is not None else int(batch["input_ids"].numel())
            counts["padded"] += int(batch["input_ids"].numel())
            counts["batches"] += 1
            return batch

        trainer.data_collator = counting
        settings = {"activation_checkpointing": cfg.resolved_gradient_checkpointing(),
                    "batching": resolve_batching(cfg), "loss": "persona tokens only (compact LM head)"}
        if variant == "ours-trl-loss":
            import types

            from trl import SFTTrainer

            # TRL's own loss on the same trainer: its fused LM head (installed by SFTTrainer) over
            # the same persona-only labels
            trainer.compute_loss = types.MethodType(SFTTrainer.compute_loss, trainer)
            settings["loss"] = "TRL's loss (loss_type=nll, chunked fused LM head)"
    import resource

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    out = trainer.train()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"variant": variant, "samples": len(rows), "batch_size": batch_size, "steps": trainer.state.global_step,
            "train_seconds": round(wall, 2), "real_tokens": counts["real"], "batch_tokens": counts["padded"],
            "padding_share": round(1 - counts["real"] / max(1, counts["padded"]), 3),
            "tokens_per_s": round(counts["real"] / wall, 2), "cpu_seconds": round(cpu, 1),
            "tokens_per_cpu_s": round(counts["real"] / max(cpu, 1e-9), 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "train_loss": round(float(out.training_loss), 4), "settings": settings,
            "threads": torch.get_num_threads()}


def run_memory_variant(data_path: Path, overrides: dict, steps: int, seed: int) -> dict:
    """Our trainer with the CPU defaults + ``overrides`` for ``steps`` optimizer steps over the rows
    in order (the caller puts the longest first): real tokens/s of ``trainer.train()`` and peak RSS."""
    import resource

    import torch

    torch.manual_seed(seed)
    from transformers import AutoTokenizer

    from wachat_tui.train import data as chat_data
    from wachat_tui.train.config import TrainConfig
    from wachat_tui.train.modeling import load_base_model
    from wachat_tui.train.models import ensure_embedded
    from wachat_tui.train.trainer import build_trainer

    rows = [json.loads(l) for l in data_path.read_text(encoding="utf-8").splitlines() if l.strip()]
    base = ensure_embedded()
    tok = AutoTokenizer.from_pretrained(str(base))
    cfg = TrainConfig.for_device("cpu", max_steps=steps, seed=seed, **overrides).validate()
    toks, _ = chat_data.tokenize_samples(tok, rows, cfg.max_seq_len)
    toks = toks[:steps * cfg.effective_batch]
    model = load_base_model(base, cfg)
    trainer = build_trainer(model, tok, toks, [], cfg, Path(tempfile.mkdtemp()), steps, save=False)
    counts = {"real": 0, "padded": 0}
    inner = trainer.data_collator

    def counting(examples):
        batch = inner(examples)
        m = batch.get("attention_mask")
        counts["real"] += int(m.sum()) if m is not None else int(batch["input_ids"].numel())
        counts["padded"] += int(batch["input_ids"].numel())
        return batch

    trainer.data_collator = counting
    before = peak_rss_mb()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"overrides": overrides, "steps": trainer.state.global_step, "samples": len(toks),
            "longest": max(len(t.input_ids) for t in toks), "real_tokens": counts["real"],
            "padding_share": round(1 - counts["real"] / max(1, counts["padded"]), 3),
            "tokens_per_s": round(counts["real"] / wall, 2), "tokens_per_cpu_s": round(counts["real"] / max(cpu, 1e-9), 2),
            "peak_rss_mb": round(peak_rss_mb(), 1), "rss_before_train_mb": round(before, 1),
            "activation_checkpointing": cfg.resolved_gradient_checkpointing(), "threads": torch.get_num_threads()}


def memory_main(chat: str, steps: int, seed: int, variants: list[str], as_json: bool) -> int:
    rows = demo_samples(10**9, chat)
    rows.sort(key=lambda r: -sum(len(m["content"]) for m in r["messages"]))  # the batches that set the peak
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "samples.jsonl"
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        for name in variants:
            print(f"running {name} …", file=sys.stderr, flush=True)
            results[name] = child(["--only-memory", json.dumps(MEMORY_VARIANTS[name]), "--data", str(data),
                                   "--steps", str(steps), "--seed", str(seed)])
    ref_name = "defaults" if "defaults" in results else variants[0]
    ref = results[ref_name]
    if as_json:
        print(json.dumps({"chat": chat, "results": results, "load": os.getloadavg()}))
        return 0
    print(f"{chat}: {steps} optimizer steps on the longest training samples, CPU defaults + the variant; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'variant':36}{'peak RSS MB':>12}{'× ' + ref_name:>14}{'tokens/s':>10}{'tok/CPU-s':>11}"
          f"{'×':>7}{'padding':>9}{'longest':>9}")
    for name, r in results.items():
        print(f"{name:36}{r['peak_rss_mb']:>12.0f}{r['peak_rss_mb'] / ref['peak_rss_mb']:>14.2f}"
              f"{r['tokens_per_s']:>10.1f}{r['tokens_per_cpu_s']:>11.1f}"
              f"{r['tokens_per_cpu_s'] / ref['tokens_per_cpu_s']:>7.2f}{r['padding_share']:>9.1%}{r['longest']:>9}")
    return 0


# --------------------------------------------------------------------------- CUDA
TINYLLAMA = dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                 num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048,
                 rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1,
                 eos_token_id=2, hidden_act="silu")


def run_cuda(steps: int, batch_size: int, seq_len: int, peak_tflops: float | None, mode: str,
             gc: bool = False, device: str = "cuda", shape: dict | None = None) -> dict:
    """QLoRA/LoRA throughput on a GPU. ``device``/``shape`` let ``--smoke`` run this same code on
    the CPU with a miniature model, to check the path where no GPU is at hand."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from wachat_tui.train import data as chat_data
    from wachat_tui.train.batching import resolve_batching
    from wachat_tui.train.config import TrainConfig
    from wachat_tui.train.modeling import load_base_model
    from wachat_tui.train.models import ensure_embedded
    from wachat_tui.train.trainer import build_trainer

    cuda = device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--cuda needs a CUDA GPU (try --smoke to check the code path on the CPU)")
    torch.manual_seed(0)
    work = Path(tempfile.mkdtemp(prefix="wachat-bench-"))
    cfg_model = LlamaConfig(**(shape or TINYLLAMA))
    model = LlamaForCausalLM(cfg_model).to(torch.bfloat16)  # random weights, TinyLlama-1.1B's shape
    n_params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(work / "base")
    del model
    # a tokenizer only for pad/eos ids and the template check; the samples are synthetic ids
    tok = AutoTokenizer.from_pretrained(str(ensure_embedded()))
    tok.pad_token_id = 0
    cfg = TrainConfig.for_device(device, mode=mode, batch_size=batch_size, max_seq_len=seq_len,
                                 max_steps=steps, seed=0, gradient_checkpointing=gc, rank=64,
                                 save_steps=10**9, eval_steps=10**9)
    g = torch.Generator().manual_seed(0)
    n_samples = steps * batch_size
    toks = []
    for _ in range(n_samples):
        ids = torch.randint(3, cfg_model.vocab_size, (seq_len,), generator=g).tolist()
        labels = [-100] * (seq_len // 2) + ids[seq_len // 2:]
        toks.append(chat_data.Tokenized(ids, labels))
    model = load_base_model(work / "base", cfg)
    trainer = build_trainer(model, tok, toks, [], cfg, work / "out", steps, save=False)
    counts = {"tokens": 0}
    inner = trainer.data_collator

    def counting(examples):
        batch = inner(examples)
        m = batch.get("attention_mask")
        counts["tokens"] += int(m.sum()) if m is not None else int(batch["input_ids"].numel())
        return batch

    trainer.data_collator = counting
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        """Time steps after the first two (CUDA warm-up, allocator growth)."""

        def __init__(self):
            self.t0 = None
            self.tokens0 = 0

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 2:
                sync()
                self.t0 = time.perf_counter()
                self.tokens0 = counts["tokens"]

    timer = Timer()
    trainer.add_callback(timer)
    trainer.train()
    sync()
    wall = time.perf_counter() - timer.t0
    tokens = counts["tokens"] - timer.tokens0  # batches of steps 3..N (each is collated just before its step)
    tps = tokens / wall
    name = torch.cuda.get_device_name() if cuda else "cpu (smoke test)"
    peak = peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    mfu = tps * 4 * n_params / (peak * 1e12) if peak else None
    mem = torch.cuda.max_memory_allocated() / 2**30 if cuda else peak_rss_mb() / 1024
    return {"variant": f"ours-cuda-{mode}", "gpu": name, "params": n_params, "seq_len": seq_len,
            "batch_size": batch_size, "steps_timed": steps - 2, "tokens_per_s": round(tps, 1),
            "peak_mem_gb": round(mem, 2), "quantization": _quant_label(trainer.model),
            "peak_tflops_bf16": peak, "mfu": round(mfu, 4) if mfu is not None else None,
            "batching": resolve_batching(cfg), "activation_checkpointing": cfg.resolved_gradient_checkpointing(),
            "mode": mode, "lora_rank": cfg.rank}


def _quant_label(model) -> str:
    from wachat_tui.train.modeling import quantization_info

    q = quantization_info(model)
    if not q:
        return "none (bf16)"
    return f"NF4{' + double quant' if q['double_quant'] else ''}, {q['linear4bit_layers']} 4-bit layers"


# --------------------------------------------------------------------------- driver
def child(cmd: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *cmd], capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"benchmark child {cmd} failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=96, help="demo training samples (one epoch)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cuda", action="store_true", help="GPU benchmark (TinyLlama-1.1B shape, QLoRA)")
    ap.add_argument("--mode", default="qlora", choices=["qlora", "lora"], help="--cuda only")
    ap.add_argument("--steps", type=int, default=30,
                    help="--cuda: optimizer steps (2 warm-up); --memory: steps per variant (give ~6)")
    ap.add_argument("--seq-len", type=int, default=1024, help="--cuda only")
    ap.add_argument("--peak-tflops", type=float, help="--cuda only: the GPU's dense bf16 peak")
    ap.add_argument("--gc", action="store_true", help="--cuda only: activation checkpointing (less memory, slower)")
    ap.add_argument("--smoke", action="store_true",
                    help="run the --cuda code path on the CPU with a miniature model (no GPU needed)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--trl-loss", action="store_true",
                    help="also run our trainer with TRL's own loss (loss_type=nll) instead of ours")
    ap.add_argument("--memory", choices=list(CHATS), help="memory levers of the default CPU run on this chat")
    ap.add_argument("--variant", action="append", choices=list(MEMORY_VARIANTS),
                    help="--memory only: the variants to run, in this order (default: all); ratios are to the defaults")
    ap.add_argument("--only-memory", help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=["baseline", "ours", "ours-trl-loss"], help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.only:
        print(json.dumps(run_variant(a.only, Path(a.data), a.batch_size, a.lr, a.seed)))
        return 0
    if a.only_memory is not None:
        print(json.dumps(run_memory_variant(Path(a.data), json.loads(a.only_memory), a.steps, a.seed)))
        return 0
    if a.memory:
        return memory_main(a.memory, a.steps, a.seed, a.variant or list(MEMORY_VARIANTS), a.json)
    if a.cuda or a.smoke:
        if a.smoke:
            mini = dict(TINYLLAMA, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2)
            res = run_cuda(4, 2, 64, None, a.mode, gc=a.gc, device="cpu", shape=mini)
        else:
            res = run_cuda(a.steps, a.batch_size, a.seq_len, a.peak_tflops, a.mode, gc=a.gc)
        print(json.dumps(res) if a.json else "\n".join(f"{k:>24}: {v}" for k, v in res.items()))
        return 0

    rows = demo_samples(a.samples)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "samples.jsonl"
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        common = ["--data", str(data), "--batch-size", str(a.batch_size), "--lr", str(a.lr), "--seed", str(a.seed)]
        results = {}
        for variant in ("baseline", "ours") + (("ours-trl-loss",) if a.trl_loss else ()):
            print(f"running {variant} …", file=sys.stderr, flush=True)
            results[variant] = child(["--only", variant, *common])
    b, o = results["baseline"], results["ours"]
    t = results.get("ours-trl-loss")
    ratio = o["tokens_per_s"] / b["tokens_per_s"]
    if a.json:
        row = {"baseline": b, "ours": o, "speedup": round(ratio, 2),
               "speedup_cpu": round(o["tokens_per_cpu_s"] / b["tokens_per_cpu_s"], 2)}
        if t:
            row.update({"ours-trl-loss": t, "ours_vs_trl_loss": round(o["tokens_per_s"] / t["tokens_per_s"], 2),
                        "ours_vs_trl_loss_cpu": round(o["tokens_per_cpu_s"] / t["tokens_per_cpu_s"], 2)})
        print(json.dumps(row))
        return 0
    print(f"data: {len(rows)} demo chat samples, one epoch, batch {a.batch_size}, SmolLM2-135M fp32, "
          f"LoRA r16 on {len(TARGETS)} projections, {b['threads']} CPU threads")
    print(f"{'':15}{'tokens/s':>10}{'tok/CPU-s':>11}{'real tokens':>13}{'padding':>9}{'seconds':>9}"
          f"{'CPU s':>8}{'peak RSS MB':>13}{'train loss':>12}")
    for name, r in results.items():
        print(f"{name:15}{r['tokens_per_s']:>10.1f}{r['tokens_per_cpu_s']:>11.1f}{r['real_tokens']:>13}"
              f"{r['padding_share']:>9.1%}{r['train_seconds']:>9.1f}{r['cpu_seconds']:>8.0f}{r['peak_rss_mb']:>13.0f}"
              f"{r['train_loss']:>12.4f}")
    for name, r in results.items():
        print(f"{name + ' settings:':30} {r['settings']}")
    cpu_ratio = o["tokens_per_cpu_s"] / b["tokens_per_cpu_s"]
    print(f"speedup (real tokens/s, ours / baseline): {ratio:.2f}x   "
          f"(per CPU-second, robust on a shared machine: {cpu_ratio:.2f}x)")
    if t:
        print(f"our loss vs TRL's loss: {o['tokens_per_s'] / t['tokens_per_s']:.2f}x tokens/s, "
              f"{o['tokens_per_cpu_s'] / t['tokens_per_cpu_s']:.2f}x per CPU-second, "
              f"peak RSS {o['peak_rss_mb'] - t['peak_rss_mb']:+.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
