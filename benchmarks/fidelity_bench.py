"""Fidelity against cost for a configuration, on the demo chat and on tests/fixtures/chats/en_sam_noor.txt.

    .venv/bin/python benchmarks/fidelity_bench.py                         # the defaults, both chats
    .venv/bin/python benchmarks/fidelity_bench.py --chat demo --samples 40 --max-steps 60
    .venv/bin/python benchmarks/fidelity_bench.py --train lr=1e-4 --train rank=8     # TrainConfig fields
    .venv/bin/python benchmarks/fidelity_bench.py --dataset max_context_tokens=512   # DatasetOptions fields
    .venv/bin/python benchmarks/fidelity_bench.py --sampling temperature=0.6   # eval the same export again
    .venv/bin/python benchmarks/fidelity_bench.py --table                 # the cached sweep so far
    [--fresh] [--json OUT]

For each chat: import (with the dataset overrides) → ``wachat train --events`` (with the training
overrides) → ``wachat export`` (q8_0) → ``wachat eval --json`` (the exported GGUF through llama.cpp,
the base model's replies cached per project). It prints fidelity, style distance and its ratio to the
base model's, the style distance of another sample of the person's own messages (``own style``: the
noise floor) and how much of the base model's distance above it the fine-tuned model closed, text
copy rate, media-only rate vs the person's real one, leaks, peak RSS of the training process, real tokens/s and the CPU-minutes and wall minutes of training, with the load
average it ran under (the machine is shared: compare runs made under similar load).

Resumable: everything lives under ``$WACHAT_CACHE/fidelity_bench/`` — one WACHAT_HOME per
(chat, dataset overrides) so runs that share a dataset share the base-reply cache, and
``results.json`` keyed by the hash of (chat, dataset overrides, training overrides, samples). A
finished key is not run again (``--fresh`` reruns it); an interrupted one continues from the stage
it reached (trained run → export → eval). Not part of the test run: a default run is ~15 min per
chat on an idle 2-core machine.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("WACHAT_CACHE", str(REPO / ".cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHATS = {"demo": (None, "Maya"),
         "sam_noor": (REPO / "tests" / "fixtures" / "chats" / "en_sam_noor.txt", "Sam")}
COLUMNS = ("chat", "config", "fidelity", "style", "style÷base", "own style", "gap closed", "copy", "media (real)",
           "leaks", "RSS GB", "tok/s", "CPU min", "wall min", "steps", "load")


# --------------------------------------------------------------------------- overrides
def parse_pairs(pairs: list[str]) -> dict:
    """``key=value`` strings → a dict; values parsed as JSON when they are JSON (numbers, true, null)."""
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected KEY=VALUE, got {pair!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def train_flags(overrides: dict) -> list[str]:
    """TrainConfig field overrides → ``wachat train`` flags (the flag each field is generated as)."""
    from dataclasses import fields

    from wachat_tui.train.config import TrainConfig
    from wachat_tui.train.flags import option_names

    names, known = option_names(), {f.name for f in fields(TrainConfig)}
    flags: list[str] = []
    for key, value in overrides.items():
        if key not in known:
            raise SystemExit(f"unknown training option {key!r} (a TrainConfig field name)")
        name = names[key]
        if "/" in name:  # an enumeration offered as switches (--lora / --qlora)
            flags.append(f"--{value}")
        elif value is True:
            flags.append(name)
        elif value is False:
            flags.append("--no-" + name[2:])
        elif isinstance(value, list):
            flags += [name, *map(str, value)]
        else:
            flags += [name, str(value)]
    return flags


def digest(row: dict) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:12]


def label(train: dict, dataset: dict) -> str:
    parts = [f"{k}={v}" for k, v in sorted(dataset.items())] + [f"{k}={v}" for k, v in sorted(train.items())]
    return " ".join(parts) or "defaults"


# --------------------------------------------------------------------------- stages
def bench_dir() -> Path:
    from wachat_tui.paths import cache_home

    path = cache_home() / "fidelity_bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_results() -> dict:
    path = bench_dir() / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_row(key: str, row: dict) -> None:
    """Write one row into results.json, re-read first: two sweeps may run one after the other's start."""
    path = bench_dir() / "results.json"
    results = load_results()
    results[key] = row
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True))
    tmp.replace(path)


def cli(home: Path, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "WACHAT_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "wachat_tui", *args], env=env,
                          capture_output=capture, text=True)


def ensure_project(home: Path, chat: str, dataset: dict) -> str:
    """The chat imported once per (chat, dataset overrides) home."""
    if (home / "projects" / chat / "project.json").exists():
        return chat
    home.mkdir(parents=True, exist_ok=True)
    os.environ["WACHAT_HOME"] = str(home)  # core reads it per call
    from wachat_tui.core.dataset import DatasetOptions
    from wachat_tui.core.importing import import_export
    from wachat_tui.paths import demo_export

    source, me = CHATS[chat]
    import_export(source or demo_export(), me=me, name=chat, options=DatasetOptions(**dataset).validate())
    return chat


