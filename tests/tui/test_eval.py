"""Pilot tests of the Eval pane and the blind test, on a real fidelity report (no model: fast).

The report is ``wachat_tui/data/showcase_eval.json``, measured for real on the demo chat
(``tools/make_eval_showcase.py``); ``test_eval_e2e.py`` measures anew through the pane.
The assertions read what is drawn on screen, and derive the expected numbers from the report.
"""
from __future__ import annotations

import json

import pytest
from textual.geometry import Region
from textual.widgets import Static

from wachat_tui.core.layout import ProjectFiles
from wachat_tui.eval.blind import draw_rounds
from wachat_tui.eval.memorisation import Leak
from wachat_tui.eval.report import FidelityReport
from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.screens.blind import BlindTestScreen
from wachat_tui.tui.screens.eval import EvalScreen
from wachat_tui.tui.showcase import showcase_report, write_demo_eval
from wachat_tui.tui.widgets.blind import Candidate
from wachat_tui.tui.widgets.bubble import MODEL_TAG, ChatTurn
from wachat_tui.tui.widgets.fidelity import EXAMPLES_SHOWN, ExamplePair, PersonaFidelity
from wachat_tui.tui.widgets.gauge import num, pct

from .conftest import RUN_ID, SIZE, import_demo, settle, wait_until, write_demo_run

pytestmark = pytest.mark.asyncio
SEED = 7


def shown(widget) -> str:
    """The text a widget draws, borders and padding included (its own content, not its children's)."""
    width, height = widget.outer_size
    return "\n".join(s.text for s in widget.render_lines(Region(0, 0, width, height)))


def screen_text(app) -> str:
    """The text of every piece of content on the screen."""
    return "\n".join(shown(w) for w in app.screen.query(Static) if w.display)


def _measured_project(report: dict | None = None):
    project = import_demo()
    write_demo_run(project)
    write_demo_eval(project, report=report)
    return project


def _card(screen, persona: str) -> PersonaFidelity:
    return next(c for c in screen.query(PersonaFidelity) if c.persona == persona)


async def test_the_eval_pane_draws_the_numbers_of_the_report(home):
    project = _measured_project()
    report = FidelityReport.from_json(showcase_report())
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")  # the pane's key
        await settle(pilot)
        assert app.current_mode == "eval"
        screen = app.screen
        assert str(screen.query_one("#eval-runs").get_option_at_index(0).prompt).startswith(RUN_ID)
        assert f"fidelity {num(report.overall.fidelity)}" in " ".join(
            str(screen.query_one("#eval-runs").get_option_at_index(0).prompt).split())
        head = shown(screen.query_one("#eval-head"))
        assert f"{report.settings['cases']} held-out replies" in head and "chance 50%" in head
        overview = shown(screen.query_one("#eval-overview")).splitlines()
        for name, s in [*report.personas.items(), ("overall", report.overall)]:
            row = next(line for line in overview if line.strip().startswith(name)).split()
            assert row[1:4] == [num(s.fidelity), num(s.base_fidelity), num(s.style_distance)]
            assert f"{pct(s.copy_rate)} ({pct(s.real_copy_rate)})" in " ".join(row)

        assert [c.persona for c in screen.query(PersonaFidelity)] == list(report.personas)
        for name, s in report.personas.items():
            card = _card(screen, name)
            assert f"fidelity {num(s.fidelity)}" in " ".join(shown(card.query_one(".persona-head")).split())
            gauge = card.query_one(".gauge")
            text = shown(gauge)
            assert f"base {pct(s.floor)}" in text and f"real {pct(s.ceiling)}" in text
            assert f"model {pct(s.accuracy)}" in text
            # the bar is filled as far as the model got from the floor to the ceiling
            bar = text.splitlines()[0].split("▕")[1].split("▏")[0]
            frac = (s.accuracy - s.floor) / (s.ceiling - s.floor)
            assert bar.count("█") == pytest.approx(frac * len(bar), abs=1)
            # style bars: the real and the model's value of each habit, and the distance
            bars = shown(card.query_one(".style-bars"))
            real_chars = s.sources["real"].style.values["chars"]
            model_chars = s.sources["fine_tuned"].style.values["chars"]
            line = next(i for i, t in enumerate(bars.splitlines()) if t.startswith("characters per reply"))
            assert f"{real_chars:.1f}" in bars.splitlines()[line]
            assert num(s.sources["fine_tuned"].style_distance.features["chars"]) in bars.splitlines()[line]
            assert f"{model_chars:.1f}" in bars.splitlines()[line + 1]
            assert f"style distance {num(s.style_distance)}" in shown(card.query_one(".style-summary"))
            # warnings: this model copies nothing, leaks nothing
            flags = shown(card.query_one(".persona-flags"))
            assert "no memorisation" in flags and f"({name}: {pct(s.real_copy_rate)})" in " ".join(flags.split())
            # examples: context, then the real reply and the model's (tagged 🤖) side by side
            mine = [e for e in report.examples if e.persona == name]
            pairs = list(card.query(ExamplePair))
            assert len(pairs) == min(EXAMPLES_SHOWN, len(mine))
            for pair, example in zip(pairs, mine):
                real, model = pair.query_one(".-real").query_one(ChatTurn), pair.query_one(".-model").query_one(ChatTurn)
                assert (real.text, real.by_model) == (example.real, False)
                assert (model.text, model.by_model) == (example.fine_tuned, True)
                assert MODEL_TAG in shown(model.query(".bubble").first())
                assert MODEL_TAG not in shown(real.query(".bubble").first())
                assert [t.text for t in pair.children if isinstance(t, ChatTurn)] == [t for _, t in example.context]
        # p jumps from persona to persona
        scroll = screen.query_one("#eval-report")
        await pilot.press("p")
        await pilot.pause(0.2)
        first = scroll.scroll_y
        await pilot.press("p")
        await pilot.pause(0.2)
        assert 0 < first < scroll.scroll_y


