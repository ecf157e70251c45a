"""`wachat train P [--resume [RUN]] [--list] [--events] [training options]`.

The training options are generated from ``TrainConfig`` (``train/flags.py``), the same ones the
training process takes, so the two never drift apart.
"""
from __future__ import annotations

import signal
import sys

from ..display import safe

HELP = "fine-tune a LoRA/QLoRA adapter on a project's chat (live progress; --events for JSON lines)"


def add_arguments(parser) -> None:
    from ..train.flags import add_config_arguments

    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--resume", nargs="?", const=True, default=False, metavar="RUN",
                        help="continue the latest (or the given) run from its last checkpoint")
    parser.add_argument("--list", action="store_true", help="list the project's runs and exit")
    parser.add_argument("--events", action="store_true", help="print JSON-lines events instead of a progress bar")
    add_config_arguments(parser)


def build_config(args):
    """The run's configuration: the device's defaults, then the options given (validated)."""
    from ..train.config import TrainConfig
    from ..train.flags import config_overrides

    overrides = config_overrides(args)
    return TrainConfig.for_device(overrides.pop("device", None), **overrides).validate()


def run(args) -> int:
    from ..core.layout import find_run
    from ..core.lock import ProjectBusy, lock_holder
    from ..core.project import Project, set_last_project
    from ..errors import WachatError
    from ..train.flags import config_overrides, option_names
    from ..train.runner import start_training

    project = Project.open(args.project)
    if args.list:
        return _list(project)
    config = build_config(args)
    busy = lock_holder(project, "training")
    if busy is not None:  # the worker would refuse too; say so before starting one
        raise ProjectBusy(project.name, "training", busy, 0)
    resume = args.resume
    if resume:
        record = find_run(project.dir, None if resume is True else resume)
        if record.status == "finished":
            raise WachatError(f"run {record.run_id} already finished",
                              "start a new run (without --resume), or export it with `wachat export`")
        resume = record.run_id
        names = option_names()
        given = [names[k] for k in config_overrides(args) if k != "device"]
        if given and not args.events:
            print(f"wachat: note: a resumed run keeps its own settings; ignoring {', '.join(given)}",
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
        from ..core.layout import ProjectFiles

        raise WachatError("training ended without a result", f"see {ProjectFiles(project.dir).train_log}")
    if final.name == "finished":
        return 0
    if final.error == "cancelled":
        if not args.events:
            print(f"wachat: training cancelled — {safe(final.hint)}", file=sys.stderr)
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
        lines.append(f"    [dim]{_esc(turn.get('author', '?'))}:[/] {_esc(text[:width])}")
    return "\n".join(lines)


def _esc(text) -> str:
    """Untrusted text (names, messages, generated replies, paths) for a Rich markup line."""
    from rich.markup import escape

    return escape(safe(text))


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
                progress.console.print(f"[dim]{_esc(ev.message)}[/]")
            elif ev.name == "started":
                from ..train.config import describe_base

                c = ev.config
                progress.console.print(
                    f"[bold]{_esc(project)}[/]: {c.get('mode')} on {_esc(describe_base(c.get('base_model')))} "
                    f"({ev.device}) · "
                    f"{ev.train_samples} train / {ev.validation_samples} validation samples · "
                    f"{ev.trainable_params:,} trainable of {ev.total_params:,} params · run {_esc(c.get('run_id'))}")
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
                                       f"(perplexity {ev.perplexity:.1f}){_fidelity_note(ev)}{best}")
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
        line = f"[bold green]done[/]: adapter in {_esc(final.path)}"
        if best is not None:
            line += f" · best validation loss {best:.4f} at step {m.get('best_step')}"
        if base is not None and best is not None:
            line += f" (base model {base:.4f})"
        if m.get("best_fidelity") is not None:
            line += f" · fidelity ≈ {m['best_fidelity']:.2f} (estimate)"
        console.print(line)
        console.print(f"next: wachat eval {project} · wachat export {project}")
    return final


def _fidelity_note(ev) -> str:
    """`` · fidelity ≈ 0.42 (24 replies)`` for an evaluation that carries an estimate."""
    if ev.estimate is None:
        return ""
    n = ev.estimate.get("n")
    if ev.fidelity is None:
        return f" · fidelity undefined ({n} replies)"
    style = ev.estimate.get("style_distance")
    extra = f", style distance {style:.2f}" if style is not None else ""
    return f" · fidelity ≈ [cyan]{ev.fidelity:.2f}[/] ({n} replies{extra})"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _list(project) -> int:
    from ..core.layout import list_runs

    runs = list_runs(project.dir)
    if not runs:
        print(f"{project.name}: no training runs yet (start one with `wachat train {project.name}`)")
        return 0
    print(f"{'run':20} {'status':10} {'steps':>11} {'base loss':>10} {'best loss':>10} {'at step':>8} "
          f"{'fidelity':>9}  base model")
    for r in runs:
        base = "–" if r.base_eval_loss is None else f"{r.base_eval_loss:.4f}"
        best = "–" if r.best_eval_loss is None else f"{r.best_eval_loss:.4f}"
        at = "–" if r.best_step is None else str(r.best_step)
        fid = "–" if r.best_fidelity is None else f"{r.best_fidelity:.2f}"
        print(f"{r.run_id:20} {r.status:10} {f'{r.step}/{r.max_steps}':>11} {base:>10} {best:>10} {at:>8} "
              f"{fid:>9}  {safe(r.base_model)}")
    return 0
