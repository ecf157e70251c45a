"""`wachat train P [--base …] [--qlora/--lora] [--epochs N] [--max-steps N] [--resume [RUN]] [--events]`."""
from __future__ import annotations

import signal
import sys

HELP = "fine-tune a LoRA/QLoRA adapter on a project's chat (live progress; --events for JSON lines)"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--base", help="base model: hub id, local HF folder, or embedded:smollm2-135m "
                                       "(default: TinyLlama-1.1B-Chat on a CUDA GPU, else the embedded SmolLM2-135M)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--qlora", dest="mode", action="store_const", const="qlora",
                      help="4-bit NF4 base + LoRA (default on CUDA)")
    mode.add_argument("--lora", dest="mode", action="store_const", const="lora",
                      help="full-precision base + LoRA (default on the CPU)")
    parser.add_argument("--epochs", type=float, help="passes over the training samples (default 3)")
    parser.add_argument("--max-steps", type=int, help="stop after N optimizer steps (overrides --epochs)")
    parser.add_argument("--eval-steps", type=int, help="evaluate every N steps (default: ~8 times per run)")
    parser.add_argument("--save-steps", type=int, help="checkpoint every N steps (default: with each evaluation)")
    parser.add_argument("--batch-size", type=int, help="samples per batch (default 4 on CPU, 8 on GPU)")
    parser.add_argument("--grad-accum", type=int, help="batches per optimizer step (default 1)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default 2e-4)")
    parser.add_argument("--rank", type=int, help="LoRA rank (default 16 on CPU, 64 on GPU)")
    parser.add_argument("--alpha", type=int, help="LoRA alpha (default 2 x rank)")
    parser.add_argument("--seq-len", type=int, help="max tokens per sample (default 768 CPU / 1024 GPU)")
    parser.add_argument("--batching", choices=["auto", "grouped", "padding_free", "padded"],
                        help="how samples share a batch (default auto)")
    parser.add_argument("--early-stopping", type=int, metavar="N",
                        help="stop after N evaluations without a better validation loss")
    parser.add_argument("--eval-samples", type=int, metavar="N",
                        help="validation samples per evaluation (default 16 on CPU, all on GPU)")
    parser.add_argument("--samples", type=int, metavar="N", help="replies generated at each evaluation (default 2)")
    parser.add_argument("--seed", type=int, help="random seed (default 42)")
    parser.add_argument("--resume", nargs="?", const=True, default=False, metavar="RUN",
                        help="continue the latest (or the given) run from its last checkpoint")
    parser.add_argument("--list", action="store_true", help="list the project's runs and exit")
    parser.add_argument("--events", action="store_true", help="print JSON-lines events instead of a progress bar")


def build_config(args):
    from ..train.config import TrainConfig

    return TrainConfig.for_device(
        None, base=args.base, mode=args.mode, epochs=args.epochs, max_steps=args.max_steps,
        eval_steps=args.eval_steps, save_steps=args.save_steps, batch_size=args.batch_size,
        grad_accum=args.grad_accum, learning_rate=args.lr, rank=args.rank, alpha=args.alpha,
        max_seq_len=args.seq_len, batching=args.batching, early_stopping_patience=args.early_stopping,
        eval_max_samples=args.eval_samples, n_samples=args.samples, seed=args.seed,
    ).validate()


def run(args) -> int:
    from ..core.project import Project, set_last_project
    from ..errors import WachatError
    from ..train.runner import find_run, list_runs, start_training

    project = Project.open(args.project)
    if args.list:
        return _list(project)
    config = build_config(args)
    resume = args.resume
    if resume:
        run_info = find_run(project.dir, None if resume is True else resume)
        if run_info.status == "finished":
            raise WachatError(f"run {run_info.run_id} already finished",
                              "start a new run (without --resume), or export it with `wachat export`")
        resume = run_info.run_id
        given = [o for o in ("base", "mode", "epochs", "max_steps", "eval_steps", "save_steps", "batch_size",
                             "grad_accum", "lr", "rank", "alpha", "seq_len", "batching") if getattr(args, o) is not None]
        if given and not args.events:
            print(f"wachat: note: a resumed run keeps its own settings; ignoring --{', --'.join(g.replace('_', '-') for g in given)}",
                  file=sys.stderr)
    try:
        set_last_project(project.name)
    except OSError:
        pass
    proc = start_training(project.dir, config, resume=resume)

    # Ctrl-C: ask the worker to save and stop (it is in its own session, so the terminal's
    # SIGINT reaches only us), and keep reading its events until it is done.
    def on_sigint(signum, frame):
        if not proc.cancelled:
            print("\nwachat: stopping after this step (saving a checkpoint)… press Ctrl-C again to force",
                  file=sys.stderr, flush=True)
            proc.cancel_async()
        else:
            proc.proc.kill()

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        final = _print_events(proc) if args.events else _show_progress(proc, project.name)
    finally:
        signal.signal(signal.SIGINT, old)
    if final is None:
        raise WachatError("training ended without a result", "see <project>/runs/train.log")
    if final.name == "finished":
        return 0
    if final.error == "cancelled":
        if not args.events:
            print(f"wachat: training cancelled — {final.hint}", file=sys.stderr)
        return 130
    if args.events:
        return 1
    raise WachatError(final.error, final.hint or None)


