"""The real thing, small: the demo chat, the embedded GGUF through llama.cpp as both "base" and
"fine-tuned", a handful of held-out cases (about a minute on 2 cores)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.chat.engine import Sampling
from wachat_tui.core.embedded import default_gguf
from wachat_tui.eval.backends import GGUFBackend, RealBackend
from wachat_tui.eval.cases import load_eval_data
from wachat_tui.eval.measure import build_yardsticks, choose_cases, measure
from wachat_tui.eval.render import render_report

pytestmark = pytest.mark.slow
CASES = 6


class Remembered:
    """A backend that answers each case once and then repeats itself (to reuse base replies)."""

    def __init__(self, backend):
        self.backend, self.name, self.replies = backend, backend.name, {}

    def generate(self, case):
        if case.id not in self.replies:
            self.replies[case.id] = self.backend.generate(case)
        return self.replies[case.id]


def test_demo_chat_through_llama_cpp(imported_demo):
    data = load_eval_data(imported_demo)
    yard = build_yardsticks(data)
    cases = choose_cases(data, yard, CASES)
    assert {c.persona for c in cases} == {"Maya", "Leo"}
    # the chat's sampling, shorter replies to stay fast
    with GGUFBackend(default_gguf(), name="smollm2", seed=0, sampling=Sampling(max_tokens=32)) as gguf:
        base = Remembered(gguf)
        report = measure(data, gguf, base=base, cases=cases, yardsticks=yard)
        baseline = measure(data, RealBackend(), base=base, cases=cases, yardsticks=yard)

    doc = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    for scores in (doc["overall"], *doc["personas"].values()):
        assert {"fidelity", "style_distance", "copy_rate", "floor", "ceiling", "accuracy", "media_only_rate",
                "leaks", "distinct_2", "n"} <= set(scores)
        assert set(scores["sources"]) == {"base", "fine_tuned", "real"}
    assert set(doc["personas"]) == {"Maya", "Leo"} and doc["overall"]["n"] == CASES
    assert all(ex["fine_tuned"] is not None and ex["base"] is not None for ex in doc["examples"])
    assert report.overall.ceiling >= 0.8                       # the demo's two people are easy to tell apart
    assert 0 < report.overall.style_distance <= 1
    assert report.settings["generation_seconds"]["base"] > 0

    # the real replies are as faithful as can be, by construction; the untuned model is not (on 6
    # cases its fidelity is a coin's: 4-6 of them may land on the right person by chance)
    assert baseline.overall.fidelity == pytest.approx(1.0)
    assert baseline.overall.base_fidelity is not None and baseline.overall.base_fidelity < 1.0
    assert baseline.overall.base_style_distance > 0.15

    from rich.console import Console

    console = Console(record=True, width=160, color_system=None)
    console.print(render_report(report))
    assert "fidelity per persona" in console.export_text()
