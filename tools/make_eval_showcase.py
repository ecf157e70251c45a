"""Measure the fidelity report the Eval pane shows in snapshots, screenshots and fast tests.

    python tools/make_eval_showcase.py        # rewrites wachat_tui/data/showcase_eval.json

A real measurement, as `wachat eval` makes one: the bundled demo chat imported under a
temporary WACHAT_HOME, the embedded GGUF through llama.cpp as both "base" (seed 0) and
"fine-tuned" (seed 1, so the two write different replies), 14 balanced held-out cases, every
case kept as an example (the blind test plays them). About 2–8 minutes on 2 cores.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "wachat_tui" / "data" / "showcase_eval.json"
CASES = 14


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["WACHAT_HOME"] = tempfile.mkdtemp(prefix="wachat-eval-showcase-")
    from wachat_tui.core.embedded import default_gguf
    from wachat_tui.core.project import import_export
    from wachat_tui.eval.backends import GGUFBackend
    from wachat_tui.eval.cases import load_eval_data
    from wachat_tui.eval.measure import measure
    from wachat_tui.paths import demo_export

    project = import_export(demo_export(), "Maya", name="demo")
    data = load_eval_data(Path(project.dir))
    with GGUFBackend(default_gguf(), name="smollm2", seed=0) as base, \
            GGUFBackend(default_gguf(), name="smollm2-seed1", seed=1) as tuned:
        report = measure(data, tuned, base=base, cap=CASES, n_examples=CASES)
    OUT.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {report.overall.n} cases, fidelity {report.overall.fidelity}, {report.settings['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
