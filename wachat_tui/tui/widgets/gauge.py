"""The fidelity report drawn as text: gauge, style bars, warnings, degeneration, overview.

Pure functions of the report's typed records (``wachat_tui.eval.report``) returning rich
``Text``/``Table`` objects, so they are easy to test; :mod:`.fidelity` puts them in widgets.
Generated and real message text only ever enters a ``Text`` as plain text, never as markup.
"""
from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ...eval.memorisation import mask
from ...eval.render import COPY_WARNING, style_value
from ...eval.report import BASE, CANDIDATE, REAL, FidelityReport, Scores
from ...eval.style import DISTRIBUTION, FEATURES, RELATIVE
from .charts import hbar

TARGET_FIDELITY = 0.8
"""The issue's target: a default run should reach it."""
STYLE_BAR = 16
GAUGE_MIN = 10


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace("-", "−")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def fidelity_style(value: float | None) -> str:
    if value is None:
        return "dim"
    if value >= TARGET_FIDELITY:
        return "bold green"
    return "bold yellow" if value >= 0.4 else "bold red"


def verdict(persona: str, s: Scores) -> str:
    """One sentence a user reads: how recognisable the model's replies are as ``persona``'s."""
    f = s.fidelity
    if f is None:
        return s.fidelity_note or "fidelity is undefined for this persona"
    if f > 1.15:
        return f"more typical of {persona} than {persona} is: a caricature"
    if f >= TARGET_FIDELITY:
        return f"the classifier takes these replies for {persona}'s as often as the real ones"
    if f >= 0.4:
        return f"partly recognisable as {persona}"
    if f >= 0.1:
        return f"barely recognisable as {persona}"
    if f < -0.1:
        return f"taken for someone else more often than chance: not {persona}'s voice"
    return f"no more recognisable as {persona} than a guess"


# --------------------------------------------------------------------------- the gauge
def gauge(s: Scores, width: int) -> Text:
    """A bar from the floor (base model's accuracy) to the ceiling (the real replies'), filled
    up to the fine-tuned model's accuracy, and the numbers under it.

    Without a base model the bar starts at chance. A model below the floor leaves the bar
    empty with ◀; one above the ceiling fills it with ▶.
    """
    out = Text()
    lo_name, lo = ("base", s.floor) if s.floor is not None else ("chance", s.chance)
    hi, acc = s.ceiling, s.accuracy
    if hi is None or acc is None or lo is None or hi <= lo:
        out.append("no gauge: ", style="dim")
        out.append(s.fidelity_note or "the real replies are not recognisable above the floor", style="italic")
        return out
    left, right = f"{lo_name} {pct(lo)} ", f" real {pct(hi)}"
    cells = max(GAUGE_MIN, width - len(left) - len(right) - 2)
    frac = (acc - lo) / (hi - lo)
    bar = hbar(min(1.0, max(0.0, frac)), 1.0, cells)
    style = fidelity_style(s.fidelity).replace("bold ", "")
    out.append(left, style="dim")
    out.append("▕", style="dim")
    if frac < 0:
        out.append("◀", style="bold red")
        out.append("░" * (cells - 1), style="dim")
    elif frac > 1:
        out.append("█" * (cells - 1), style=style)
        out.append("▶", style="bold " + style)
    else:
        out.append(bar, style=style)
        out.append("░" * (cells - len(bar)), style="dim")
    out.append("▏", style="dim")
    out.append(right, style="dim")
    out.append("\n")
    out.append(f"model {pct(acc)}", style="bold")
    out.append(" attributed to the right person · chance ", style="dim")
    out.append(pct(s.chance))
    return out


def headline(persona: str, s: Scores) -> Text:
    """``Maya  fidelity 0.62  (base 0.10)`` and the verdict."""
    out = Text()
    out.append(persona, style="bold")
    out.append("  fidelity ", style="dim")
    out.append(num(s.fidelity), style=fidelity_style(s.fidelity))
    if s.base_fidelity is not None:
        out.append(f"  (base model {num(s.base_fidelity)})", style="dim")
    out.append(f"  · {s.n} replies\n", style="dim")
    out.append(verdict(persona, s), style="italic")
    return out