async def test_the_eval_pane_warns_of_copies_leaks_and_degeneration(home):
    doc = showcase_report()
    maya = doc["personas"]["Maya"]
    maya.update(copy_rate=0.3, real_copy_rate=0.05, leaks=1, media_only_rate=0.4, real_media_only_rate=0.1,
                assistant_speak_rate=0.2, run_on_rate=0.1)
    doc["leaks"] = [Leak("phone", "+44 7700 900123", "c1", "Maya", "fine_tuned").to_json()]
    project = _measured_project(doc)
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        flags = " ".join(shown(_card(app.screen, "Maya").query_one(".persona-flags")).split())
        assert "⚠ leak" in flags and "phone" in flags
        assert "+4•••••••••••23" in flags and "7700" not in flags  # masked, never the number itself
        assert "⚠ copies: 30% of replies repeat a training message; Maya repeats themselves in 5%" in flags
        assert "memorised" in flags
        assert "40% of replies are only a media placeholder (Maya: 10%)" in flags
        assert "20% of replies sound like an assistant" in flags
        assert "10% of replies run on into the other person's turn" in flags
        assert "no memorisation" not in flags
        leo = " ".join(shown(_card(app.screen, "Leo").query_one(".persona-flags")).split())
        assert "no memorisation" in leo and "⚠" not in leo


async def test_a_run_without_a_report_says_how_to_measure_it(home):
    project = import_demo()
    write_demo_run(project)
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        head = " ".join(shown(app.screen.query_one("#eval-head")).split())
        assert f"wachat eval demo --run {RUN_ID}" in head
        assert "no exported model yet" in head and "press m" in head.lower()
        assert not app.screen.query(PersonaFidelity)
        await pilot.press("b")  # nothing to play
        await pilot.pause(0.2)
        assert not isinstance(app.screen, BlindTestScreen)
        await pilot.press("m")  # nothing to measure: said, not crashed
        await pilot.pause(0.2)
        assert app.screen.measuring is None
        assert any("no exported model" in n.message for n in app._notifications)
        # a report written meanwhile (`wachat eval` in another terminal) shows when the pane is shown again
        write_demo_eval(project)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert [c.persona for c in app.screen.query(PersonaFidelity)] == ["Maya", "Leo"]


async def _play(pilot, app, picks):
    """Play a game; ``picks`` yields for each round a strategy: 1 / 2 by number, or 'arrows'."""
    screen = app.screen
    assert isinstance(screen, BlindTestScreen)
    game = screen.game
    expected_fooled = 0
    for i, how in enumerate(picks):
        round_ = game.current
        text = screen_text(app)
        # during a round: a disclosure, two bubbles, and no model tag on either
        assert "written by the model" in text and MODEL_TAG not in text
        candidates = list(screen.query(Candidate))
        assert [c.text for c in candidates] == list(round_.replies)
        assert not any(t.by_model for t in screen.query(ChatTurn))
        if how == "arrows":
            await pilot.press("left", "right")
            choice = 2
            assert candidates[1].has_class("-selected") and not candidates[0].has_class("-selected")
            await pilot.press("enter")
        else:
            choice = how
            await pilot.press(str(how))
        await pilot.pause(0.1)
        expected_fooled += choice != round_.real_choice
        assert game.picks[-1] == choice and game.fooled == expected_fooled
        # revealed: the model's bubble now carries its tag, the real one says so
        model_side = next(c for c in screen.query(Candidate) if c.number != round_.real_choice)
        turn = model_side.query_one(ChatTurn)
        await wait_until(pilot, lambda: turn.query(".bubble") and MODEL_TAG in shown(turn.query(".bubble").first()), 5)
        assert turn.by_model and "written by the model" in shown(model_side.query_one(".candidate-label"))
        verdict = " ".join(shown(screen.query_one("#blind-verdict")).split())
        assert ("Fooled" in verdict) == (choice != round_.real_choice)
        assert f"{round_.example.persona} wrote bubble {round_.real_choice}" in verdict
        await pilot.press("enter")
        await pilot.pause(0.1)
    return expected_fooled


