"""Eval pane: does the model text like the person it plays? — a run's fidelity report, drawn.

Pick a run on the left; the right shows its ``eval.json`` (made by ``wachat eval`` or by ``m``
here): an overview per persona, then for each persona the floor → ceiling gauge with the
fidelity number, memorisation / leak / degeneration warnings, style bars real vs model, and
examples side by side. ``b`` plays "Which one is real?" on the run's examples
(:mod:`.blind`); its scores are kept per run and listed under the runs.

``m`` measures the run's exported GGUF (the model the Chat pane talks with) against the real
held-out replies, with the embedded base model as the floor, in a thread worker: the same
:func:`wachat_tui.eval.measure.measure` as the CLI. Progress messages replace each other, so a
fast stream of replies never makes the pane fall behind; ``c`` stops between two replies.
"""
from __future__ import annotations

import random
import threading
from contextlib import ExitStack
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ...core.layout import RunFiles, RunRecord, list_runs, read_json_object
from ...errors import WachatError
from ...eval.blind import DEFAULT_ROUNDS, MAX_ROUNDS, BlindGame, BlindSession, draw_rounds, read_sessions
from ...eval.report import FidelityReport
from ..messages import MeasureEnded, MeasureProgressed
from ..util import one_line
from ..widgets.blind import history_text
from ..widgets.charts import hbar
from ..widgets.fidelity import PersonaFidelity
from ..widgets.gauge import fidelity_style, num, overview, report_head
from .base import PaneScreen
from .blind import BlindTestScreen

BLIND_EXAMPLES = 30
"""Examples a measurement made here keeps in eval.json: the blind test's rounds."""
SOURCE_LABELS = {"base": "base model", "fine_tuned": "fine-tuned model"}


class _MeasureCancelled(Exception):
    """Raised from the progress callback to stop the measurement between two replies."""


class _MeasureCloser:
    """Lets the app stop a measurement (and free its models) on quit."""

    def __init__(self, screen: "EvalScreen") -> None:
        self.screen = screen

    def active(self) -> bool:
        return self.screen.measuring is not None

    def close(self) -> None:
        self.screen.stop_measuring(wait=15.0)


