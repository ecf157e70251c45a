"""The report as text for the CLI: a pure function returning a rich renderable (no printing).

Generated and real message text is untrusted: control characters (ESC sequences included,
which rich does not remove) are replaced by :func:`wachat_tui.display.safe`'s placeholders and
newlines shown as `` / `` before it reaches a ``Text``; no text is ever parsed as markup.
"""
from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..display import safe
from .report import BASE, CANDIDATE, REAL, FidelityReport, Scores
from .style import FEATURES, RELATIVE

COPY_WARNING = 0.05


def _safe(text: str | None, limit: int = 90) -> str:
    if text is None:
        return "–"
    clean = safe(" / ".join(part.strip() for part in text.split("\n") if part.strip()))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _headline_table(report: FidelityReport) -> Table:
    table = Table(title="fidelity per persona (1.0 = as recognisable as the real person, 0 = chance)",
                  title_justify="left")
    for col in ("", "fidelity", "base", "accuracy", "floor", "ceiling", "style dist.", "base style",
                "own style", "copies (real)", "media-only (real)", "n"):
        table.add_column(col, justify="left" if not col else "right")
    rows: list[tuple[str, Scores]] = list(report.personas.items())
    if len(rows) > 1:
        rows.append(("overall", report.overall))
    for name, s in rows:
        table.add_row(Text(_safe(name, 24)), _num(s.fidelity), _num(s.base_fidelity), _pct(s.accuracy), _pct(s.floor),
                      _pct(s.ceiling), _num(s.style_distance), _num(s.base_style_distance),
                      _num(s.own_style_distance), f"{_pct(s.copy_rate)} ({_pct(s.real_copy_rate)})",
                      f"{_pct(s.media_only_rate)} ({_pct(s.real_media_only_rate)})", str(s.n))
    return table


def _chats_table(report: FidelityReport) -> Table:
    table = Table(title="fidelity per chat (each relationship's register)", title_justify="left")
    for col in ("chat", "fidelity", "base", "accuracy", "style dist.", "n"):
        table.add_column(col, justify="left" if col == "chat" else "right")
    for chat_id, s in report.chats.items():
        table.add_row(_safe(chat_id, 24), _num(s.fidelity), _num(s.base_fidelity), _pct(s.accuracy),
                      _num(s.style_distance), str(s.n))
    return table


def style_value(key: str, style: dict | None) -> str:
    """One style habit of one writer as the tables and the Eval pane show it."""
    if not style:
        return "–"
    value = style.get(key)
    if key == "top_emoji":
        return " ".join(value or []) or "none"
    if key == "script":
        return ", ".join(f"{k.lower()} {v * 100:.0f}%" for k, v in list((value or {}).items())[:2]) or "–"
    if value is None:
        return "–"
    return f"{value:.1f}" if FEATURES[key][0] == RELATIVE else _pct(value)


def _style_table(name: str, s: Scores) -> Table:
    table = Table(title=Text(f"{_safe(name, 40)}: style, model vs real (distance 0 = same, 1 = nothing alike)"),
                  title_justify="left")
    for col in ("habit", "base", "fine-tuned", "real", "distance"):
        table.add_column(col, justify="left" if col == "habit" else "right")
    styles = {src: (m.style.to_json() if m.style else None) for src, m in s.sources.items()}
    cand = s.sources[CANDIDATE].style_distance
    for key, (_, label) in FEATURES.items():
        table.add_row(label, *(Text(safe(style_value(key, styles.get(src)))) for src in (BASE, CANDIDATE, REAL)),
                      _num(cand.features.get(key) if cand else None))
    table.add_row(Text("summary", style="bold"), _num(s.base_style_distance), _num(s.style_distance), "0.00", "")
    if s.own_style_distance is not None:
        table.caption = (f"another {s.n} of the person's own messages are at {s.own_style_distance:.2f}: "
                         f"closer than that is noise")
        table.caption_justify = "left"
    return table


def _degeneration_table(report: FidelityReport) -> Table:
    table = Table(title="degeneration (all replies)", title_justify="left")
    for col in ("", "distinct-2", "EAD-2", "empty", "run-on", "assistant-speak"):
        table.add_column(col, justify="left" if not col else "right")
    for source, label in ((BASE, "base"), (CANDIDATE, "fine-tuned"), (REAL, "real")):
        metrics = report.overall.sources.get(source)
        if metrics is None:
            continue
        d = metrics.degeneration
        table.add_row(label, _num(d.distinct_2), _num(d.ead_2), _pct(d.empty_rate), _pct(d.run_on_rate),
                      _pct(d.assistant_speak_rate))
    return table


def _warnings(report: FidelityReport) -> list[Text]:
    out = []
    o = report.overall
    for note in report.notes:
        out.append(Text(f"note: {note}", style="yellow"))
    if o.leaks:
        kinds = sorted({leak.kind for leak in report.leaks if leak.source == CANDIDATE})
        out.append(Text(f"⚠ {o.leaks} generated replies repeat a {' / '.join(kinds)} from the training data",
                        style="bold red"))
    if o.copy_rate is not None and o.copy_rate > COPY_WARNING:
        real = o.real_copy_rate or 0.0
        verdict = ("more often than the person repeats themselves: the model may have memorised the chat"
                   if o.copy_rate > real + COPY_WARNING else "about as often as the person repeats themselves")
        out.append(Text(f"⚠ {_pct(o.copy_rate)} of replies repeat a training message (real replies: {_pct(real)}), "
                        f"{verdict}", style="red" if o.copy_rate > real + COPY_WARNING else "yellow"))
    if (o.media_only_rate or 0) > (o.real_media_only_rate or 0) + 0.05:
        out.append(Text(f"⚠ {_pct(o.media_only_rate)} of replies are only a media placeholder "
                        f"(real: {_pct(o.real_media_only_rate)})", style="yellow"))
    d = o.degeneration
    for rate, what in ((d.assistant_speak_rate, "sound like an assistant"), (d.run_on_rate, "run on into the "
                       "other person's turn"), (d.empty_rate, "are empty")):
        if rate:
            out.append(Text(f"⚠ {_pct(rate)} of replies {what}", style="yellow"))
    return out


def _examples(report: FidelityReport) -> list[RenderableType]:
    if not report.examples:
        return []
    out: list[RenderableType] = [Text("examples", style="bold")]
    for ex in report.examples:
        if ex.context:
            author, text = ex.context[-1]
            out.append(Text(f"{_safe(author, 24)}: {_safe(text)}", style="dim"))
        who = _safe(ex.persona, 24)
        out.append(Text(f"   real        {who}: {_safe(ex.real)}"))
        if ex.base is not None:
            out.append(Text(f"   base        {who}: {_safe(ex.base)}"))
        out.append(Text(f"   fine-tuned  {who}: {_safe(ex.fine_tuned)}"))
    return out


def render_report(report: FidelityReport) -> RenderableType:
    """Headline table, a style table per persona, warnings and side-by-side examples."""
    settings = report.settings
    head = Text(f"{settings.get('cases', report.overall.n)} held-out replies · "
                f"{_safe(settings.get('candidate', 'model'), 60)} vs {_safe(settings.get('base') or 'no base', 60)} · "
                f"classifier over {len(report.classifier.get('classes', []))} people "
                f"(chance {_pct(report.overall.chance)})")
    parts: list[RenderableType] = [head, _headline_table(report)]
    if report.chats:
        parts.append(_chats_table(report))
    parts += [_style_table(name, s) for name, s in report.personas.items()]
    parts.append(_degeneration_table(report))
    parts += _warnings(report)
    parts += _examples(report)
    return Group(*parts)
