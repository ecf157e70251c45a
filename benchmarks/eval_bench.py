"""The fidelity measure's own yardsticks on the demo chat: ceiling, floor, and what a measurement costs.

    .venv/bin/python benchmarks/eval_bench.py [--cases 200] [--threads N] [--model FILE.gguf] [--json OUT]

Imports the demo chat into a temporary WACHAT_HOME, then measures the real held-out replies
(ceiling; real-vs-real fidelity is 1.0 by construction) against the embedded base model through
llama.cpp with the chat's sampling (the floor), and prints the report, the seconds per
generated reply and the time a 200-case measurement of one model would take at that rate.
``--threads 1`` is much faster on a machine other processes are using (llama.cpp's threads
wait for each other by spinning). Not part of the test run.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200, help="held-out cases (capped by what the demo has)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: the chat's)")
    ap.add_argument("--model", help="GGUF to use as the base (default: the embedded model)")
    ap.add_argument("--json", help="write the report here")
    args = ap.parse_args()

    from rich.console import Console

    from wachat_tui.core.embedded import default_gguf
    from wachat_tui.eval.backends import GGUFBackend, RealBackend
    from wachat_tui.eval.cases import load_eval_data
    from wachat_tui.eval.measure import build_yardsticks, measure
    from wachat_tui.eval.render import render_report
    from wachat_tui.paths import demo_export

    home = Path(tempfile.mkdtemp(prefix="wachat-eval-bench-"))
    env = {**os.environ, "WACHAT_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "wachat_tui", "import", str(demo_export()), "--me", "Maya",
                    "--project", "demo"], env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    data = load_eval_data(home / "projects" / "demo")
    yard = build_yardsticks(data)
    fit_s = time.perf_counter() - t0

    def progress(p) -> None:
        if p.done % 10 == 0 or p.done == p.total:
            print(f"  {p.source} {p.done}/{p.total}", file=sys.stderr, flush=True)

    model = Path(args.model) if args.model else default_gguf()
    with GGUFBackend(model, name=model.name, n_threads=args.threads) as base:
        report = measure(data, RealBackend(), base=base, cap=args.cases, yardsticks=yard, progress=progress)
    n = report.overall.n
    gen_s = report.settings["generation_seconds"]["base"]
    console = Console(width=170)
    console.print(render_report(report))
    o = report.overall
    console.print(f"ceiling {o.ceiling:.3f} · floor {o.floor:.3f} · chance {o.chance:.3f} · base fidelity "
                  f"{o.base_fidelity:.3f} · base style distance {o.base_style_distance:.3f} · {n} cases")
    console.print(f"yardsticks fitted in {fit_s:.1f} s; {gen_s:.0f} s for {n} replies = {gen_s / n:.2f} s/reply "
                  f"→ a 200-case measurement of one model ≈ {200 * gen_s / n / 60:.1f} min "
                  f"(base + fine-tuned ≈ {400 * gen_s / n / 60:.1f} min)")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
