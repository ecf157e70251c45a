"""Fixed, illustrative content for snapshots and for screenshots made without a trained model.

Everything here is written in the real on-disk formats (run.json + events.jsonl in the
shared event vocabulary, the chat store), so the panes load it exactly as they load real
runs. Real runs replace it whenever they exist (see ``screenshots.py``).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..events import (Checkpointed, Evaluated, Finished, Sampled, Stage, Started, Step,
                            Verified)


RUN_ID = "20240801-093000"


def demo_run_events(run_dir: Path) -> list:
    """A short, fixed training history in the shared event vocabulary (for snapshots)."""
    t = 1722504600.0
    events = [Started(config={"base": "embedded:smollm2-135m", "mode": "lora", "max_steps": 12},
                      device="cpu", trainable_params=4_884_480, total_params=139_399_488,
                      train_samples=326, validation_samples=35, max_steps=12, run_dir=str(run_dir),
                      time=t),
              Evaluated(step=0, eval_loss=4.36, perplexity=78.3, best=False, fidelity=0.04, time=t + 20)]
    losses = [4.41, 4.12, 3.95, 3.61, 3.52, 3.30, 3.21, 3.05, 2.98, 2.91, 2.83, 2.80]
    for i, loss in enumerate(losses, 1):
        events.append(Step(step=i, max_steps=12, epoch=i / 82, loss=loss, lr=2e-4,
                           tokens_per_s=812.0, eta_s=(12 - i) * 9.0, time=t + 20 + 9 * i))
        if i % 4 == 0:
            events.append(Evaluated(step=i, eval_loss=[3.71, 3.29, 3.12][i // 4 - 1], perplexity=30.0,
                                    best=True, fidelity=[0.31, 0.52, 0.58][i // 4 - 1], time=t + 21 + 9 * i))
            events.append(Checkpointed(step=i, path=str(run_dir / "checkpoints" / f"checkpoint-{i}"),
                                       time=t + 22 + 9 * i))
    events.append(Sampled(step=12, persona="Maya",
                          context=[{"author": "Leo", "text": "Dumpling Corner? By the station?"}],
                          real="yes!!\nthank u\nmy brain is empty", generated="omg yes\nsee u there ✨",
                          time=t + 130))
    events.append(Sampled(step=12, persona="Leo",
                          context=[{"author": "Maya", "text": "omg look at u\nthe gazelle"}],
                          real="Thanks. The gazelle needs a nap now.",
                          generated="Ha. The gazelle is retiring.", time=t + 131))
    events.append(Finished(path=str(run_dir / "adapter"), metrics={"best_eval_loss": 3.12},
                           time=t + 140))
    return events


def write_demo_run(project, run_id: str = RUN_ID) -> Path:
    """A finished run on disk in the training runner's layout (run.json + events.jsonl)."""
    run_dir = Path(project.dir) / "runs" / run_id
    (run_dir / "adapter").mkdir(parents=True, exist_ok=True)
    events = demo_run_events(run_dir)
    (run_dir / "events.jsonl").write_text("".join(e.to_json() + "\n" for e in events))
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": run_id, "project": project.name, "base_model": "embedded:smollm2-135m",
        "base_path": "", "mode": "lora", "personas": ["Maya", "Leo"], "config": {},
        "status": "finished", "best_eval_loss": 3.12, "created": "2024-08-01T09:30:00+00:00",
        "step": 12, "max_steps": 12}))
    return run_dir


def write_demo_chat(project) -> None:
    """A fixed conversation in the project's chat history."""
    from wachat_tui.chat.engine import ChatLine
    from wachat_tui.chat.store import ChatStore

    day1, day2 = datetime(2024, 8, 1, 21, 4), datetime(2024, 8, 2, 8, 15)
    with ChatStore(project.dir) as store:
        conv = store.new_conversation("chat", kind="chat", personas=["Maya", "Leo"])
        store.add(conv, ChatLine("Maya", "did u see the heron again", False, day1))
        store.add(conv, ChatLine("Maya", "it was judging me", False, day1))
        store.add(conv, ChatLine("Leo", "It judges everyone. That's its whole job.", True, day1), "Leo")
        store.add(conv, ChatLine("Maya", "omg fair", False, day2))
        store.add(conv, ChatLine("Leo", "Coffee later? The place by the station.", True, day2), "Leo")


def export_events(project, run_id: str = RUN_ID) -> list:
    """A finished q8_0 export of ``run_id`` (stages, checks, result) in the event vocabulary."""
    gguf = Path(project.models_dir) / f"{run_id}-q8_0.gguf"
    t = 1722505000.0
    return [
        Stage(stage="merging", done=1, total=1, detail="merged 210 LoRA layers", time=t),
        Stage(stage="writing", done=272, total=272, detail="272/272 tensors", time=t + 5),
        Stage(stage="quantizing", done=1, total=1, detail="271 MB → 145 MB", time=t + 9),
        Stage(stage="verifying", done=3, total=3, detail="all checks passed", time=t + 18),
        Verified(check="tokens", passed=True, detail="15/15 strings tokenize identically", time=t + 12),
        Verified(check="logits", passed=True, detail="top-1 agreement 100% on 178 positions",
                 time=t + 15),
        Verified(check="end_of_turn", passed=True, detail="reply stopped on <|im_end|>", time=t + 18),
        Finished(path=str(gguf), metrics={"modelfile": str(gguf.with_name("Modelfile"))}, time=t + 19),
    ]


def showcase_report() -> dict:
    """A real fidelity report of the demo chat (``tools/make_eval_showcase.py`` measured it)."""
    from importlib.resources import files

    return json.loads(files("wachat_tui.data").joinpath("showcase_eval.json").read_text(encoding="utf-8"))


def write_demo_eval(project, run_id: str = RUN_ID, report: dict | None = None) -> Path:
    """The run's ``eval.json``, as ``wachat eval`` writes it (default: the showcase report)."""
    from ..core.atomic import write_json
    from ..core.layout import ProjectFiles

    path = ProjectFiles(Path(project.dir)).run(run_id).eval_json
    write_json(path, report if report is not None else showcase_report())
    return path
