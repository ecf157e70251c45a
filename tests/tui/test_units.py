"""Small pure pieces of the app: event folding, charts, message coalescing."""
from __future__ import annotations

import pytest
from textual.app import App

from wachat_tui.events import Evaluated, Failed, Finished, Stage, Started, Step, Verified
from wachat_tui.tui.messages import ReplyStreamed, TrainingProgressed
from wachat_tui.tui.runstate import RunView, fold_all
from wachat_tui.tui.screens.export import ollama_line
from wachat_tui.tui.screens.import_ import report_line
from wachat_tui.tui.widgets.charts import braille_text, columns, hbar, plot_series, spark
from wachat_tui.tui.widgets.stats_cards import length_histogram


def test_fold_builds_curves_and_status():
    view = fold_all([
        Started(max_steps=4, device="cpu", run_dir="/r"),
        Evaluated(step=0, eval_loss=4.0),
        Step(step=1, max_steps=4, loss=3.5, tokens_per_s=100, eta_s=30),
        Step(step=2, max_steps=4, loss=3.0),
        Evaluated(step=2, eval_loss=3.2),
        Finished(path="/r/adapter"),
    ])
    assert view.status == "finished" and view.ended
    assert view.train_curve == ((1, 3.5), (2, 3.0))
    assert view.eval_curve == ((0, 4.0), (2, 3.2)) and view.best_eval_loss == 3.2
    assert view.fraction == 0.5 and view.result_path == "/r/adapter"


def test_fold_keeps_the_fidelity_estimate_and_the_kept_evaluation():
    view = fold_all([
        Evaluated(step=0, eval_loss=4.0, fidelity=0.05),
        Evaluated(step=10, eval_loss=3.2, fidelity=0.6, best=True),
        Evaluated(step=20, eval_loss=3.1, fidelity=0.3),          # lower loss, not kept: the rule chose step 10
        Evaluated(step=30, eval_loss=3.3),                        # no estimate (it failed): no point
    ])
    assert view.fidelity_curve == ((0, 0.05), (10, 0.6), (20, 0.3))
    assert view.best_step == 10 and view.best_fidelity == 0.6 and view.best_eval_loss == 3.1
    from wachat_tui.tui.screens.train import status_line

    assert "fidelity ≈ 0.30" in status_line(view).plain


def test_fold_resumed_run_replaces_replayed_steps():
    view = fold_all([Step(step=1, loss=3.0), Step(step=2, loss=2.9), Step(step=3, loss=2.8),
                     Evaluated(step=3, eval_loss=3.1),
                     Started(max_steps=5), Step(step=3, loss=2.7), Step(step=4, loss=2.6)])
    assert view.train_curve == ((1, 3.0), (2, 2.9), (3, 2.7), (4, 2.6))
    assert view.eval_curve == ((3, 3.1),)


def test_fold_export_stages_keep_order_and_cancel_is_not_failure():
    view = fold_all([
        Stage(stage="merging", done=0, total=1), Stage(stage="writing", done=5, total=10),
        Stage(stage="merging", done=1, total=1), Verified(check="tokens", passed=True),
        Failed(error="cancelled"),
    ])
    assert [s.stage for s in view.stages] == ["merging", "writing"]
    assert view.stages[0].done == 1 and view.checks[0].passed
    assert view.status == "cancelled"
    assert fold_all([Failed(error="out of memory", hint="smaller batch")]).status == "failed"


def test_charts():
    assert spark([0, 1, 2, 4]) == " ▂▄█"
    assert columns([0, 8], height=2) == [" █", " █"]
    assert hbar(5, 10, 4) == "██" and hbar(10, 10, 4) == "████" and hbar(0, 10, 4) == ""
    layers, _, _ = plot_series([[(0, 1.0), (10, 0.0)]], width=6, height=2)
    rows = braille_text(layers[0])
    assert len(rows) == 2 and all(len(r) == 6 for r in rows)
    assert rows[0][0] != " " and rows[1][-1] != " "  # falls from top-left to bottom-right
    assert length_histogram([1, 4, 5, 12, 500, 0]) == [2, 1, 1, 0, 0, 0, 1]


def test_report_line_and_ollama_line():
    text = report_line({"pairs": {"total": 10, "train": 8, "validation": 2, "excluded": 1},
                        "samples": {"train": 3, "validation": 1}, "sessions": 4,
                        "redactions": {"phone": 2}}).plain
    assert text == "10 pairs · 8 train · 2 validation · 1 excluded · 4 samples · 4 sessions · 2 redacted"
    assert report_line({"error": "bad"}).plain == "✗ bad"
    assert ollama_line("/m/x.gguf", "My Chat") == "ollama create wachat-my-chat -f /m/Modelfile"


class _Sink(App):
    def __init__(self):
        super().__init__()
        self.seen: list = []

    def on_training_progressed(self, message: TrainingProgressed) -> None:
        self.seen.append(message.view.step)

    def on_reply_streamed(self, message: ReplyStreamed) -> None:
        self.seen.append(message.text)


@pytest.mark.asyncio
async def test_progress_messages_replace_each_other_instead_of_queueing():
    app = _Sink()
    async with app.run_test() as pilot:
        for step in range(1, 201):  # a burst faster than the screen can draw
            app.post_message(TrainingProgressed(RunView(step=step)))
        await pilot.pause(0.2)
        assert app.seen[-1] == 200 and len(app.seen) < 200
        app.seen.clear()
        text = ""
        for piece in ["a"] * 300:
            text += piece
            app.post_message(ReplyStreamed(1, "Leo", text))
        await pilot.pause(0.2)
        assert app.seen[-1] == "a" * 300 and len(app.seen) < 300


@pytest.mark.asyncio
async def test_chat_bubble_shows_a_media_tag_as_a_grey_note():
    from wachat_tui.tui.widgets.bubble import ChatTurn

    class Host(App):
        def compose(self):
            yield ChatTurn("Leo", "<photo>\nlook at this\n<voice note> sorry", None, by_model=True, mine=False)

    async with Host().run_test() as pilot:
        await pilot.pause()
        texts = [str(b.render()) for b in pilot.app.query(".bubble")]
        assert "📷 photo" in texts[0] and "<photo>" not in texts[0]
        assert texts[1] == "look at this"
        assert texts[2] == "🎤 voice note\nsorry"
        label = pilot.app.query(".bubble").first().render()
        assert any("dim" in str(span.style) for span in label.spans)
