"""A German and a Hebrew chat, end to end on the embedded default, in their own language.

Each goes through the real CLI as a user runs it: `wachat import` (the language is detected and
Gemma 3 270M is named as the default base) → `wachat train` (no --base: the default is Gemma) →
`wachat export` (llama.cpp's converter; verified: token ids, logits, replies that stop) →
`wachat chat` and `wachat simulate` through llama.cpp. What the model writes must be in the
chat's language, told by the same detector the import uses: Hebrew letters for the Hebrew chat,
German stop words (and no English ones) for the German one.

Small scale: a few optimizer steps at a high learning rate, short samples, no fidelity estimate
(24 Gemma replies per evaluation would cost more than the training). That is enough for
LoRA to teach the pretrained Gemma the turn format (it must emit ``<end_of_turn>``, which the
export checks) — not to sound like anyone.
"""
from __future__ import annotations

import json
import re

import pytest

from wachat_tui.core.language import detect_text, script_share

from .conftest import FIXTURES, run_wachat

CHATS = FIXTURES / "chats"
TRAIN = ("--max-steps", "8", "--lr", "2e-3", "--batch-size", "2", "--seq-len", "256", "--samples", "0",
         "--eval-steps", "8", "--eval-samples", "4", "--fidelity-cases", "0")
GENERATE = ("--max-tokens", "32", "--seed", "3", "--n-ctx", "1024", "--no-save")

GERMAN = {"ich", "du", "und", "nicht", "ist", "das", "die", "der", "ja", "auch", "mit", "zu", "es", "noch",
          "mal", "aber", "so", "wir", "hab", "bin", "was", "wie", "schon", "jetzt", "dann", "ein", "eine"}
ENGLISH = {"the", "you", "and", "is", "are", "i'm", "what", "with", "this", "that", "have", "to", "it"}


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _said_by(stdout: str, persona: str) -> list[str]:
    out = []
    for line in stdout.splitlines():
        name, sep, text = line.partition(": ")
        if sep and name == persona:
            out.append(text)
    return out


def _words(texts: list[str]) -> list[str]:
    return [w.casefold() for t in texts for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", t)]


CASES = [
    pytest.param("de_jonas_lena.txt", "Jonas", "Lena", "de", "German", "Hast du heute Abend Zeit?", id="german"),
    pytest.param("he_noa_itai.txt", "איתי", "נועה", "he", "Hebrew", "מה את עושה היום?", id="hebrew"),
]


@pytest.mark.slow
@pytest.mark.parametrize("chat, me, persona, code, language, message", CASES)
def test_chat_goes_end_to_end_in_its_own_language(tmp_path, chat, me, persona, code, language, message):
    home = tmp_path / "home"
    out = run_wachat("import", str(CHATS / chat), "--me", me, "--project", code, home=home, check=True).stdout
    assert f"language   {language} → default base Gemma 3 270M" in out

    proc = run_wachat("train", code, *TRAIN, "--events", home=home, check=True)
    events = _events(proc.stdout)
    [started] = [e for e in events if e["event"] == "started"]
    assert started["config"]["base_model"] == "embedded:gemma3-270m"
    assert [e for e in events if e["event"] == "finished"], proc.stdout[-2000:]

    proc = run_wachat("export", code, "--quant", "f16", "--events", home=home)
    events = _events(proc.stdout)
    checks = {e["check"]: (e["passed"], e["detail"]) for e in events if e["event"] == "verified"}
    assert proc.returncode == 0, (checks, proc.stderr[-1500:])
    assert {name for name, (passed, _) in checks.items() if passed} >= {"tokens", "logits", "end_of_turn"}

    chat_out = run_wachat("chat", code, "--as", persona, "--message", message, *GENERATE,
                          home=home, check=True).stdout
    replies = _said_by(chat_out, persona)
    assert replies, chat_out
    sim_out = run_wachat("simulate", code, "--turns", "4", "--opening", message, *GENERATE,
                         home=home, check=True).stdout
    simulated = [text for line in sim_out.splitlines() for _, sep, text in [line.partition(": ")] if sep]
    assert simulated[0] == message and len(simulated) > 1, sim_out
    generated = replies + simulated[1:]  # the opening is ours, the rest the model's
    text = "\n".join(generated)
    assert detect_text(text).primary == code, text
    if code == "he":
        assert script_share(text, "HEBREW") > 0.6, text
    else:
        words = _words(generated)
        german = sum(w in GERMAN for w in words)
        english = sum(w in ENGLISH for w in words)
        assert german >= 3 and german > 2 * english, text