# --------------------------------------------------------------------------- style bars
def _distance_style(d: float | None) -> str:
    if d is None:
        return "dim"
    return "green" if d < 0.2 else "yellow" if d < 0.5 else "bold red"


def _bar(value, top: float) -> Text:
    if not isinstance(value, (int, float)) or top <= 0:
        return Text("")
    return Text(hbar(float(value), top, STYLE_BAR))


def style_bars(s: Scores) -> Table:
    """Each style habit: the real replies' bar over the model's, their values, the distance."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(ratio=1)  # the habit's name wraps when the pane is narrow
    table.add_column(no_wrap=True, width=5)
    table.add_column(no_wrap=True, width=STYLE_BAR)
    table.add_column(no_wrap=True, overflow="ellipsis", width=11)
    table.add_column(no_wrap=True, justify="right", width=5)
    real_m, cand_m = s.sources.get(REAL), s.sources.get(CANDIDATE)
    real = real_m.style.to_json() if real_m and real_m.style else None
    cand = cand_m.style.to_json() if cand_m and cand_m.style else None
    distances = cand_m.style_distance.features if cand_m and cand_m.style_distance else {}
    table.add_row(Text("habit", style="dim"), "", "", "", Text("dist.", style="dim"))
    for key, (kind, label) in FEATURES.items():
        d = distances.get(key)
        if kind == DISTRIBUTION:
            real_bar = model_bar = Text("")
        else:
            rv, mv = (real or {}).get(key), (cand or {}).get(key)
            top = 1.0 if kind != RELATIVE else max([v for v in (rv, mv) if isinstance(v, (int, float))] or [0])
            real_bar, model_bar = _bar(rv, top), _bar(mv, top)
        real_bar.stylize("green")
        model_bar.stylize("cyan")
        table.add_row(Text(label), Text("real\nmodel", style="dim"), Text("\n").join([real_bar, model_bar]),
                      Text(f"{style_value(key, real)}\n{style_value(key, cand)}"),
                      Text(num(d), style=_distance_style(d)))
    return table


def style_summary(s: Scores) -> Text:
    base_d = s.base_style_distance
    return Text.assemble(("style distance ", "bold"), (num(s.style_distance), _distance_style(s.style_distance)),
                         (f"   base model {num(base_d)}" if base_d is not None else "", "dim"),
                         (f"   own messages {num(s.own_style_distance)}" if s.own_style_distance is not None else "",
                          "dim"),
                         ("   (0 = the same habits, 1 = nothing alike)", "dim"))


# --------------------------------------------------------------------------- warnings
def warnings(persona: str, s: Scores, leaks: list) -> list[Text]:
    """Memorisation, leaks, media-only replies and degeneration, worst first; a ✓ line when
    the model neither copies nor leaks (so the absence of a warning is visible too)."""
    out: list[Text] = []
    own = [leak for leak in leaks if leak.persona == persona and leak.source == CANDIDATE]
    for leak in own:
        out.append(Text.assemble(("⚠ leak: ", "bold red"), f"a reply repeats a {leak.kind} from the training data: ",
                                 (mask(leak.value), "bold")))
    if s.leaks and not own:
        out.append(Text(f"⚠ leak: {s.leaks} replies repeat an identifier from the training data", style="bold red"))
    copy, real_copy = s.copy_rate, s.real_copy_rate or 0.0
    if copy is not None and copy > COPY_WARNING:
        memorised = copy > real_copy + COPY_WARNING
        out.append(Text.assemble(
            ("⚠ copies: ", "bold red" if memorised else "bold yellow"),
            f"{pct(copy)} of replies repeat a training message; {persona} repeats themselves in {pct(real_copy)} — ",
            ("the model may have memorised the chat" if memorised else "about as often as the person does",
             "red" if memorised else "yellow")))
    elif copy is not None and not s.leaks:
        out.append(Text.assemble(("✓ ", "green"), f"no memorisation: {pct(copy)} of replies repeat a training "
                                 f"message ({persona}: {pct(real_copy)}), no identifiers leaked", style="dim"))
    media, real_media = s.media_only_rate, s.real_media_only_rate or 0.0
    if media is not None and media > real_media + 0.05:
        out.append(Text.assemble(("⚠ media: ", "bold yellow"),
                                 f"{pct(media)} of replies are only a media placeholder ({persona}: {pct(real_media)})"))
    d = s.degeneration
    for rate, what in ((d.assistant_speak_rate, "sound like an assistant (\"As an AI…\")"),
                       (d.run_on_rate, "run on into the other person's turn"), (d.empty_rate, "are empty")):
        if rate:
            out.append(Text.assemble(("⚠ ", "bold yellow"), f"{pct(rate)} of replies {what}"))
    real_d = s.sources.get(REAL).degeneration if s.sources.get(REAL) else None
    if d.ead_2 is not None and real_d is not None and real_d.ead_2 is not None and d.ead_2 < real_d.ead_2 - 0.2:
        out.append(Text.assemble(("⚠ ", "bold yellow"), f"repeats itself: EAD-2 {num(d.ead_2)} "
                                 f"({persona}: {num(real_d.ead_2)})"))
    return out


def degeneration_table(s: Scores) -> Table:
    """distinct-2 / EAD-2 / empty / run-on / assistant-speak of base · model · real."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, collapse_padding=True, header_style="dim")
    table.add_column("", no_wrap=True)
    for col in ("distinct-2", "EAD-2", "empty", "run-on", "assistant"):
        table.add_column(col, justify="right", no_wrap=True)
    for source, label in ((BASE, "base"), (CANDIDATE, "model"), (REAL, "real")):
        m = s.sources.get(source)
        if m is None:
            continue
        d = m.degeneration
        table.add_row(Text(label, style="bold" if source == CANDIDATE else "dim"), num(d.distinct_2), num(d.ead_2),
                      pct(d.empty_rate), pct(d.run_on_rate), pct(d.assistant_speak_rate),
                      style=None if source == CANDIDATE else "dim")
    return table