async def test_the_blind_test_picks_with_keys_shuffles_and_keeps_the_score(home, monkeypatch):
    monkeypatch.setattr(EvalScreen, "blind_seed", SEED)
    project = _measured_project()
    report = FidelityReport.from_json(showcase_report())
    run = ProjectFiles(project.dir).run(RUN_ID)
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "not played yet" in shown(app.screen.query_one("#blind-info"))
        await pilot.press("minus", "minus", "plus")  # 10 → 9 rounds
        assert "plays 9 rounds" in shown(app.screen.query_one("#blind-info"))
        await pilot.press("b")
        await pilot.pause(0.3)
        game = app.screen.game
        # the rounds are the report's examples, drawn under the seed: both orders occur
        assert game.rounds == draw_rounds(report.examples, 9, seed=SEED)
        assert {r.real_first for r in game.rounds} == {True, False}
        assert [r.real_first for r in draw_rounds(report.examples, 9, seed=SEED + 1)] != \
            [r.real_first for r in game.rounds]
        picks = [1, 2, "arrows", 1, 1, 2, 2, "arrows", 1]
        fooled = await _play(pilot, app, picks)
        assert game.done
        banner = " ".join(shown(app.screen.query_one("#blind-banner")).split())
        assert f"The model fooled you {fooled} of 9 times ({fooled / 9 * 100:.0f}%)" in banner
        saved = json.loads(run.blind.read_text())["sessions"]
        assert [(s["rounds"], s["fooled"], s["seed"]) for s in saved] == [(9, fooled, SEED)]
        assert saved[0]["model"] == report.settings["candidate"]
        assert oct(run.blind.stat().st_mode & 0o777) == "0o600"
        await pilot.press("enter")  # back to the pane, which shows the score
        await pilot.pause(0.2)
        assert app.current_mode == "eval" and not isinstance(app.screen, BlindTestScreen)
        assert f"fooled {fooled}/9" in shown(app.screen.query_one("#blind-info"))

    # reopened: the score is still there, and a second game adds to the history
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        info = shown(app.screen.query_one("#blind-info"))
        assert f"fooled {fooled}/9" in info and f"1 game: fooled {fooled}/9" in info
        await pilot.press(*["minus"] * 8, "b")  # a 2-round game
        await pilot.pause(0.3)
        second = await _play(pilot, app, [1, 1])
        await pilot.press("escape")  # after the last pick Esc leaves too; the game was saved
        await pilot.pause(0.2)
        info = shown(app.screen.query_one("#blind-info"))
        assert f"2 games: fooled {fooled + second}/11" in info
    assert len(json.loads(run.blind.read_text())["sessions"]) == 2


async def test_escape_leaves_the_blind_test_without_saving_half_a_game(home, monkeypatch):
    monkeypatch.setattr(EvalScreen, "blind_seed", SEED)
    project = _measured_project()
    run = ProjectFiles(project.dir).run(RUN_ID)
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("3")  # other panes wait until the game is over or left
        await pilot.pause(0.1)
        assert isinstance(app.screen, BlindTestScreen) and app.current_mode == "eval"
        await pilot.press("1")
        await pilot.pause(0.1)
        await pilot.press("enter", "2")
        await pilot.pause(0.1)
        assert len(app.screen.game.picks) == 2
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, BlindTestScreen), 5)
        assert not run.blind.exists()
        assert "not played yet" in shown(app.screen.query_one("#blind-info"))


async def test_the_pane_lists_in_the_palette_and_f1(home):
    project = _measured_project()
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from textual.command import CommandPalette
        from textual.widgets import OptionList

        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"which one")
        await pilot.pause(0.5)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Which one is real?" in t for t in texts), texts
        await pilot.press("enter")  # runs it
        await pilot.pause(0.3)
        assert isinstance(app.screen, BlindTestScreen)