def _print_events(proc):
    final = None
    for event in proc.events():
        try:
            print(event.to_json(), flush=True)
        except BrokenPipeError:
            pass
        if event.name in ("finished", "failed"):
            final = event
    return final


def _fmt_ctx(context: list, width: int = 70) -> str:
    lines = []
    for turn in context[-3:]:
        text = " ".join(str(turn.get("text", "")).split())
        lines.append(f"    [dim]{turn.get('author', '?')}:[/] {_esc(text[:width])}")
    return "\n".join(lines)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _show_progress(proc, project: str):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=False)
    final = None
    live = console.is_terminal
    progress = Progress(TextColumn("[bold]training[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss [cyan]{task.fields[loss]}[/]"),
                        TextColumn("{task.fields[rate]} tok/s"),
                        TextColumn("ETA {task.fields[eta]}"), TimeElapsedColumn(),
                        console=console, disable=not live, transient=False)
    task = None
    with progress:
        for ev in proc.events():
            if ev.name == "log":
                if ev.level != "info" or not live:
                    progress.console.print(f"[dim]{_esc(ev.message)}[/]")
                else:
                    progress.console.print(f"[dim]{_esc(ev.message)}[/]")
            elif ev.name == "started":
                c = ev.config
                progress.console.print(
                    f"[bold]{_esc(project)}[/]: {c.get('mode')} on {_esc(str(c.get('base_model')))} ({ev.device}) · "
                    f"{ev.train_samples} train / {ev.validation_samples} validation samples · "
                    f"{ev.trainable_params:,} trainable of {ev.total_params:,} params · run {c.get('run_id')}")
                task = progress.add_task("train", total=ev.max_steps, loss="–", rate="–", eta="–")
            elif ev.name == "step" and task is not None:
                eta = "–" if ev.eta_s is None else _duration(ev.eta_s)
                progress.update(task, completed=ev.step, loss=f"{ev.loss:.3f}" if ev.loss is not None else "–",
                                rate=f"{ev.tokens_per_s:.0f}" if ev.tokens_per_s else "–", eta=eta)
                if not live and ev.step % 10 == 0:
                    console.print(f"step {ev.step}/{ev.max_steps} loss {ev.loss:.3f}")
            elif ev.name == "evaluated":
                tag = "base model" if ev.step == 0 else f"step {ev.step}"
                best = " [green]★ best, adapter saved[/]" if ev.best else ""
                progress.console.print(f"[bold]eval[/] {tag}: validation loss {ev.eval_loss:.4f} "
                                       f"(perplexity {ev.perplexity:.1f}){best}")
            elif ev.name == "sampled":
                progress.console.print(_fmt_ctx(ev.context))
                progress.console.print(f"    [green]{_esc(ev.persona)} (real):[/] {_esc(' '.join(ev.real.split())[:90])}")
                progress.console.print(f"    [magenta]{_esc(ev.persona)} (model):[/] "
                                       f"{_esc(' '.join(ev.generated.split())[:90])}")
            elif ev.name == "checkpointed":
                pass
            elif ev.name in ("finished", "failed"):
                final = ev
    if final is not None and final.name == "finished":
        m = final.metrics
        base, best = m.get("base_eval_loss"), m.get("best_eval_loss")
        line = f"[bold green]done[/]: adapter in {final.path}"
        if best is not None:
            line += f" · best validation loss {best:.4f} at step {m.get('best_step')}"
        if base is not None and best is not None:
            line += f" (base model {base:.4f})"
        console.print(line)
        console.print(f"next: wachat eval {project} · wachat export {project}")
    return final


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _list(project) -> int:
    from ..train.runner import list_runs

    runs = list_runs(project.dir)
    if not runs:
        print(f"{project.name}: no training runs yet (start one with `wachat train {project.name}`)")
        return 0
    print(f"{'run':20} {'status':10} {'steps':>11} {'base loss':>10} {'best loss':>10}  base model")
    for r in runs:
        base = "–" if r.base_eval_loss is None else f"{r.base_eval_loss:.4f}"
        best = "–" if r.best_eval_loss is None else f"{r.best_eval_loss:.4f}"
        print(f"{r.run_id:20} {r.status:10} {f'{r.step}/{r.max_steps}':>11} {base:>10} {best:>10}  {r.base_model}")
    return 0
