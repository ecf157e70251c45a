"""The whole measure with stand-in writers (no model): numbers, report shape, rendering, estimate."""
from __future__ import annotations

import json

import pytest
from rich.console import Console

from wachat_tui.eval.backends import RealBackend
from wachat_tui.eval.cases import Case, EvalData, RealTurn
from wachat_tui.eval.estimate import FidelityEstimator
from wachat_tui.eval.measure import build_yardsticks, measure
from wachat_tui.eval.render import render_report

HEADLINE = {"fidelity", "style_distance", "own_style_distance", "copy_rate", "accuracy", "floor", "ceiling", "chance", "base_fidelity",
            "media_only_rate", "real_media_only_rate", "leaks", "distinct_2", "ead_2", "empty_rate",
            "run_on_rate", "assistant_speak_rate", "n"}


class Always:
    """Writes the same reply whatever the case (a model stuck in one voice)."""

    def __init__(self, text: str, name: str = "always"):
        self.text, self.name = text, name

    def generate(self, case: Case) -> str:
        return self.text


class Scripted:
    def __init__(self, replies: dict[str, str], name: str = "scripted"):
        self.replies, self.name = replies, name
        self.last_ran_on = False

    def generate(self, case: Case) -> str:
        text = self.replies[case.id]
        self.last_ran_on = text.endswith("[cut]")
        return text.removesuffix("[cut]")


def test_real_vs_real_is_one_and_a_one_voice_model_is_chance(two_people):
    report = measure(two_people, RealBackend(), base=Always("Fair enough. See you tomorrow."))
    o = report.overall
    assert o.fidelity == pytest.approx(1.0) and o.accuracy == o.ceiling == 1.0
    assert o.floor == pytest.approx(0.5) and o.base_fidelity == pytest.approx(0.0)
    assert report.personas["Maya"].floor == 0.0 and report.personas["Leo"].floor == 1.0
    assert o.style_distance == 0.0 and o.base_style_distance > 0.2
    assert report.personas["Maya"].base_style_distance > report.personas["Leo"].base_style_distance
    # another sample of each person's own messages: near their real replies, nearer than Leo's voice is to Maya
    for s in report.personas.values():
        assert s.own_style_distance is not None and 0.0 <= s.own_style_distance < 0.2
    assert report.personas["Maya"].own_style_distance < report.personas["Maya"].base_style_distance
    assert o.own_style_distance == pytest.approx(
        sum(s.own_style_distance for s in report.personas.values()) / 2)


def test_own_style_distance_is_the_noise_of_the_persons_own_messages():
    from wachat_tui.eval.measure import own_style_distance

    real = ["lol yes", "omg no", "haha ok 😂", "wait what", "lol same"] * 4
    steady = ["lol ok", "omg yes", "haha no 😂", "wait no", "lol what"] * 10   # the same habits
    changed = ["Certainly. I will be there at noon.", "That is fine with me.", "Thank you!"] * 20
    assert own_style_distance(steady, real) < 0.1
    assert own_style_distance(changed, real) > 0.4       # a person whose old messages read otherwise
    assert own_style_distance(steady, real) == own_style_distance(steady, real)   # seeded
    assert own_style_distance(steady[:10], real) is None  # fewer own messages than held-out replies
    assert own_style_distance(steady, []) is None


def test_report_json_has_the_promised_shape(two_people):
    report = measure(two_people, RealBackend(), base=Always("<photo>"))
    doc = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert HEADLINE <= set(doc["overall"])
    assert set(doc["personas"]) == {"Maya", "Leo"}
    for persona in doc["personas"].values():
        assert HEADLINE <= set(persona)
        assert set(persona["sources"]) == {"base", "fine_tuned", "real"}
        assert persona["sources"]["real"]["style"]["chars"] > 0            # the per-persona style table
    assert doc["overall"]["sources"]["base"]["media_only_rate"] == 1.0
    assert doc["overall"]["real_media_only_rate"] == 0.0
    assert len(doc["examples"]) == 4 and {"context", "real", "base", "fine_tuned"} <= set(doc["examples"][0])
    assert doc["classifier"]["classes"] == ["Maya", "Leo"] and doc["settings"]["cases"] == 4
    assert set(report.summary()) >= {"fidelity", "style_distance", "copy_rate", "personas"}


