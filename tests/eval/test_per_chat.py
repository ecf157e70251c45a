"""The eval of a project with several chats: cases know their chat's setting; the report has a
row per chat (wachat_tui/eval, core/importing)."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console

from wachat_tui.core.project import Project, import_export
from wachat_tui.eval.backends import RealBackend, persona_messages
from wachat_tui.eval.cases import load_eval_data
from wachat_tui.eval.measure import measure
from wachat_tui.eval.render import render_report
from wachat_tui.eval.report import FidelityReport

MULTI = Path(__file__).resolve().parent.parent / "fixtures" / "chats" / "multi"


def _project() -> Project:
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    import_export(MULTI / "alex_peter_telegram.json", name="alex", add=True)
    p = import_export(MULTI / "friends_group.txt", name="alex", add=True)
    p.set_alias("Lisa M", "Lisa")
    p.set_alias("Pete", "Peter")
    return Project.open("alex")


def test_cases_carry_their_chat_and_the_report_is_per_chat_too():
    project = _project()
    data = load_eval_data(project.files)
    by_chat = {}
    for case in data.held_out:
        by_chat.setdefault(case.chat_id, []).append(case)
    assert set(by_chat) == {"lisa", "peter", "saturday-crew"}
    lisa_1to1 = next(c for c in by_chat["lisa"] if c.persona == "Lisa")
    assert lisa_1to1.partners == ("Alex",) and lisa_1to1.chat is None
    lisa_group = next(c for c in by_chat["saturday-crew"] if c.persona == "Lisa")
    assert set(lisa_group.partners) == {"Alex", "Peter", "Dani"} and lisa_group.chat == "Saturday Crew"
    peter = by_chat["peter"][0]
    assert peter.platform == "telegram"
    assert persona_messages(peter)[0]["content"].startswith(f"You are {peter.persona}, texting with ")
    assert "on Telegram" in persona_messages(peter)[0]["content"]

    report = measure(data, RealBackend(), cap=60)
    assert set(report.chats) == {"lisa", "peter", "saturday-crew"}
    assert sum(s.n for s in report.chats.values()) == report.overall.n
    assert report.chats["lisa"].accuracy is not None
    again = FidelityReport.from_json(report.to_json())
    assert set(again.chats) == set(report.chats)
    console = Console(width=140, record=True)
    console.print(render_report(report))
    assert "fidelity per chat" in console.export_text()
