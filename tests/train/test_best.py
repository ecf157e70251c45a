"""The best-checkpoint rule on synthetic histories: fidelity decides among evaluations whose loss is
close to the lowest; loss decides ties and everything without estimates."""
from __future__ import annotations

import pytest

from wachat_tui.core.layout import RunFiles, RunRecord
from wachat_tui.train.best import BestRule, Evaluation
from wachat_tui.train.progress import RunProgress


def history(*rows) -> list[Evaluation]:
    return [Evaluation(step, loss, fid) for step, loss, fid in rows]


def best_step(*rows, **rule) -> int | None:
    best = BestRule(**rule).replay(history(*rows))
    return best.step if best else None


def test_without_estimates_the_lowest_loss_wins():
    assert best_step((0, 4.0, None), (10, 3.5, None), (20, 3.2, None), (30, 3.3, None)) == 20
    assert best_step((0, 4.0, None)) is None                       # the base model is never the adapter


def test_a_clearly_more_faithful_evaluation_near_the_lowest_loss_wins():
    # step 30's loss is 2 % above the lowest (step 40), its fidelity 0.3 higher: it is kept
    assert best_step((0, 4.0, 0.0), (10, 3.4, 0.2), (20, 3.1, 0.4), (30, 3.06, 0.8), (40, 3.0, 0.5)) == 30


def test_a_lead_of_one_estimated_reply_is_noise():
    # the en_sam_noor run that kept step 88 for 0.485 against 0.364 (one reply of 24)
    rows = ((22, 3.883, 0.0), (44, 3.686, 0.2425), (66, 3.591, 0.1212), (88, 3.554, 0.485), (110, 3.529, 0.2425),
            (132, 3.51, 0.3637), (154, 3.512, 0.3637), (174, 3.511, 0.3637))
    assert best_step(*rows) == 132
    assert best_step(*rows, fidelity_tie=0.1) == 88


def test_fidelity_does_not_buy_an_undertrained_checkpoint():
    # step 10 is the most faithful, but its loss is 13 % above the lowest: out of the band
    assert best_step((0, 4.0, 0.0), (10, 3.4, 0.9), (20, 3.1, 0.4), (30, 3.0, 0.5)) == 30


def test_close_estimates_are_a_tie_and_the_lower_loss_takes_it():
    assert best_step((10, 3.05, 0.55), (20, 3.0, 0.5)) == 20        # 0.05 apart: noise
    assert best_step((10, 3.05, 0.7), (20, 3.0, 0.5)) == 20         # 0.2 apart: still within it
    assert best_step((10, 3.0, 0.5), (20, 3.05, 0.55)) == 10
    assert best_step((10, 3.05, 0.55), (20, 3.0, 0.5), fidelity_tie=0.0) == 10


def test_a_best_that_falls_out_of_the_band_is_replaced_by_the_new_lowest_loss():
    # step 20 wins on fidelity, then step 30's much lower loss pushes it out of the band
    rows = ((10, 3.2, 0.1), (20, 3.15, 0.6), (30, 2.9, 0.3))
    assert best_step(*rows) == 30
    assert best_step(*rows[:2]) == 20


def test_an_evaluation_without_an_estimate_competes_on_loss():
    assert best_step((10, 3.0, 0.8), (20, 2.98, None)) == 20
    assert best_step((10, 3.0, None), (20, 3.02, 0.9)) == 10


def test_margin_zero_is_the_lowest_loss():
    assert best_step((10, 3.06, 0.9), (20, 3.0, 0.1), loss_margin=0.0) == 20


def _progress(tmp_path, margin=0.05) -> RunProgress:
    files = RunFiles(tmp_path / "runs" / "r1")
    files.dir.mkdir(parents=True)
    return RunProgress(files, RunRecord(run_id="r1"), rule=BestRule(margin))


@pytest.mark.parametrize("margin", [0.0, 0.05, 0.2])
def test_the_run_records_what_the_rule_chooses_and_a_resume_agrees(tmp_path, margin):
    progress = _progress(tmp_path, margin)
    rows = [(0, 4.0, 0.0), (10, 3.4, 0.2), (20, 3.1, 0.45), (30, 3.06, 0.7), (40, 3.0, 0.5), (50, 3.2, 0.9)]
    flags = [progress.record_eval(step, loss, 1.0, {"fidelity": fid, "n": 24}) for step, loss, fid in rows]
    expected = BestRule(margin).replay(history(*rows))
    rec = progress.record
    assert (rec.best_step, rec.best_eval_loss, rec.best_fidelity) == (expected.step, expected.loss, expected.fidelity)
    assert rec.base_eval_loss == 4.0 and flags[0] is False
    # each evaluation flagged best was the best at that moment; the last flagged one is the final choice
    assert [s for (s, _, _), f in zip(rows, flags) if f][-1] == expected.step
    assert progress.metrics.eval_history[3]["fidelity"] == 0.7 and progress.metrics.eval_history[3]["estimate"]["n"] == 24
    # a resume from step 30 forgets the later evaluations and recomputes the best with the same rule
    progress.forget_after(30)
    again = BestRule(margin).replay(history(*rows[:4]))
    assert (rec.best_step, rec.best_fidelity) == (again.step, again.fidelity)
    assert [h["best"] for h in progress.metrics.eval_history] == [h["step"] == again.step
                                                                  for h in progress.metrics.eval_history]


def test_early_stopping_counts_evaluations_since_the_lowest_loss(tmp_path):
    progress = _progress(tmp_path)
    for step, loss, fid in [(0, 4.0, 0.0), (10, 3.0, 0.2), (20, 3.1, 0.9), (30, 3.05, 0.3)]:
        progress.record_eval(step, loss, 1.0, {"fidelity": fid})
    assert progress.record.best_step == 20                        # fidelity chose it
    assert progress.evals_since_lowest_loss() == 2                # but the loss stopped improving at step 10