def _modified(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _read_report(run: RunFiles) -> FidelityReport | None:
    """The run's report, None when it has none; a damaged one raises WachatError."""
    doc = read_json_object(run.eval_json, missing=None)
    return None if doc is None else FidelityReport.from_json(doc)


class EvalScreen(PaneScreen):
    MODE = "eval"
    MAIN_FOCUS = "#eval-runs"
    #: the blind test's seed (None: a fresh one per game); tests fix it
    blind_seed: int | None = None
    #: held-out cases a measurement here takes (None: the measure's default)
    measure_cases: int | None = None
    #: sampling for a measurement here (None: the chat's, as `wachat eval` uses)
    measure_sampling = None
    BINDINGS = [
        Binding("b", "blind", "Which one is real?",
                tooltip="The blind test: pick the real reply out of two, the other is the model's"),
        Binding("plus,equals_sign", "rounds(1)", "More rounds", show=False,
                tooltip="One more round in the blind test"),
        Binding("minus", "rounds(-1)", "Fewer rounds", show=False, tooltip="One round less in the blind test"),
        Binding("m", "measure", "Measure",
                tooltip="Measure this run's exported model against the real replies (minutes)"),
        Binding("c", "cancel", "Cancel", tooltip="Stop the measurement"),
        Binding("p", "next_persona", "Next persona", show=False, tooltip="Scroll to the next persona"),
        Binding("r", "reload", "Reload", show=False, tooltip="Read the runs and their reports again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunRecord] = []
        self.run_id: str | None = None
        self.report: FidelityReport | None = None
        self.rounds = DEFAULT_ROUNDS
        self.measuring: str | None = None
        self._signature: list = []
        self._persona_index = -1
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    def compose_pane(self) -> ComposeResult:
        with Horizontal(id="eval-body"):
            with Vertical(id="eval-side", classes="panel") as side:
                side.border_title = "Runs"
                yield OptionList(id="eval-runs")
                yield Label("Which one is real?", classes="section-title")
                yield Static("", id="blind-info")
                yield Static("", id="measure-status")
            with VerticalScroll(id="eval-report", classes="panel") as main:
                main.border_title = "Fidelity"
                yield Static("", id="eval-head")
                yield Static("", id="eval-overview")
                yield Vertical(id="eval-personas")
        yield Static(Text("No project yet — press 0 to open one.", style="italic"),
                     id="eval-empty", classes="empty-state")

    def on_mount(self) -> None:
        self.app.register_closer("eval", _MeasureCloser(self))

    def on_unmount(self) -> None:
        self.stop_measuring(wait=0)

    # -- runs -----------------------------------------------------------------------------
    def project_changed(self, project) -> None:
        self.query_one("#eval-empty").display = project is None
        self.query_one("#eval-body").display = project is not None
        self.run_id = None
        if project is not None:
            self._load_runs()
            self.query_one("#eval-runs", OptionList).focus()

    def on_screen_resume(self) -> None:
        before = self._seen_version
        super().on_screen_resume()
        if self.project is not None and before == self._seen_version:
            self._load_runs(keep=self.run_id)  # a report made meanwhile (`wachat eval`) shows up

    def _load_runs(self, keep: str | None = None, *, force: bool = False) -> None:
        runs = [r for r in reversed(list_runs(self.project.dir))
                if r.status == "finished" or r.files.eval_json.exists()]
        signature = [(r.run_id, _modified(r.files.eval_json)) for r in runs]
        if not force and keep is not None and keep == self.run_id and signature == self._signature:
            self._show_blind_info()  # nothing new to draw (e.g. back from a game): keep the scroll
            return
        self._signature = signature
        self.runs = runs
        options = self.query_one("#eval-runs", OptionList)
        options.clear_options()
        for run in runs:
            options.add_option(Option(self._run_label(run), id=run.run_id))
        if not runs:
            self._show_run(None)
            return
        ids = [r.run_id for r in runs]
        measured = [r.run_id for r in runs if r.files.eval_json.exists()]
        chosen = keep if keep in ids else (measured[0] if measured else ids[0])
        options.highlighted = ids.index(chosen)
        self._show_run(chosen)

    def _run_label(self, run: RunRecord) -> Text:
        label = Text(run.run_id, style="bold")
        try:
            report = _read_report(run.files)
        except WachatError:
            return label.append("\n  report damaged", style="red")
        if report is None:
            return label.append("\n  not measured", style="dim italic")
        label.append("\n  fidelity ", style="dim")
        return label.append(num(report.overall.fidelity), style=fidelity_style(report.overall.fidelity))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "eval-runs" and event.option.id != self.run_id:
            self._show_run(event.option.id)

    def _run(self, run_id: str | None) -> RunRecord | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    # -- the report -----------------------------------------------------------------------
    def _show_run(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.report = None
        head = self.query_one("#eval-head", Static)
        personas = self.query_one("#eval-personas", Vertical)
        personas.remove_children()
        self.query_one("#eval-overview", Static).update("")
        run = self._run(run_id)
        self._show_blind_info()
        if run is None:
            head.update(Text.assemble(("No trained run yet.", "bold"), "\nTrain one on pane 3 and export it on "
                                      "pane 4; then measure here how much it texts like the people it plays."))
            return
        try:
            self.report = _read_report(run.files)
        except WachatError as exc:
            head.update(Text.assemble(("The report of this run cannot be read\n", "bold red"), one_line(exc)))
            return
        if self.report is None:
            head.update(self._how_to_measure(run))
            return
        report = self.report
        head.update(report_head(report))
        self.query_one("#eval-overview", Static).update(overview(report))
        personas.mount_all([
            PersonaFidelity(name, scores, [e for e in report.examples if e.persona == name], report.leaks)
            for name, scores in report.personas.items()])
        self._persona_index = -1
        self.query_one("#eval-report", VerticalScroll).scroll_home(animate=False)

    def _how_to_measure(self, run: RunRecord) -> Text:
        name = self.project.name if self.project else "PROJECT"
        out = Text()
        out.append(f"Run {run.run_id} has not been measured yet.\n\n", style="bold")
        out.append("The measure generates a reply for each held-out context and asks a classifier trained on "
                   "the real messages whose reply it is — the fine-tuned model's, the base model's and the "
                   "real ones — then compares style, copies and leaks.\n\n")
        out.append("Press ")
        out.append("m", style="bold reverse")
        out.append(" to measure the run's exported model here (minutes), or on the command line:\n")
        out.append(f"  wachat eval {name} --run {run.run_id}\n", style="bold green")
        if not self._exports_of(run):
            out.append("\nThis run has no exported model yet: export it on pane 4 first.", style="yellow")
        return out

    def action_next_persona(self) -> None:
        cards = list(self.query(PersonaFidelity))
        if not cards:
            return
        self._persona_index = (self._persona_index + 1) % len(cards)
        self.query_one("#eval-report", VerticalScroll).scroll_to_widget(
            cards[self._persona_index], animate=False, top=True)

    def action_reload(self) -> None:
        if self.project is not None:
            self._load_runs(keep=self.run_id, force=True)

    # -- the blind test -------------------------------------------------------------------
    def _show_blind_info(self) -> None:
        info = Text()
        info.append("b", style="bold reverse")
        info.append(f" plays {self.rounds} rounds (+/− to change)\n\n", style="dim")
        run = self._run(self.run_id)
        if run is not None:
            try:
                info.append_text(history_text(read_sessions(run.files)))
            except WachatError as exc:
                info.append(one_line(exc), style="red")
        self.query_one("#blind-info", Static).update(info)

    def action_rounds(self, step: int) -> None:
        self.rounds = max(1, min(MAX_ROUNDS, self.rounds + step))
        self._show_blind_info()

    def action_blind(self) -> None:
        run = self._run(self.run_id)
        if run is None or self.report is None:
            self.notify("Measure a run first: the blind test plays the examples of its report.", severity="warning")
            return
        seed = self.blind_seed if self.blind_seed is not None else random.SystemRandom().randrange(2**32)
        rounds = draw_rounds(self.report.examples, self.rounds, seed=seed)
        if not rounds:
            self.notify("This report has no examples where the model's reply differs from the real one.",
                        severity="warning")
            return
        if len(rounds) < self.rounds:
            self.notify(f"The report holds {len(rounds)} examples to play: {len(rounds)} rounds. "
                        "A measurement made here (m) keeps more.")
        game = BlindGame(rounds, seed)
        model = str(self.report.settings.get("candidate") or "")
        self.app.push_screen(BlindTestScreen(game, run.files, model=model), self._blind_ended)

    def _blind_ended(self, session: BlindSession | None) -> None:
        self._show_blind_info()
        if session is not None:
            self.notify(f"The model fooled you {session.fooled} of {session.rounds} times — saved with run "
                        f"{self.run_id}.", title="Which one is real?")

    # -- measuring ------------------------------------------------------------------------
    def _exports_of(self, run: RunRecord) -> list:
        from ...core.layout import list_exports

        try:
            return [e for e in list_exports(self.project.dir) if e.run_id == run.run_id]
        except WachatError:
            return []

    def _models_for(self, run: RunRecord) -> tuple[Path, Path | None]:
        """The run's newest export (the candidate) and its base model's GGUF (the floor)."""
        from ...chat.models import model_from_export
        from ...core import embedded

        exports = self._exports_of(run)
        if not exports:
            raise WachatError(f"run {run.run_id} has no exported model to measure",
                              "export it on pane 4: the measure runs the model you chat with")
        model = model_from_export(exports[0])
        if model.lora_path is not None:
            raise WachatError("this run's export is an adapter on a shared base, which this pane does not measure",
                              f"measure it with `wachat eval {self.project.name} --run {run.run_id}`")
        base = embedded.lookup(run.base_model)
        return model.path, base.gguf_path() if base else None

    def action_measure(self) -> None:
        run = self._run(self.run_id)
        if run is None or self.project is None:
            self.notify("No run to measure — train one on pane 3.", severity="warning")
            return
        if self.measuring is not None:
            self.notify(f"Already measuring run {self.measuring} (c stops it).", severity="warning")
            return
        try:
            model, base = self._models_for(run)
        except WachatError as exc:
            self.notify(one_line(exc), title="Cannot measure", severity="warning")
            return
        self.measuring = run.run_id
        self._stop.clear()
        self._idle.clear()
        self.query_one("#measure-status", Static).update(Text("◌ loading the models…", style="bold cyan"))
        self.refresh_bindings()
        self._measure_worker(Path(self.project.dir), run, model, base)

    @work(thread=True, exclusive=True, group="measure")
    def _measure_worker(self, project_dir: Path, run: RunRecord, model: Path, base: Path | None) -> None:
        try:
            self._measure(project_dir, run, model, base)
        except _MeasureCancelled:
            self.post_message(MeasureEnded(run.run_id, "cancelled"))
        except Exception as exc:  # worker boundary: whatever broke, the pane must leave "measuring"
            self.post_message(MeasureEnded(run.run_id, "failed", one_line(exc)))
        else:
            self.post_message(MeasureEnded(run.run_id, "finished"))
        finally:
            self._idle.set()

    def _measure(self, project_dir: Path, run: RunRecord, model: Path, base: Path | None) -> None:
        from ...core.atomic import write_json
        from ...eval.backends import GGUFBackend
        from ...eval.cases import DEFAULT_CAP, load_eval_data
        from ...eval.measure import measure

        def progress(p) -> None:
            if self._stop.is_set():
                raise _MeasureCancelled()
            self.post_message(MeasureProgressed(run.run_id, p.source, p.done, p.total))

        data = load_eval_data(project_dir)  # the project of the run, even if the app opened another since
        with ExitStack() as stack:
            candidate = stack.enter_context(GGUFBackend(model, name=model.name, sampling=self.measure_sampling))
            floor = (stack.enter_context(GGUFBackend(base, name=base.name, sampling=self.measure_sampling))
                     if base is not None else None)
            if self._stop.is_set():
                raise _MeasureCancelled()
            report = measure(data, candidate, base=floor, cap=self.measure_cases or DEFAULT_CAP,
                             progress=progress, n_examples=BLIND_EXAMPLES)
        write_json(run.files.eval_json, report.to_json())

    def on_measure_progressed(self, message: MeasureProgressed) -> None:
        if self.measuring != message.run_id:
            return
        text = Text()
        text.append(f"● measuring {message.run_id}\n", style="bold green")
        text.append(f"{SOURCE_LABELS.get(message.source, message.source)} {message.done}/{message.total}\n")
        bar = hbar(message.done, message.total or 1, 20)
        text.append(bar + "░" * (20 - len(bar)), style="green")
        text.append("\nc stops", style="dim")
        self.query_one("#measure-status", Static).update(text)

    def on_measure_ended(self, message: MeasureEnded) -> None:
        self.measuring = None
        if not self.is_mounted or getattr(self.app, "_exit", False):
            return  # the app is closing: nothing to draw
        self.refresh_bindings()
        status = self.query_one("#measure-status", Static)
        if message.outcome == "finished":
            status.update(Text(f"✓ measured {message.run_id}", style="green"))
            self.notify(f"Run {message.run_id} measured.", title="Fidelity")
            self._load_runs(keep=message.run_id)
        elif message.outcome == "cancelled":
            status.update(Text("■ measurement stopped — nothing saved", style="yellow"))
        else:
            status.update(Text(f"✗ {message.error}", style="red"))
            self.notify(message.error, title="The measurement failed", severity="error")

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "cancel":
            return self.measuring is not None
        if action == "measure":
            return self.measuring is None
        return True

    def action_cancel(self) -> None:
        if self.measuring is not None:
            self._stop.set()
            self.query_one("#measure-status", Static).update(Text("stopping after this reply…", style="yellow"))

    def stop_measuring(self, wait: float = 0.0) -> None:
        """Stop a measurement between two replies; wait up to ``wait`` s for its models to close."""
        self._stop.set()
        if wait:
            self._idle.wait(wait)
