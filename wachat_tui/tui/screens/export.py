"""Export pane: pick a trained run and a quantization, watch the stages and the checks."""
from __future__ import annotations

import re
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ...errors import WachatError
from ...display import safe
from ..messages import ExportEnded, ExportProgressed
from ..runstate import RunView, fold
from ..util import one_line, short_path
from ..widgets.charts import hbar
from .base import PaneScreen

QUANTS = (
    ("q8_0 · 8-bit, near lossless", "q8_0"),
    ("q4_k_m · 4-bit, smallest", "q4_k_m"),
    ("f16 · full precision", "f16"),
)
STAGES = ("merging", "writing", "quantizing", "verifying")


class _ExportCloser:
    def __init__(self, proc) -> None:
        self.proc = proc

    def active(self) -> bool:
        return self.proc.returncode is None

    def close(self) -> None:
        self.proc.cancel(timeout=10)


def ollama_line(gguf: str, project_name: str, metrics: dict | None = None) -> str:
    metrics = metrics or {}
    for key in ("ollama", "ollama_create", "ollama_command"):
        if isinstance(metrics.get(key), str):
            return metrics[key]
    modelfile = metrics.get("modelfile") or str(Path(gguf).with_name("Modelfile"))
    name = re.sub(r"[^a-z0-9_-]+", "-", f"wachat-{project_name}".lower())
    return f"ollama create {name} -f {modelfile}"


