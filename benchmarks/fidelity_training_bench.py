"""Loss and fidelity at every evaluation of default training runs: when do they disagree, what does
the best-checkpoint rule choose, and what does the estimate cost.

    .venv/bin/python benchmarks/fidelity_training_bench.py                 # train the demo chat and
                                                                            # tests/fixtures/chats/en_sam_noor.txt
    .venv/bin/python benchmarks/fidelity_training_bench.py --runs RUN_DIR [RUN_DIR ...]   # analyse runs
    [--json OUT]

Training uses the defaults (`wachat train P`: embedded SmolLM2-135M, CPU), one chat after the
other, in a temporary WACHAT_HOME. For each run it prints the step × validation loss × fidelity
estimate table, where the lowest loss and the highest estimate are, which evaluation the rule
(``wachat_tui.train.best``) keeps for several loss margins, and the share of the run's wall time
spent in estimates. Takes about 15 min per chat on an idle 2-core machine; not part of the test run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHATS = (("demo", None, "Maya"), ("sam_noor", REPO / "tests" / "fixtures" / "chats" / "en_sam_noor.txt", "Sam"))
MARGINS = (0.0, 0.02, 0.05, 0.1, 0.2, 1.0)


def train(home: Path, name: str, export: Path | None, me: str) -> Path:
    from wachat_tui.paths import demo_export

    env = {**os.environ, "WACHAT_HOME": str(home)}
    source = str(export or demo_export())
    subprocess.run([sys.executable, "-m", "wachat_tui", "import", source, "--me", me, "--project", name],
                   env=env, check=True, capture_output=True)
    print(f"training {name} with the defaults …", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, "-m", "wachat_tui", "train", name, "--events"], env=env,
                          capture_output=True, text=True)
    finished = [json.loads(line) for line in proc.stdout.splitlines() if '"event": "finished"' in line]
    if not finished:
        raise SystemExit(f"training {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return Path(finished[-1]["path"]).parent


def analyse(run_dir: Path) -> dict:
    from wachat_tui.train.best import BestRule, evaluation_from_row

    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]
    started = next(e for e in events if e["event"] == "started")
    finished = next(e for e in reversed(events) if e["event"] in ("finished", "failed"))
    evals = [e for e in events if e["event"] == "evaluated"]
    wall = finished["time"] - started["time"]
    estimate_s = sum((e.get("estimate") or {}).get("seconds", 0.0) for e in evals)
    rows = [{"step": e["step"], "loss": e["eval_loss"], "fidelity": e.get("fidelity"),
             "style_distance": (e.get("estimate") or {}).get("style_distance"),
             "copy_rate": (e.get("estimate") or {}).get("copy_rate"),
             "accuracy": (e.get("estimate") or {}).get("accuracy"),
             "ceiling": (e.get("estimate") or {}).get("ceiling"), "n": (e.get("estimate") or {}).get("n"),
             "seconds": (e.get("estimate") or {}).get("seconds"), "best": e["best"]} for e in evals]
    trained = [r for r in rows if r["step"] > 0]
    history = [evaluation_from_row({"step": r["step"], "eval_loss": r["loss"], "fidelity": r["fidelity"]})
               for r in rows]
    choices = {}
    for margin in MARGINS:
        best = BestRule(loss_margin=margin).replay(history)
        choices[str(margin)] = None if best is None else {"step": best.step, "loss": best.loss,
                                                          "fidelity": best.fidelity}
    lowest = min(trained, key=lambda r: r["loss"]) if trained else None
    scored = [r for r in trained if r["fidelity"] is not None]
    most = max(scored, key=lambda r: r["fidelity"]) if scored else None
    rank = _spearman([r["loss"] for r in scored], [r["fidelity"] for r in scored]) if len(scored) > 2 else None
    return {"run": run_dir.name, "project": run_dir.parent.parent.name, "rows": rows,
            "lowest_loss_step": lowest and lowest["step"], "highest_fidelity_step": most and most["step"],
            "spearman_loss_fidelity": rank, "choices": choices, "wall_s": round(wall, 1),
            "train_s": _metrics(run_dir).get("train_seconds"), "estimate_s": round(estimate_s, 1),
            "estimate_share": round(estimate_s / wall, 4) if wall else None,
            "peak_memory_mb": _metrics(run_dir).get("peak_memory_mb")}


def _metrics(run_dir: Path) -> dict:
    path = run_dir / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _spearman(a: list[float], b: list[float]) -> float:
    def ranks(xs):
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        out = [0.0] * len(xs)
        for r, i in enumerate(order):
            out[i] = float(r)
        return out

    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return round(cov / var, 3) if var else 0.0


def show(result: dict) -> None:
    def num(v, d=3):
        return "–" if v is None else f"{v:.{d}f}"

    print(f"\n{result['project']} · run {result['run']} · wall {result['wall_s'] / 60:.1f} min, "
          f"estimates {result['estimate_s'] / 60:.1f} min = {100 * (result['estimate_share'] or 0):.1f}% of the run")
    print(f"{'step':>5} {'val loss':>9} {'fidelity':>9} {'accuracy':>9} {'ceiling':>8} {'style':>6} {'copies':>7} "
          f"{'est. s':>7}  kept")
    for r in result["rows"]:
        print(f"{r['step']:>5} {r['loss']:>9.4f} {num(r['fidelity'], 2):>9} {num(r['accuracy'], 2):>9} "
              f"{num(r['ceiling'], 2):>8} {num(r['style_distance'], 2):>6} {num(r['copy_rate'], 2):>7} "
              f"{num(r['seconds'], 0):>7}  {'★' if r['best'] else ''}")
    print(f"lowest loss at step {result['lowest_loss_step']}, highest fidelity at step "
          f"{result['highest_fidelity_step']}, Spearman(loss, fidelity) = {result['spearman_loss_fidelity']}")
    for margin, choice in result["choices"].items():
        if choice:
            print(f"  rule with loss margin {float(margin):>4.0%}: step {choice['step']} (loss {choice['loss']:.4f}, "
                  f"fidelity {num(choice['fidelity'], 2)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", nargs="+", type=Path, help="analyse these run folders instead of training")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    if args.runs:
        runs = args.runs
    else:
        home = Path(tempfile.mkdtemp(prefix="wachat-fidelity-bench-"))
        runs = [train(home, name, export, me) for name, export, me in CHATS]
    results = [analyse(run) for run in runs]
    for result in results:
        show(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
