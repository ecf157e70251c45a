"""`wachat eval P [--run R]`: did the fine-tune learn the persona?"""
from __future__ import annotations

import sys

HELP = "compare base vs fine-tuned: validation loss/perplexity and the style of generated replies"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--run", help="run id (default: the latest run with an adapter)")
    parser.add_argument("--samples", type=int, default=8, metavar="N",
                        help="held-out replies to generate for the style comparison (default 8)")
    parser.add_argument("--max-samples", type=int, metavar="N",
                        help="validation samples for the loss comparison (default: all)")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")


def run(args) -> int:
    from ..core.layout import find_run
    from ..core.project import Project
    from ..errors import WachatError

    if args.samples < 0:
        raise WachatError("--samples must not be negative")
    if args.max_samples is not None and args.max_samples < 1:
        raise WachatError("--max-samples must be at least 1")
    import os

    # idle OpenMP threads sleep instead of spinning (set before torch loads; see train/__main__.py)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    project = Project.open(args.project)
    record = find_run(project.dir, args.run, need_adapter=True)
    from ..train.evaluate import evaluate_run

    def log(msg: str) -> None:
        if not args.json:
            print(f"  {msg}", file=sys.stderr, flush=True)

    res = evaluate_run(record, n_samples=args.samples, max_samples=args.max_samples, log=log)
    if args.json:
        import json

        print(json.dumps(res, ensure_ascii=False, indent=2))
        return 0
    _print(res)
    return 0


def _fmt(x, pct=False, digits=2) -> str:
    if x is None:
        return "–"
    return f"{x * 100:.0f}%" if pct else f"{x:.{digits}f}"


def _print(res: dict) -> None:
    from rich.console import Console
    from rich.markup import escape as escape_markup
    from rich.table import Table

    from ..display import safe

    def escape(text) -> str:  # names, contexts and replies (real and generated) are untrusted
        return escape_markup(safe(text))

    console = Console()
    b, t, r = res["base"], res["fine_tuned"], res["real"]
    console.print(f"[bold]run {escape(res['run_id'])}[/] on {escape(res['base_model'])} · "
                  f"{res['validation_samples']} validation samples, {res['persona_tokens']:,} persona tokens")
    loss = Table(title="validation (persona replies only)", title_justify="left")
    loss.add_column("")
    loss.add_column("base", justify="right")
    loss.add_column("fine-tuned", justify="right")
    loss.add_row("loss", _fmt(b["eval_loss"], digits=4), _fmt(t["eval_loss"], digits=4))
    loss.add_row("perplexity", _fmt(b["perplexity"], digits=1), _fmt(t["perplexity"], digits=1))
    console.print(loss)
    change = res["loss_change"]
    pct = change / b["eval_loss"] * 100 if b["eval_loss"] else 0
    verdict = "[green]learned[/]" if change < -0.05 else "[yellow]barely changed[/]" if change < 0.02 else "[red]worse[/]"
    console.print(f"loss change {change:+.4f} ({pct:+.1f}%) → {verdict}")
    if r["style"]["n"]:
        style = Table(title=f"style of {r['style']['n']} generated replies vs the real ones", title_justify="left")
        for col in ("", "real", "base", "fine-tuned"):
            style.add_column(col, justify="right" if col else "left")
        rows = [("mean length (chars)", "mean_chars", False, 1), ("emoji per reply", "emoji_per_reply", False, 2),
                ("laugh rate", "laugh_rate", True, 0), ("all-lowercase", "lowercase_ratio", True, 0)]
        for label, key, pct_, d in rows:
            style.add_row(label, _fmt(r["style"][key], pct_, d), _fmt(b["style"][key], pct_, d),
                          _fmt(t["style"][key], pct_, d))
        style.add_row("vocabulary overlap w/ real", "", _fmt(b["vocab_overlap"], True), _fmt(t["vocab_overlap"], True))
        console.print(style)
        for s in res["samples"][:4]:
            ctx = s["context"][-1] if s["context"] else {"author": "?", "text": ""}
            console.print(f"[dim]{escape(ctx['author'])}:[/] {escape(' '.join(ctx['text'].split())[:80])}")
            console.print(f"   real       {escape(s['persona'])}: {escape(' '.join(s['real'].split())[:80])}")
            console.print(f"   base       {escape(s['persona'])}: {escape(' '.join(s['base'].split())[:80])}")
            console.print(f"   fine-tuned {escape(s['persona'])}: {escape(' '.join(s['fine_tuned'].split())[:80])}")