# --------------------------------------------------------------------------- overview
def overview(report: FidelityReport) -> Table:
    """One row per persona (and overall): fidelity, base, style distance, copies, media."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, collapse_padding=True, header_style="dim")
    table.add_column("", no_wrap=True, overflow="ellipsis", max_width=14)
    for col in ("fidelity", "base", "style", "copies (real)", "media (real)"):
        table.add_column(col, justify="right", no_wrap=True)
    rows: list[tuple[str, Scores]] = list(report.personas.items())
    if len(rows) > 1:
        rows.append(("overall", report.overall))
    for name, s in rows:
        table.add_row(Text(name, style="bold" if name != "overall" else "italic"),
                      Text(num(s.fidelity), style=fidelity_style(s.fidelity)), num(s.base_fidelity),
                      num(s.style_distance), f"{pct(s.copy_rate)} ({pct(s.real_copy_rate)})",
                      f"{pct(s.media_only_rate)} ({pct(s.real_media_only_rate)})")
    return table


def report_head(report: FidelityReport) -> Text:
    settings = report.settings
    out = Text()
    out.append(f"{settings.get('cases', report.overall.n)} held-out replies", style="bold")
    out.append(f" · model {settings.get('candidate') or '?'} · base {settings.get('base') or 'none'}"
               f" · classifier over {len(report.classifier.get('classes', [])) or len(report.personas)} people"
               f" (chance {pct(report.overall.chance)})", style="dim")
    out.append("\nfidelity: 0 = no more recognisable than chance, 1 = as recognisable as the real person",
               style="dim italic")
    for note in report.notes:
        out.append(f"\nnote: {note}", style="yellow")
    return out
