"""`wachat eval P [--run R | --model FILE.gguf] [--samples N] [--json]`: does the model text like the person?

The work is :func:`wachat_tui.eval.runs.evaluate`; this module parses, shows progress on stderr
and prints the report (``wachat_tui.eval.render``) or its JSON.
"""
from __future__ import annotations

import sys
import time

HELP = "how closely the model texts like each persona: fine-tuned vs base model vs the real replies"


def add_arguments(parser) -> None:
    from .chat import add_guidance_argument

    parser.add_argument("project", help="project name (see `wachat projects`)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run", help="run id (default: the latest run with an adapter); its newest export is "
                                     "measured, or its adapter when it has no export yet")
    which.add_argument("--model", metavar="FILE.gguf", help="measure this GGUF instead (or `embedded`)")
    parser.add_argument("--samples", type=int, default=200, metavar="N",
                        help="held-out replies to generate, balanced over the personas (default 200)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="llama.cpp threads (default: the chat's; 1 can be faster on a busy machine)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help="sample both models at this temperature (default: the chat's, 0.8)")
    parser.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling (default: the chat's, 0.95)")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="longest reply in tokens (default: the chat's, 96)")
    add_guidance_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON (progress stays on stderr)")


class _ProgressLine:
    """`` fine_tuned 40/200 · 1.3 s/reply · ~3 min left`` on stderr, every 10 % or 15 s."""

    def __init__(self):
        self.source = None
        self.started = 0.0
        self.shown = 0.0
        self.last_tenth = -1

    def __call__(self, p) -> None:
        now = time.perf_counter()
        if p.source != self.source:
            self.source, self.started, self.shown, self.last_tenth = p.source, now, now, -1
        tenth = p.done * 10 // max(1, p.total)
        if tenth == self.last_tenth and now - self.shown < 15 and p.done != p.total:
            return
        self.last_tenth, self.shown = tenth, now
        per = (now - self.started) / max(1, p.done)
        left = per * (p.total - p.done)
        eta = f" · ~{left / 60:.0f} min left" if left >= 90 else f" · ~{left:.0f} s left" if p.done < p.total else ""
        label = p.source.replace("_", "-")
        print(f"  {label} {p.done}/{p.total} · {per:.1f} s/reply{eta}", file=sys.stderr, flush=True)


def run(args) -> int:
    from ..core.layout import ProjectFiles
    from ..core.project import Project
    from ..errors import WachatError

    if args.samples < 1:
        raise WachatError("--samples must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise WachatError("--threads must be at least 1")
    from dataclasses import replace

    from ..chat.engine import Sampling

    given = {"temperature": args.temperature, "top_p": args.top_p, "max_tokens": args.max_tokens,
             "guidance": args.guidance}
    sampling = replace(Sampling(), **{k: v for k, v in given.items() if v is not None}).validate()
    import os

    # idle OpenMP threads sleep instead of spinning (set before torch loads; see train/__main__.py)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    project = Project.open(args.project)
    from ..eval.runs import evaluate

    def log(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    try:
        outcome = evaluate(ProjectFiles(project.dir), run_id=args.run, model=args.model, cap=args.samples,
                           n_threads=args.threads, sampling=sampling, progress=_ProgressLine(), log=log)
    except KeyboardInterrupt:
        print("wachat: eval stopped — no report was saved (base replies generated in full are kept)",
              file=sys.stderr)
        return 130
    if args.json:
        import json

        print(json.dumps(outcome.report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print(outcome, project.name)
    return 0


def _print(outcome, project: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from ..eval.render import render_report

    console = Console()
    report = outcome.report
    console.print(render_report(report))
    training = report.settings.get("training") or {}
    if training.get("best_eval_loss") is not None:
        line = f"training: validation loss {_num(training.get('base_eval_loss'))} (base model) → " \
               f"{_num(training['best_eval_loss'])} at step {training.get('best_step')}"
        if training.get("best_fidelity_estimate") is not None:
            line += f" · fidelity estimate then {training['best_fidelity_estimate']:.2f}"
        console.print(Text(line, style="dim"))
    cache = report.settings.get("base_cache") or {}
    if cache.get("hit"):
        console.print(Text("base model replies came from the cache (same model, sampling and cases)", style="dim"))
    if outcome.saved is not None:
        note = f"saved {outcome.saved}"
        if outcome.exports_updated:
            note += f" · fidelity recorded on {outcome.exports_updated} export(s) in exports.json"
        console.print(Text(note, style="dim"))
    else:
        console.print(Text("this model belongs to no run of the project: the report was not saved", style="dim"))
    if outcome.target.backend == "hf":
        console.print(Text(f"measured with transformers (no export yet); `wachat export {project}` makes the GGUF "
                           "the chat uses, and eval measures that from then on", style="dim"))


def _num(value) -> str:
    return "–" if value is None else f"{value:.4f}"