def test_copies_leaks_and_degeneration_reach_the_report():
    train = [RealTurn("Maya", t, 0) for t in ("hahaha omg\nur so bad 😂", "nooo why", "omg yes\nwatch it tonight",
                                              "my number is 07700 900123 call me", "lol okay")]
    train += [RealTurn("Leo", t, 0) for t in ("Sounds good.", "Well done! Great news.", "Speak later.",
                                             "I'm thinking of getting a bike.")]
    held = tuple(Case(f"c{i}", p, (("Leo" if p == "Maya" else "Maya", "hi"),), r, ("Leo" if p == "Maya" else "Maya",))
                 for i, (p, r) in enumerate([("Maya", "omg hi"), ("Leo", "Hello."), ("Maya", "haha"), ("Leo", "Yes.")]))
    data = EvalData(("Maya", "Leo"), ("Maya", "Leo"), None, held, tuple(train))
    model = Scripted({"c0": "my number is 07700 900123 call me",             # a copy and a leak
                      "c1": "I'm thinking of getting a bike.",               # a copy
                      "c2": "As an AI I cannot text like Maya",              # assistant-speak
                      "c3": "Sure.\nMaya: no way[cut]"})                     # runs on (and cut)
    report = measure(data, model)
    o = report.overall
    assert o.copy_rate == 0.5 and o.real_copy_rate == 0.0
    assert o.leaks == 1 and report.leaks[0].kind == "phone" and report.leaks[0].case_id == "c0"
    assert "900123" not in json.dumps(report.to_json()["leaks"])          # the leak list masks identifiers
    assert o.degeneration.assistant_speak_rate == 0.25 and o.degeneration.run_on_rate == 0.25
    assert o.floor is None and o.base_fidelity is None
    text = _render(report)
    assert "repeat a phone" in text and "memorised" in text and "sound like an assistant" in text
    assert "degeneration" in text and "50% (0%)" in text


def _render(report) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_report(report))
    return console.export_text()


def test_rendered_report_shows_tables_and_keeps_terminal_escapes_out(two_people):
    evil = Always("hahaha \x1b[2J\x1b]0;pwned\x07 omg 😂\nsecond bubble", name="evil")
    text = _render(measure(two_people, evil, base=RealBackend()))
    assert "fidelity per persona" in text and "Maya: style" in text and "Leo: style" in text
    assert "\x1b" not in text and "\x07" not in text
    assert "hahaha ␛[2J␛]0;pwned␇ omg 😂 / second bubble" in text  # shown as placeholders


def test_estimate_reuses_one_fitted_classifier(two_people):
    estimator = FidelityEstimator(two_people, n_cases=4)
    clf = estimator.yardsticks.attributor
    real = estimator.estimate(RealBackend())
    stuck = estimator.estimate(Always("Fair enough. See you tomorrow."))
    assert estimator.yardsticks.attributor is clf
    assert real.fidelity == pytest.approx(1.0) and stuck.fidelity == pytest.approx(0.0)
    assert stuck.personas == {"Maya": pytest.approx(-1.0), "Leo": pytest.approx(1.0)}
    assert json.dumps(stuck.to_json())


def test_yardsticks_fit_only_on_train_turns(two_people):
    yard = build_yardsticks(two_people)
    held_texts = [c.reply for c in two_people.held_out]
    assert not any(yard.copies.is_copy(t) for t in held_texts)
    assert yard.attributor.train_sizes == {"Maya": 15, "Leo": 15}


def test_report_reads_back_from_its_json(two_people):
    from wachat_tui.errors import WachatError
    from wachat_tui.eval.report import FidelityReport

    report = measure(two_people, Always("hahaha omg 😂"), base=RealBackend())
    doc = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    again = FidelityReport.from_json(doc)
    assert again.to_json() == doc
    assert again.personas["Maya"].sources["fine_tuned"].style.emoji == {"😂": 2}
    with pytest.raises(WachatError):
        FidelityReport.from_json({"overall": {}})
