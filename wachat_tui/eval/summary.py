"""The few fidelity numbers that travel with a model: into ``exports.json`` and the GGUF's metadata.

A run's summary comes from its ``eval.json`` (``wachat eval``: the full measure) when it has one,
else from the training's own estimate at the best evaluation (``metrics.json``; fewer replies,
generated with the HF model — ``"kind": "training estimate"`` says so). Light: no model, no
scikit-learn; the export pipeline calls it.
"""
from __future__ import annotations

from ..core.layout import DamagedFile, RunFiles, RunRecord, read_json_object
from ..errors import WachatError
from .report import FidelityReport

EVAL = "eval"
ESTIMATE = "training estimate"


def report_summary(report: FidelityReport) -> dict:
    """``FidelityReport.summary()`` plus what was measured, how, and on how many replies."""
    s = report.settings
    return {**report.summary(), "kind": EVAL, "measured_on": s.get("candidate"), "backend": s.get("backend"),
            "base": s.get("base"), "cases": s.get("cases"), "measured": s.get("measured")}


def estimate_summary(record: RunRecord, eval_history: list[dict]) -> dict | None:
    """The training estimate at the run's best evaluation, or None when it has none."""
    row = next((h for h in eval_history if h.get("step") == record.best_step and h.get("estimate")), None)
    if row is None:
        return None
    est = row["estimate"]
    return {"fidelity": est.get("fidelity"), "style_distance": est.get("style_distance"),
            "copy_rate": est.get("copy_rate"), "accuracy": est.get("accuracy"), "ceiling": est.get("ceiling"),
            "media_only_rate": est.get("media_only_rate"), "real_media_only_rate": est.get("real_media_only_rate"),
            "n": est.get("n"), "personas": {k: {"fidelity": v} for k, v in (est.get("personas") or {}).items()},
            "kind": ESTIMATE, "step": record.best_step, "backend": "hf"}


def run_summary(files: RunFiles) -> dict | None:
    """The fidelity summary of a run (see the module docstring), or None when nothing was measured.

    A damaged ``eval.json`` is skipped for the estimate rather than failing an export over it."""
    if files.eval_json.exists():
        try:
            return report_summary(FidelityReport.from_json(read_json_object(files.eval_json)))
        except WachatError:
            pass  # DamagedFile or a report of an older shape: the estimate below still says something
    try:
        record = RunRecord.read(files)
        metrics = read_json_object(files.metrics, missing={})
    except (FileNotFoundError, DamagedFile):
        return None
    return estimate_summary(record, list((metrics.get("history") or {}).get("eval") or []))
