"""Train pane: run settings, start/cancel/resume, live progress, loss chart, sample replies.

The run is a separate process (``python -m wachat_tui.train``) started by the training
runner; a thread worker reads its JSON-lines events and posts snapshots. Quitting the app
while a run is going asks first, then cancels it cleanly: the process gets SIGINT, saves a
resumable checkpoint and exits, so nothing is ever half-written; `R` resumes it later.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import fields, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, ProgressBar, Select, SelectionList, Static
from textual.widgets.option_list import Option

from ...core.layout import list_runs
from ...display import safe, safe_text
from ...errors import WachatError
from ...core import embedded
from ...train.config import GPU_DEFAULT_BASE as TINYLLAMA
from ...train.config import GPU_MULTILINGUAL_BASE as QWEN
from ...train.config import default_base, default_base_reason, describe_base
from ..messages import TaskFailed, TrainingEnded, TrainingProgressed
from ..runstate import RunView, fold, fold_all
from ..util import one_line
from ..widgets.bubble import ChatTurn
from ..widgets.charts import fmt_count, fmt_duration
from ..widgets.loss_chart import FidelityChart, LossChart
from .base import PaneScreen

# (field, label, kind) shown in the form; other TrainConfig fields keep their defaults
FORM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("epochs", "Epochs", "float"),
    ("max_steps", "Max steps", "int?"),
    ("learning_rate", "Learning rate", "float"),
    ("rank", "LoRA rank", "int"),
    ("batch_size", "Batch size", "int"),
    ("max_seq_len", "Max tokens", "int"),
    ("eval_steps", "Eval every", "int?"),
)


def cheap_device_guess() -> str:
    """``cuda`` only when an NVIDIA driver is visible (confirmed with torch in a worker)."""
    if os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi"):
        return "cuda?"
    return "cpu"


class _TrainingCloser:
    def __init__(self, proc) -> None:
        self.proc = proc

    def active(self) -> bool:
        return self.proc.returncode is None

    def close(self) -> None:
        self.proc.cancel()


# The bases offered in the form: the embedded models, then wachat's two hub defaults for a GPU.
BASE_CHOICES = [(f"{m.label} (embedded)", m.base_name) for m in embedded.EMBEDDED.values()] + [
    ("TinyLlama-1.1B-Chat", TINYLLAMA), ("Qwen2.5-1.5B-Instruct", QWEN)]
BASE_VALUES = [value for _, value in BASE_CHOICES]


class TrainScreen(PaneScreen):
    MODE = "train"
    MAIN_FOCUS = "#runs"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", tooltip="Start a new training run with these settings"),
        Binding("c", "cancel", "Cancel", tooltip="Stop the run cleanly (it saves a checkpoint)"),
        Binding("r", "resume", "Resume", tooltip="Resume the last unfinished run from its checkpoint"),
        Binding("d", "defaults", "Defaults", show=False, tooltip="Reset the form to the device defaults"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.device = cheap_device_guess()
        self.proc = None
        self.view = RunView()
        self._shown_run: str | None = None
        self._samples_shown = 0
        self._default_base: str | None = None  # the default base the form was last filled with

    # -- layout ---------------------------------------------------------------------------
    def compose_pane(self) -> ComposeResult:
        with Horizontal(id="train-body"):
            with VerticalScroll(id="train-form", classes="panel") as form:
                form.border_title = "Run settings"
                yield Static("", id="device-line")
                with Horizontal(classes="form-row"):
                    yield Label("Base", classes="form-label")
                    yield Select(BASE_CHOICES, value=embedded.DEFAULT.base_name, allow_blank=False, id="base",
                                 compact=True)
                yield Static("", id="base-note")
                with Horizontal(classes="form-row"):
                    yield Label("Method", classes="form-label")
                    yield Select([("LoRA", "lora"), ("QLoRA (4-bit)", "qlora")], value="lora",
                                 allow_blank=False, id="mode", compact=True)
                for name, label, kind in FORM_FIELDS:
                    with Horizontal(classes="form-row"):
                        yield Label(label, classes="form-label")
                        yield Input("", id=f"f-{name}", classes="form-input",
                                    type="number" if kind == "float" else "integer",
                                    placeholder="auto" if kind.endswith("?") else "", compact=True)
                yield Label("Personas", classes="section-title", id="personas-title")
                yield SelectionList(id="personas", compact=True)
                yield Static("", id="plan-line")
                yield Label("Runs", classes="section-title")
                yield OptionList(id="runs")
            with Vertical(id="train-main"):
                yield Static("", id="run-status")
                yield ProgressBar(id="run-progress", show_eta=False, show_percentage=True)
                with Horizontal(id="charts"):
                    yield LossChart(id="loss")
                    fidelity = FidelityChart(id="fidelity")
                    fidelity.border_title = "fidelity (est.)"
                    fidelity.tooltip = ("A quick estimate at each evaluation on a few dozen held-out replies, sampled without "
                                        "persona guidance. It ranks this run's evaluations; `wachat eval` (or the "
                                        "Eval pane) measures the chat as it samples, guided, and usually reads higher.")
                    yield fidelity
                with VerticalScroll(id="samples", classes="panel") as samples:
                    samples.border_title = "Sample replies · real vs model"
        yield Static(Text("No project yet — press 0 to open one, or 1 to import an export.",
                          style="italic"), id="train-empty", classes="empty-state")

    def on_mount(self) -> None:
        self._fill_defaults()
        if self.device.endswith("?"):
            self._detect_device()
        self._show_view(RunView())

    # -- device & defaults ----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="device")
    def _detect_device(self) -> None:
        from ...train.config import detect_device  # imports torch: in this worker thread, never at startup

        self.app.call_from_thread(self._device_detected, detect_device())

    def _device_detected(self, device: str) -> None:
        self.device = device
        if self.proc is None:
            self._fill_defaults()

    def _defaults(self):
        from ...train.config import TrainConfig

        device = "cpu" if self.device.endswith("?") else self.device
        config = TrainConfig.for_device(device)
        if config.base is None:
            config.base = default_base(self._language(), device)
        return config

    def _language(self) -> str | None:
        """The project's main language (it picks the default base)."""
        report = self.project.language if self.project is not None else None
        return report.primary if report is not None else None

    def _fill_defaults(self) -> None:
        config = self._defaults()
        self._default_base = config.base
        self.query_one("#base", Select).value = config.base if config.base in BASE_VALUES else BASE_VALUES[0]
        self.query_one("#mode", Select).value = config.mode
        for name, _, kind in FORM_FIELDS:
            value = getattr(config, name, None)
            self.query_one(f"#f-{name}", Input).value = "" if value is None else _fmt_value(value)
        label = "CUDA GPU" if self.device == "cuda" else ("CPU" if self.device == "cpu" else "…")
        line = Text.assemble((label, "bold"), (" → ", "dim"), ("QLoRA" if self.device == "cuda" else "LoRA"),
                             (" defaults", "dim"))
        self.query_one("#device-line", Static).update(line)
        self._show_base_note()

    def _follow_language(self) -> None:
        """Another project (or a re-imported one) may speak another language: when the form
        still shows the previous default base, show this project's default instead."""
        device = "cpu" if self.device.endswith("?") else self.device
        new = default_base(self._language(), device)
        select = self.query_one("#base", Select)
        if select.value == self._default_base and new in BASE_VALUES:
            select.value = new
        self._default_base = new
        self._show_base_note()

    def _show_base_note(self) -> None:
        """The chosen base's licence, and whether it is the default for this chat's language."""
        chosen = self.query_one("#base", Select).value
        device = "cpu" if self.device.endswith("?") else self.device
        note = Text(describe_base(chosen).split(" · ", 1)[-1], style="dim")
        if chosen == default_base(self._language(), device):
            note.append(f" · {default_base_reason(self._language(), device)}", style="dim italic")
        self.query_one("#base-note", Static).update(note)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _form_changed(self) -> None:
        self._update_plan()
        self._show_base_note()

    def _update_plan(self) -> None:
        """How long the run on screen would be: steps over the project's training samples."""
        line = self.query_one("#plan-line", Static)
        if self.project is None:
            line.update("")
            return
        counts = self.project.config.get("counts") or {}
        n_train = int(counts.get("samples_train") or 0)
        try:
            config = self.config_from_form()
        except WachatError as exc:
            line.update(Text(f"✗ {safe(one_line(exc))}", style="red"))
            return
        steps = config.total_steps(n_train) if n_train else 0
        tokens = (counts.get("tokens_estimate") or {}).get("train")
        text = Text.assemble(("≈ ", "dim"), (f"{steps:,}", "bold"), " steps over ",
                             (f"{n_train:,}", "bold"), " samples")
        if tokens:
            text.append(f" (~{tokens / 1000:.0f}k tokens/epoch)", style="dim")
        if n_train:
            text.append("\n" + self._cost_line(config), style="dim")
        line.update(text)

    def _cost_line(self, config) -> str:
        """How long and how much memory (train.cost), from this machine's earlier runs' rates."""
        from ...paths import projects_dir
        from ...train.cost import estimate_for_project

        return estimate_for_project(self.project.dir, config, projects_dir()).line()

    def action_defaults(self) -> None:
        self._fill_defaults()

    def config_from_form(self):
        """The TrainConfig on screen (validated); raises WachatError with a sentence."""
        config = self._defaults()
        config.base = self.query_one("#base", Select).value
        config.mode = self.query_one("#mode", Select).value
        known = {f.name for f in fields(config)}
        for name, label, kind in FORM_FIELDS:
            if name not in known:
                continue
            raw = self.query_one(f"#f-{name}", Input).value.strip()
            if not raw:
                if kind.endswith("?"):
                    setattr(config, name, None)
                continue
            try:
                value = float(raw) if kind == "float" else int(raw)
            except ValueError:
                raise WachatError(f"{label.lower()} must be a number, not {raw!r}") from None
            setattr(config, name, value)
        personas = self.query_one("#personas", SelectionList)
        ticked = list(personas.selected)
        if personas.option_count > 1 and len(ticked) < personas.option_count:
            if not ticked:
                raise WachatError("tick at least one persona to train")
            config.personas = tuple(ticked)
        return config.validate()

    # -- project & runs -------------------------------------------------------------------
    def project_changed(self, project) -> None:
        self.query_one("#train-empty").display = project is None
        self.query_one("#train-body").display = project is not None
        if project is None:
            return
        if self.proc is None:
            self._follow_language()
        personas = self.query_one("#personas", SelectionList)
        with self.prevent(SelectionList.SelectedChanged):
            personas.clear_options()
            personas.add_options([(safe_text(p), p, True) for p in project.personas])
        many = len(project.personas) > 1
        personas.display = self.query_one("#personas-title").display = many
        self._update_plan()
        if self.proc is None:
            self._refresh_runs(show_latest=True)

    def _refresh_runs(self, show_latest: bool = False) -> None:
        if self.project is None:
            return
        try:
            runs = list_runs(self.project.dir)
        except OSError as exc:  # the runs folder cannot be read (permissions, a vanished disk)
            runs = []
            self.query_one("#run-status", Static).update(Text(safe(one_line(exc)), style="red"))
        options = self.query_one("#runs", OptionList)
        options.clear_options()
        for record in reversed(runs):  # newest first
            mark = {"finished": ("✓", "green"), "failed": ("✗", "red"), "cancelled": ("■", "yellow"),
                    "running": ("●", "cyan")}.get(record.status, ("·", "dim"))
            best = record.best_eval_loss
            fidelity = record.best_fidelity
            label = Text.assemble((mark[0] + " ", mark[1]), (record.run_id[:22], "bold"),
                                  (f"  {best:.3f}" if isinstance(best, (int, float)) else "", "dim"),
                                  (f" · {fidelity:.2f}" if isinstance(fidelity, (int, float)) else "", "dim"))
            options.add_option(Option(label, id=str(record.path)))
        if runs and show_latest:
            options.highlighted = 0
            self._show_run(options.get_option_at_index(0).id)
        elif not runs:
            self._show_view(RunView())
            self.query_one("#run-status", Static).update(Text(
                "No runs yet. Check the settings and press ctrl+s to start training.", style="italic"))

    @on(OptionList.OptionHighlighted, "#runs")
    def _run_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.proc is None and event.option.id:
            self._show_run(event.option.id)

    def _show_run(self, run_dir: str) -> None:
        if self._shown_run == run_dir:
            return
        self._shown_run = run_dir
        self._load_run(run_dir)

    @work(thread=True, exclusive=True, group="load-run")
    def _load_run(self, run_dir: str) -> None:
        from ...train.runner import load_run_events

        try:
            events = load_run_events(Path(run_dir))
        except OSError as exc:
            self.post_message(TaskFailed("loading the run", one_line(exc)))
            return
        view = fold_all(events, RunView(run_dir=run_dir))
        if view.status == "running":  # no process is writing it: the app was closed hard
            view = replace(view, status="interrupted")
        self.app.call_from_thread(self._show_view, view)

    def on_task_failed(self, message: TaskFailed) -> None:
        self.notify(message.error, title=f"{message.what.capitalize()} failed", severity="error")

    # -- start / cancel / resume ----------------------------------------------------------
    def action_start(self) -> None:
        self._start(resume=False)

    def action_resume(self) -> None:
        """Resume the highlighted run when it is unfinished, else the latest run."""
        resume: bool | str = True
        options = self.query_one("#runs", OptionList)
        if options.highlighted is not None and options.option_count:
            run_dir = Path(options.get_option_at_index(options.highlighted).id)
            if self.view.status != "finished" and run_dir.name:
                resume = run_dir.name
        self._start(resume=resume)

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "cancel":
            return self.proc is not None
        if action in ("start", "resume", "defaults"):
            return self.proc is None
        return True

    def _start(self, resume: bool | str) -> None:
        if self.project is None:
            self.notify("Open a project first (0).", severity="warning")
            return
        if self.proc is not None:
            self.notify("A run is already going; press c to cancel it.", severity="warning")
            return
        try:
            config = self.config_from_form()
        except WachatError as exc:
            self.notify(one_line(exc), title="Check the settings", severity="error")
            return
        from ...train.runner import start_training

        try:
            self.proc = start_training(self.project.dir, config, resume=resume)
        except (WachatError, OSError) as exc:  # e.g. the interpreter or the project folder went away
            self.proc = None
            self.notify(one_line(exc), title="Could not start training", severity="error")
            return
        self.app.register_closer("training", _TrainingCloser(self.proc))
        self.refresh_bindings()
        self._shown_run = None
        self._samples_shown = 0
        view = RunView(status="starting", max_steps=config.max_steps or 0)
        self._show_view(view)
        self._follow(self.proc, view)

    @work(thread=True, exclusive=True, group="training")
    def _follow(self, proc, view: RunView) -> None:
        for event in proc.events():
            view = fold(view, event)
            self.post_message(TrainingProgressed(view))
        self.post_message(TrainingEnded(view))

    def on_training_progressed(self, message: TrainingProgressed) -> None:
        self._show_view(message.view)

    def on_training_ended(self, message: TrainingEnded) -> None:
        self.proc = None
        self.app.unregister_closer("training")
        if not self.is_mounted or getattr(self.app, "_exit", False):
            return  # the app is closing: nothing to draw
        self.refresh_bindings()
        self._show_view(message.view)
        view = message.view
        if view.status == "finished":
            self.notify("Training finished. Export the model on pane 4.", title="Done")
        elif view.status == "cancelled":
            self.notify("Run cancelled; its checkpoint is saved — press r to resume.")
        else:
            self.notify(view.error or "the run failed", title="Training failed", severity="error")
        self._shown_run = view.run_dir or None
        self._refresh_runs()

    def action_cancel(self) -> None:
        if self.proc is None:
            self.notify("No run is going.", severity="warning")
            return
        self.query_one("#run-status", Static).update(
            Text("Cancelling… saving a checkpoint", style="bold yellow"))
        self.proc.cancel_async()

    # -- drawing --------------------------------------------------------------------------
    def _show_view(self, view: RunView) -> None:
        self.view = view
        self.query_one("#run-status", Static).update(status_line(view))
        bar = self.query_one("#run-progress", ProgressBar)
        if view.max_steps:
            bar.update(total=view.max_steps, progress=view.step)
        else:
            bar.update(total=None if view.status in ("starting", "running") else 100,
                       progress=100 if view.status == "finished" else 0)
        self.query_one(LossChart).set_curves(view.train_curve, view.eval_curve, view.max_steps)
        self.query_one(FidelityChart).set_points(view.fidelity_curve, view.best_step, view.max_steps)
        self._show_samples(view)

    def _show_samples(self, view: RunView) -> None:
        box = self.query_one("#samples", VerticalScroll)
        if not box.is_mounted:
            return
        samples = view.samples
        if len(samples) == self._samples_shown and samples:
            return
        self._samples_shown = len(samples)
        box.remove_children()
        widgets = self._style_card_lines(view)
        if not samples:
            widgets.append(Static(Text("Samples appear at each evaluation: the model's reply next to "
                                       "the real one.", style="italic dim")))
            box.mount_all(widgets)
            return
        last_step = samples[-1].step
        for s in [s for s in samples if s.step == last_step][-3:]:
            widgets.append(Static(Text(f"step {s.step} · the model plays {safe(s.persona)}", style="dim"),
                                  classes="sample-head"))
            if s.context:
                author, said = s.context[-1]
                if author in ("user", ""):  # older runs name the other side by its role
                    author = next((p for p in (self.project.personas if self.project else [])
                                   if p != s.persona), "them")
                widgets.append(ChatTurn(author, said, None, by_model=False, mine=False))
            with_real = Horizontal(
                Vertical(Static(Text("real", style="bold"), classes="sample-label"),
                         ChatTurn(s.persona, s.real, None, by_model=False, mine=True)),
                Vertical(Static(Text("model", style="bold"), classes="sample-label"),
                         ChatTurn(s.persona, s.generated or "…", None, by_model=True, mine=True)),
                classes="sample-pair")
            widgets.append(with_real)
        box.mount_all(widgets)

    @staticmethod
    def _style_card_lines(view: RunView) -> list[Static]:
        """What the run tells the model about each persona (its style cards), above the samples."""
        cards = view.config.get("style_cards") or {}
        if not isinstance(cards, dict) or not cards:
            return []
        text = Text("Told the model in its system prompt", style="bold dim")
        for card in cards.values():
            text.append("\n• " + safe(str(card)), style="dim")
        return [Static(text, classes="sample-head style-cards")]