def train(home: Path, project: str, flags: list[str], state: dict) -> None:
    if state.get("run"):
        return
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0, t0 = os.getloadavg()[0], time.time()
    print(f"  training {project} {' '.join(flags)} …", file=sys.stderr, flush=True)
    proc = cli(home, "train", project, "--events", *flags)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = [json.loads(line) for line in proc.stdout.splitlines() if '"event": "finished"' in line]
    if proc.returncode != 0 or not finished:
        raise SystemExit(f"training failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    run_dir = Path(finished[-1]["path"]).parent
    metrics = json.loads((run_dir / "metrics.json").read_text())
    state.update(run=run_dir.name, wall_min=round((time.time() - t0) / 60, 2),
                 cpu_min=round((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / 60, 2),
                 load=round((load0 + os.getloadavg()[0]) / 2, 2), peak_rss_mb=metrics.get("peak_memory_mb"),
                 tokens_per_s=metrics.get("tokens_per_s"), steps=metrics.get("steps"),
                 best_step=metrics.get("best_step"), best_fidelity_estimate=metrics.get("best_fidelity"),
                 base_eval_loss=metrics.get("base_eval_loss"), best_eval_loss=metrics.get("best_eval_loss"),
                 train_samples=(metrics.get("dataset") or {}).get("train"))


def export(home: Path, project: str, state: dict) -> None:
    if state.get("exported"):
        return
    print(f"  exporting {state['run']} …", file=sys.stderr, flush=True)
    proc = cli(home, "export", project, "--run", state["run"], "--events")
    if proc.returncode != 0:
        raise SystemExit(f"export failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    state["exported"] = True


def sampling_flags(sampling: dict) -> list[str]:
    """Sampling overrides (``temperature``, ``top_p``, ``max_tokens``, ``guidance``) → ``wachat eval`` flags."""
    known = {"temperature": "--temperature", "top_p": "--top-p", "max_tokens": "--max-tokens",
             "guidance": "--guidance"}
    unknown = set(sampling) - set(known)
    if unknown:
        raise SystemExit(f"unknown sampling option(s) {sorted(unknown)}; known: {sorted(known)}")
    return [part for k, v in sorted(sampling.items()) for part in (known[k], str(v))]


def _commit() -> str:
    proc = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return proc.stdout.strip()


def evaluate(home: Path, project: str, samples: int, state: dict, flags: list[str] = ()) -> dict:
    print(f"  eval {state['run']} on {samples} cases {' '.join(flags)} …", file=sys.stderr, flush=True)
    t0 = time.time()
    proc = cli(home, "eval", project, "--run", state["run"], "--samples", str(samples), "--json", *flags)
    if proc.returncode != 0:
        raise SystemExit(f"eval failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    o = report["overall"]
    sources = o.get("sources") or {}
    base_style = ((sources.get("base") or {}).get("style_distance") or {}).get("summary")
    style, own = o.get("style_distance"), o.get("own_style_distance")
    return {"fidelity": o.get("fidelity"), "base_fidelity": o.get("base_fidelity"), "accuracy": o.get("accuracy"),
            "floor": o.get("floor"), "ceiling": o.get("ceiling"), "style_distance": style,
            "base_style_distance": base_style, "own_style_distance": own,
            "style_ratio": round(style / base_style, 3) if style is not None and base_style else None,
            "style_closed": round((base_style - style) / (base_style - own), 3)
            if None not in (style, base_style, own) and base_style > own else None,
            "copy_rate": o.get("copy_rate"), "media_only_rate": o.get("media_only_rate"),
            "real_media_only_rate": o.get("real_media_only_rate"), "leaks": o.get("leaks"),
            "n": o.get("n"), "eval_min": round((time.time() - t0) / 60, 2),
            "personas": {name: {k: p.get(k) for k in ("fidelity", "style_distance", "base_style_distance",
                                                      "own_style_distance", "copy_rate", "media_only_rate",
                                                      "real_media_only_rate")}
                         for name, p in (report.get("personas") or {}).items()}}


def _trained_elsewhere(results: dict, chat: str, train_over: dict, dataset_over: dict) -> dict:
    """The state of an exported run of this (chat, training, dataset), whatever number of cases or
    sampling it was measured with: measuring it again needs no retraining. The newest such run
    (run ids are timestamps): a ``--fresh`` retraining supersedes the runs before it."""
    states = [dict(row["state"]) for row in results.values()
              if (row.get("chat"), row.get("train"), row.get("dataset")) == (chat, train_over, dataset_over)
              and (row.get("state") or {}).get("exported")]
    return max(states, key=lambda s: str(s.get("run") or ""), default={})


def bench_one(chat: str, train_over: dict, dataset_over: dict, samples: int, results: dict, fresh: bool,
              sampling: dict | None = None) -> dict:
    trained_key = digest({"chat": chat, "train": train_over, "dataset": dataset_over, "samples": samples})
    key = digest({"chat": chat, "train": train_over, "dataset": dataset_over, "samples": samples,
                  "sampling": sampling}) if sampling else trained_key
    row = results.get(key) or {}
    if row.get("result") and not fresh:
        return row
    if fresh:
        row = {}
    name = label(train_over, dataset_over) + "".join(f" sampling.{k}={v}" for k, v in sorted((sampling or {}).items()))
    row.update(chat=chat, train=train_over, dataset=dataset_over, samples=samples, sampling=sampling or {},
               label=name, commit=_commit())
    state = row.setdefault("state", {})
    trained = _trained_elsewhere(results, chat, train_over, dataset_over)
    if not fresh and trained.get("exported") and not state.get("run"):
        state.update(trained)  # the same export, measured with other sampling or cases: no retraining
    home = bench_dir() / "homes" / f"{chat}-{digest(dataset_over)}"
    print(f"{chat}: {row['label']} [{key}]", file=sys.stderr, flush=True)
    project = ensure_project(home, chat, dataset_over)
    for stage in (lambda: train(home, project, train_flags(train_over), state),
                  lambda: export(home, project, state)):
        stage()
        save_row(key, row)
    row["result"] = evaluate(home, project, samples, state, sampling_flags(sampling or {}))
    save_row(key, row)
    return row


# --------------------------------------------------------------------------- output
def _f(value, fmt="{:.2f}") -> str:
    return "—" if value is None else fmt.format(value)


def table(rows: list[dict]) -> str:
    lines = [" | ".join(COLUMNS), " | ".join("---" for _ in COLUMNS)]
    for row in rows:
        s, r = row.get("state") or {}, row.get("result") or {}
        rss = s.get("peak_rss_mb")
        lines.append(" | ".join([
            row["chat"], row["label"] + (f" (samples {row['samples']})" if row.get("samples") else ""),
            _f(r.get("fidelity")), _f(r.get("style_distance"), "{:.3f}"), _f(r.get("style_ratio")),
            _f(r.get("own_style_distance"), "{:.3f}"), _f(r.get("style_closed"), "{:.0%}"),
            _f(r.get("copy_rate"), "{:.1%}"),
            f"{_f(r.get('media_only_rate'), '{:.0%}')} ({_f(r.get('real_media_only_rate'), '{:.0%}')})",
            _f(r.get("leaks"), "{}"), _f(rss / 1024 if rss else None, "{:.1f}"), _f(s.get("tokens_per_s"), "{:.0f}"),
            _f(s.get("cpu_min"), "{:.1f}"), _f(s.get("wall_min"), "{:.1f}"), _f(s.get("steps"), "{}"),
            _f(s.get("load"), "{:.1f}")]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chat", choices=[*CHATS, "all"], default="all")
    ap.add_argument("--samples", type=int, default=200,
                    help="held-out cases per chat for `wachat eval` (default 200, as many as the chat has: "
                         "74 on demo, 102 on sam_noor)")
    ap.add_argument("--max-steps", type=int, help="shorthand for --train max_steps=N")
    ap.add_argument("--train", action="append", default=[], metavar="FIELD=VALUE", help="a TrainConfig override")
    ap.add_argument("--dataset", action="append", default=[], metavar="FIELD=VALUE", help="a DatasetOptions override")
    ap.add_argument("--sampling", action="append", default=[], metavar="FIELD=VALUE",
                    help="eval-only: temperature, top_p, max_tokens or guidance (the same export, no retraining)")
    ap.add_argument("--fresh", action="store_true", help="rerun even when this configuration has a cached result")
    ap.add_argument("--table", action="store_true", help="print the cached results and exit")
    ap.add_argument("--json", type=Path, help="also write the rows of this invocation as JSON")
    args = ap.parse_args(argv)

    results = load_results()
    if args.table:
        print(table([r for r in results.values() if r.get("result")]))
        return 0
    train_over = parse_pairs(args.train)
    if args.max_steps:
        train_over["max_steps"] = args.max_steps
    dataset_over = parse_pairs(args.dataset)
    chats = list(CHATS) if args.chat == "all" else [args.chat]
    sampling = parse_pairs(args.sampling)
    rows = [bench_one(chat, train_over, dataset_over, args.samples, results, args.fresh, sampling) for chat in chats]
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
