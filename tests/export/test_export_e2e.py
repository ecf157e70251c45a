"""End to end with the embedded SmolLM2: demo import → a few training steps → `wachat export`.

Uses the shared session chain from tests/conftest.py (``exported_gguf`` is the q8_0 export made by
``wachat export demo --quant q8_0 --events``); the f16 export goes to a temp folder outside the
project (``--out``), is chatted with, and is deleted so that it stops being the project's newest
model.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from wachat_tui.core.layout import list_exports

from ..conftest import DEMO_FRIEND, DEMO_ME, run_wachat

pytestmark = pytest.mark.slow


def test_q8_0_export_is_verified_and_loads_in_plain_llama_cpp(exported_gguf, trained_run):
    import llama_cpp

    run_id = trained_run.name
    assert exported_gguf.name == f"{run_id}-q8_0.gguf"
    assert exported_gguf.parent == trained_run.parent.parent / "models"
    [record] = [r for r in list_exports(trained_run.parent.parent) if r.path == str(exported_gguf)]
    assert {c["check"]: c["passed"] for c in record.checks} == \
        {"logits": True, "tokens": True, "end_of_turn": True}
    assert record.run_id == run_id and record.quant == "q8_0"
    assert record.extra["lora_layers"] > 0 and record.extra["pre_tokenizer"] == "smollm"
    assert record.bytes < 0.6 * record.extra["f16_bytes"]

    llm = llama_cpp.Llama(str(exported_gguf), n_ctx=512, n_threads=1, verbose=False)
    try:
        meta = llm.metadata
        assert DEMO_ME in json.loads(meta["wachat.personas"])
        assert meta["wachat.run_id"] == run_id
        assert meta["wachat.project"] == "demo"
        assert meta["wachat.base_model"].startswith("embedded:smollm2")
        assert "<|im_start|>" in meta["tokenizer.chat_template"]
        # the style cards the run trained with travel in the file, and its system prompts say them
        cards = json.loads(meta["wachat.style_cards"])
        assert cards == json.loads((trained_run / "run.json").read_text())["style_cards"] and cards
        assert json.loads(meta["wachat.system_prompts"])[DEMO_ME].endswith(cards[DEMO_ME])
        assert record.style_cards == cards
        out = llm.create_chat_completion(
            messages=[{"role": "system", "content": json.loads(meta["wachat.system_prompts"])[DEMO_ME]},
                      {"role": "user", "content": "hey! are we still on for tonight?"}],
            max_tokens=48, temperature=0.0)
        assert out["choices"][0]["message"]["content"].strip()
    finally:
        llm.close()

    modelfile = (exported_gguf.parent / "Modelfile").read_text()
    assert f"FROM ./{exported_gguf.name}" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile and "approximate" not in modelfile
    assert f"You are {DEMO_ME}, texting with {DEMO_FRIEND}" in modelfile
    assert cards[DEMO_ME] in modelfile


def test_f16_export_passes_all_three_checks_and_chat_uses_it(trained_run, e2e_home, tmp_path):
    """`--out` into another folder: verified, remembered by the project, and `wachat chat` runs on it."""
    out = tmp_path / "elsewhere" / "demo-f16.gguf"
    proc = run_wachat("export", "demo", "--quant", "f16", "--out", str(out), "--events", home=e2e_home,
                      check=True)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    verified = {e["check"]: e for e in events if e["event"] == "verified"}
    assert set(verified) == {"tokens", "logits", "end_of_turn"}
    assert all(e["passed"] for e in verified.values()), verified
    finished = events[-1]
    assert finished["event"] == "finished" and Path(finished["path"]) == out
    logits = finished["metrics"]["checks"]["logits"]
    # ≥ 99% top-1 agreement; flips between candidates within 0.15 logits (f16 rounding) are reported as ties
    assert logits["top1_agreement"] + logits["near_ties"] / logits["positions"] >= 0.99
    assert logits["max_abs_diff"] < 1.0
    assert out.with_name("demo-f16.Modelfile").exists()
    stages = [e["stage"] for e in events if e["event"] == "stage"]
    assert stages[0] == "merging" and "quantizing" not in stages
    assert list_exports(trained_run.parent.parent)[0].path == str(out)  # the newest export

    try:
        chat = run_wachat("chat", "demo", "--as", DEMO_FRIEND, "-m", "are you up?", "--max-tokens", "16",
                          "--seed", "1", home=e2e_home, check=True)
        assert "no exported model" not in chat.stderr
        assert chat.stdout.splitlines()[0] == f"{DEMO_ME}: are you up?" and chat.stdout.count("\n") >= 2
        db = sqlite3.connect(trained_run.parent.parent / "chat.sqlite")
        [(model,)] = db.execute("SELECT model FROM conversations ORDER BY id DESC LIMIT 1").fetchall()
        db.close()
        assert model == out.name
    finally:
        out.unlink()  # the project's own q8_0 export is the newest again for the other tests
    assert str(out) not in [r.path for r in list_exports(trained_run.parent.parent)]