def _fmt_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def status_line(view: RunView) -> Text:
    """Two short lines: state and numbers first, then the run and what to do next."""
    text = Text()
    marks = {"idle": ("○ no run", "dim"), "starting": ("◌ starting…", "bold cyan"),
             "running": ("● training", "bold green"), "finished": ("✓ finished", "bold green"),
             "failed": ("✗ failed", "bold red"), "cancelled": ("■ cancelled", "bold yellow"),
             "interrupted": ("■ interrupted", "bold yellow")}
    label, style = marks.get(view.status, (view.status, "bold"))
    text.append(label, style=style)
    if view.max_steps or view.step:
        text.append(f"  step {view.step}/{view.max_steps or '?'}")
    if view.loss is not None:
        text.append(" · loss ", style="dim")
        text.append(f"{view.loss:.3f}", style="bold")
    if view.best_eval_loss is not None:
        text.append(" · val ", style="dim")
        text.append(f"{view.best_eval_loss:.3f}", style="bold")
    if view.fidelity_curve:
        text.append(" · fidelity ≈ ", style="dim")
        text.append(f"{view.fidelity_curve[-1][1]:.2f}", style="bold")
    if view.tokens_per_s:
        text.append(f" · {fmt_count(round(view.tokens_per_s))} tok/s", style="dim")
    if view.status == "running" and view.eta_s is not None:
        text.append(" · ETA ", style="dim")
        text.append(fmt_duration(view.eta_s), style="bold")
    second = Text(style="dim")
    if view.run_dir:
        second.append(f"run {Path(view.run_dir).name}")
    if view.epoch:
        second.append(f" · epoch {view.epoch:.2f}")
    if view.status == "failed" and view.error:
        second = Text(safe(view.error), style="red")
        if view.hint:
            second.append(f" — {safe(view.hint)}", style="dim")
    elif view.status == "starting":
        second.append("loading the base model and the dataset…", style="italic")
    elif view.status == "finished":
        second.append(" · adapter saved — export it on pane 4")
    elif view.status in ("cancelled", "interrupted"):
        second.append(" · r resumes from the last checkpoint")
    elif view.trainable_params:
        second.append(f" · {fmt_count(view.trainable_params)} of {fmt_count(view.total_params)} "
                      f"params trained · {view.device} · {view.train_samples} samples")
    if second.plain:
        text.append("\n")
        text.append_text(second)
    return text