class ExportScreen(PaneScreen):
    MODE = "export"
    MAIN_FOCUS = "#export-runs"
    BINDINGS = [
        Binding("ctrl+s", "export", "Export", tooltip="Merge, convert to GGUF, quantize and verify"),
        Binding("c", "cancel", "Cancel", tooltip="Stop the export"),
        Binding("y", "copy_ollama", "Copy ollama line", tooltip="Copy the `ollama create` command"),
        Binding("q", "cycle_quant", "Quantization", show=False,
                tooltip="Next quantization: q8_0, q4_k_m, f16"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.proc = None
        self.view = RunView()
        self._result_gguf: str | None = None

    def compose_pane(self) -> ComposeResult:
        with Horizontal(id="export-body"):
            with VerticalScroll(id="export-form", classes="panel") as form:
                form.border_title = "Export a run"
                yield Label("Trained run", classes="section-title first")
                yield OptionList(id="export-runs")
                yield Label("Quantization", classes="section-title")
                yield Select(QUANTS, value="q8_0", allow_blank=False, id="quant", compact=True)
                yield Label("Models in this project", classes="section-title")
                yield Static("", id="models-list")
            with Vertical(id="export-main", classes="panel") as main:
                main.border_title = "Progress"
                yield Static("", id="export-status")
                yield Static("", id="stages")
                yield Label("Verification", classes="section-title")
                yield Static("", id="checks")
                yield Static("", id="export-result")
        yield Static(Text("No project yet — press 0 to open one.", style="italic"),
                     id="export-empty", classes="empty-state")

    def on_mount(self) -> None:
        self._show(RunView())

    def project_changed(self, project) -> None:
        self.query_one("#export-empty").display = project is None
        self.query_one("#export-body").display = project is not None
        if project is None or self.proc is not None:
            return
        self._refresh()

    def _refresh(self) -> None:
        from ...core.layout import list_runs

        options = self.query_one("#export-runs", OptionList)
        options.clear_options()
        runs = [r for r in reversed(list_runs(self.project.dir)) if r.status == "finished"]
        for run in runs:
            best = run.best_eval_loss
            label = Text.assemble(("✓ ", "green"), (run.run_id, "bold"),
                                  (f"  val {best:.3f}" if isinstance(best, (int, float)) else "", "dim"))
            options.add_option(Option(label, id=run.run_id))
        if runs:
            options.highlighted = 0
            if self.view.status == "idle":
                self.query_one("#export-status", Static).update(Text(
                    "Pick a run and a quantization, then ctrl+s to export.", style="italic"))
        else:
            self.query_one("#export-status", Static).update(Text(
                "No finished training run yet — train one on pane 3.", style="italic"))
        self._list_models()

    def _list_models(self) -> None:
        """The project's verified exports, newest first, wherever they were written."""
        from ...core.layout import list_exports

        shown = self.query_one("#models-list", Static)
        try:
            exports = list_exports(self.project.dir)
        except WachatError as exc:  # a damaged exports.json: say so where the list would be
            shown.update(Text(safe(one_line(exc)), style="red"))
            return
        if not exports:
            shown.update(Text("none yet", style="dim italic"))
            return
        text = Text()
        for record in exports[:6]:
            path = Path(record.path)
            text.append(f"{safe(path.name)}\n", style="bold")
            where = "" if path.parent == Path(self.project.models_dir) else f" · {safe(short_path(path.parent))}"
            text.append(f"  {record.bytes / 1e6:,.0f} MB{where}\n", style="dim")
        shown.update(text)

    # -- export ---------------------------------------------------------------------------
    def action_export(self) -> None:
        if self.project is None:
            return
        if self.proc is not None:
            self.notify("An export is already going.", severity="warning")
            return
        options = self.query_one("#export-runs", OptionList)
        if options.highlighted is None or not options.option_count:
            self.notify("No finished run to export — train one on pane 3.", severity="warning")
            return
        run_id = options.get_option_at_index(options.highlighted).id
        quant = self.query_one("#quant", Select).value
        from ...export.runner import start_export

        try:
            self.proc = start_export(self.project.dir, run_id=run_id, quant=quant)
        except (WachatError, OSError) as exc:  # a bad option, or the worker could not start
            self.proc = None
            self.notify(one_line(exc), title="Could not start the export", severity="error")
            return
        self.app.register_closer("export", _ExportCloser(self.proc))
        self.refresh_bindings()
        view = RunView(status="starting", run_dir=run_id)
        self._show(view)
        self._follow(self.proc, view)

    @work(thread=True, exclusive=True, group="export")
    def _follow(self, proc, view: RunView) -> None:
        for event in proc.events():
            view = fold(view, event)
            self.post_message(ExportProgressed(view))
        self.post_message(ExportEnded(view))

    def on_export_progressed(self, message: ExportProgressed) -> None:
        self._show(message.view)

    def on_export_ended(self, message: ExportEnded) -> None:
        self.proc = None
        self.app.unregister_closer("export")
        if not self.is_mounted or getattr(self.app, "_exit", False):
            return  # the app is closing: nothing to draw
        self.refresh_bindings()
        self._show(message.view)
        if message.view.status == "finished":
            self.notify("Model exported — chat with it on pane 5.", title="Exported")
        elif message.view.status == "failed":
            self.notify(message.view.error, title="Export failed", severity="error")
        self._list_models()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "cancel":
            return self.proc is not None
        if action == "export":
            return self.proc is None
        if action == "copy_ollama":
            return bool(self._result_gguf)
        return True

    def action_cancel(self) -> None:
        if self.proc is None:
            return
        self.proc.cancel_async()

    def action_cycle_quant(self) -> None:
        select = self.query_one("#quant", Select)
        values = [v for _, v in QUANTS]
        select.value = values[(values.index(select.value) + 1) % len(values)] \
            if select.value in values else values[0]

    def action_copy_ollama(self) -> None:
        if not self._result_gguf:
            self.notify("Export a model first.", severity="warning")
            return
        line = ollama_line(self._result_gguf, self.project.name, self.view.metrics)
        self.app.copy_to_clipboard(line)
        self.notify("Copied the ollama command.")

    # -- drawing --------------------------------------------------------------------------
    def _show(self, view: RunView) -> None:
        self.view = view
        status = Text()
        marks = {"idle": ("○ nothing exported in this session", "dim"),
                 "starting": ("◌ starting…", "bold cyan"), "running": ("● exporting", "bold green"),
                 "finished": ("✓ exported", "bold green"), "failed": ("✗ failed", "bold red"),
                 "cancelled": ("■ cancelled", "bold yellow")}
        label, style = marks.get(view.status, (view.status, "bold"))
        status.append(label, style=style)
        if view.run_dir and view.status != "idle":
            status.append(f"  run {view.run_dir}", style="dim")
        if view.status == "failed" and view.error:
            status.append(f"\n{safe(view.error)}", style="red")
            if view.hint:
                status.append(f" — {safe(view.hint)}", style="dim")
        if view.status != "idle":
            self.query_one("#export-status", Static).update(status)
        self.query_one("#stages", Static).update(stages_table(view))
        self.query_one("#checks", Static).update(checks_text(view))
        result = Text()
        if view.status == "finished" and view.result_path:
            self._result_gguf = view.result_path
            self.refresh_bindings()
            size = ""
            try:
                size = f"{Path(view.result_path).stat().st_size / 1e6:,.0f} MB"
            except OSError:
                pass
            result.append("Model file", style="bold")
            result.append(f"  {size}\n", style="dim")
            result.append(safe(short_path(view.result_path)) + "\n\n")
            result.append("Run it with Ollama", style="bold")
            result.append("  (y copies it)\n", style="dim")
            result.append(safe(ollama_line(view.result_path, self.project.name if self.project else "chat",
                                           view.metrics)), style="green")
            result.append("\n\nChat with it here on pane 5.", style="dim")
        self.query_one("#export-result", Static).update(result)


def stages_table(view: RunView) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=2)
    table.add_column(no_wrap=True, min_width=10)
    table.add_column(no_wrap=True, width=20)
    table.add_column(no_wrap=True, overflow="ellipsis")
    seen = {s.stage: s for s in view.stages}
    names = list(STAGES) + [s for s in seen if s not in STAGES]
    current = view.stages[-1].stage if view.stages else None
    for name in names:
        s = seen.get(name)
        if s is None:
            table.add_row(Text("·", style="dim"), Text(name, style="dim"), Text("░" * 20, style="dim"), "")
            continue
        done_stage = (s.total and s.done >= s.total) or (current != name) or view.status == "finished"
        frac = 1.0 if done_stage else (s.done / s.total if s.total else 0.0)
        mark = Text("✓", style="green") if done_stage else Text("●", style="bold cyan")
        bar = hbar(frac, 1.0, 20)
        table.add_row(mark, Text(name, style="bold" if not done_stage else ""),
                      Text(f"{bar:<20}".replace(" ", "░"), style="green"),
                      Text(safe(s.detail) or (f"{s.done}/{s.total}" if s.total else ""), style="dim"))
    return table


def checks_text(view: RunView) -> Text:
    if not view.checks:
        return Text("checks run after the GGUF is written", style="dim italic")
    text = Text()
    for c in view.checks:
        text.append("✓ " if c.passed else "✗ ", style="bold green" if c.passed else "bold red")
        text.append(safe(c.check), style="bold")
        if c.detail:
            text.append(f"  {safe(c.detail)}", style="dim")
        text.append("\n")
    return text
