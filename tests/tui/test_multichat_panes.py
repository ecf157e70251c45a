"""Pilot tests of a project with several chats: adding a chat and mapping a name on the Import
pane, the Review pane's chat filter, the Train pane's persona ticks, the Chat pane's pick."""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select, SelectionList

from wachat_tui.core.project import Project, import_export
from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.widgets.pair_table import PairTable

from .conftest import SIZE, settle, wait_until

pytestmark = pytest.mark.asyncio

MULTI = Path(__file__).resolve().parent.parent / "fixtures" / "chats" / "multi"
TALL = (110, 48)


async def test_adding_a_telegram_chat_to_the_open_project(home):
    project = import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    app = WachatApp(project=project, open_file=MULTI / "alex_peter_telegram.json")
    async with app.run_test(size=TALL) as pilot:
        screen = app.screen
        await settle(pilot)
        assert screen.parsed.platform == "telegram" and screen.parsed.title == "Peter"
        assert screen.me == "Alex"                  # the project's "me", found by name
        add = screen.query_one("#add-chat", Button)
        assert add.display and not add.disabled and "alex" in str(add.label)
        assert "Lisa (1:1, WhatsApp)" in str(screen.query_one("#project-chats").render())
        await pilot.press("ctrl+a")
        await wait_until(pilot, lambda: len(Project.open("alex").chats) == 2, timeout=60)
        await settle(pilot)
        shown = str(screen.query_one("#project-chats").render())
        assert "Peter (1:1, Telegram)" in shown and "Lisa (1:1, WhatsApp)" in shown
        assert app.project.personas == ["Alex", "Peter", "Lisa"]
        # the same chat again changes nothing
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert len(Project.open("alex").chats) == 2


async def test_mapping_a_name_to_a_person_on_the_import_pane(home):
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    project = import_export(MULTI / "friends_group.txt", name="alex", add=True)
    app = WachatApp(project=project, start_mode="import")
    async with app.run_test(size=TALL) as pilot:
        screen = app.screen
        await settle(pilot)
        people = str(screen.query_one("#project-people").render())
        assert "Lisa M" in people and "= Lisa M" not in people      # not mapped yet: two people
        alias = screen.query_one("#alias", Input)
        alias.focus()
        await pilot.press(*"lisa m=Lisa", "enter")
        await wait_until(pilot, lambda: Project.open("alex").people.person_of("Lisa M") == "Lisa", timeout=60)
        await settle(pilot)
        assert "Lisa (persona) = Lisa M" in str(screen.query_one("#project-people").render())
        assert "Lisa M" not in app.project.participants and alias.value == ""
        # a malformed entry is refused with a hint, nothing changes
        alias.focus()
        await pilot.press(*"nobody", "enter")
        await settle(pilot)
        assert Project.open("alex").people.person_of("nobody") is None


async def test_review_filters_pairs_by_chat_and_shows_that_chats_style(home):
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    project = import_export(MULTI / "alex_peter_telegram.json", name="alex", add=True)
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=TALL) as pilot:
        screen = app.screen
        await settle(pilot)
        table = screen.query_one(PairTable)
        total = table.row_count
        chat = screen.query_one("#chat-filter", Select)
        assert chat.display
        chat.value = "peter"
        await settle(pilot)
        assert 0 < table.row_count < total
        assert {r.chat_id for r in table.rows_by_id.values()} == {"peter"}
        await pilot.press("escape", "s")
        await pilot.pause(0.3)
        assert [c.person for c in screen.query(".person-card")] == ["Alex", "Peter"]
        chat.value = "__all__"
        await settle(pilot)
        assert table.row_count == total


async def test_train_pane_trains_the_ticked_personas(home):
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    project = import_export(MULTI / "alex_peter_telegram.json", name="alex", add=True)
    app = WachatApp(project=project, start_mode="train")
    async with app.run_test(size=TALL) as pilot:
        screen = app.screen
        await settle(pilot)
        personas = screen.query_one("#personas", SelectionList)
        assert personas.display and sorted(personas.selected) == ["Alex", "Lisa", "Peter"]
        assert screen.config_from_form().personas is None          # all ticked: every persona
        personas.deselect("Alex")
        await pilot.pause(0.1)
        assert screen.config_from_form().personas == ("Peter", "Lisa")


async def test_chat_pane_picks_people_and_setting_from_the_whole_project(home):
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    import_export(MULTI / "alex_peter_telegram.json", name="alex", add=True)
    project = import_export(MULTI / "friends_group.txt", name="alex", add=True)
    project.set_alias("Lisa M", "Lisa")
    project.set_alias("Pete", "Peter")
    app = WachatApp(project=Project.open("alex"), start_mode="chat")
    async with app.run_test(size=TALL) as pilot:
        screen = app.screen
        await settle(pilot)
        assert screen.you == "Alex" and screen.setting.chat_id is not None
        await pilot.press("ctrl+o")
        await settle(pilot)
        pick = app.screen
        pick.query_one("#pick-model", Select).value = "Lisa"
        pick.query_one("#pick-you", Select).value = "Peter"
        between = pick.query_one("#pick-between", SelectionList)
        between.deselect_all()
        for name in ("Lisa", "Peter", "Dani"):
            between.select(name)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        conv = screen.conversation
        assert (conv.you, conv.model_plays) == ("Peter", "Lisa")
        # Lisa and Peter never wrote 1:1: a new 1:1 chat of theirs
        assert screen.setting.chat_id is None and not screen.setting.is_group
        assert conv.participants == ["Lisa", "Peter"] or set(conv.participants) == {"Lisa", "Peter"}
        assert screen.pick.between == ["Lisa", "Peter", "Dani"]
        assert "new" in str(screen.query_one("#chat-header").detail)
