"""Training-test helpers: a tiny synthetic project (independent of the demo import) and a runner
for the real training process."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

PERSONA, FRIEND = "Maya", "Leo"
OPENERS = ["hey are you up", "did you see the game", "what are you doing tonight", "lunch tomorrow?",
           "i just missed the bus again", "guess who i ran into", "can you send me the photos",
           "my boss is driving me crazy", "should i get the blue one or the green one", "happy friday!!"]
REPLIES = ["haha yes obviously 😂", "omg no way", "lol tell me everything", "yesss let's do it",
           "ugh same 🙈", "noo 😭 again??", "sure, 1pm at the usual place?", "wait what haha",
           "sending now 📸", "blue. always blue 💙", "hahaha stop", "yay finally the weekend"]
FOLLOWUPS = ["ok cool", "haha right", "you're the best", "see you then", "ok ok", "lol fine"]


def tiny_samples(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    system = f"You are {PERSONA}, texting with {FRIEND} on WhatsApp. Reply the way {PERSONA} would."
    rows = []
    for i in range(n):
        msgs = [{"role": "system", "content": system}]
        for t in range(rng.randint(1, 3)):
            msgs.append({"role": "user", "content": rng.choice(OPENERS if t == 0 else FOLLOWUPS)})
            msg = {"role": "assistant", "content": rng.choice(REPLIES)}
            if t == 0 and rng.random() < 0.2:
                msg["train"] = False
            msgs.append(msg)
        if msgs[-1].get("train") is False and len(msgs) == 3:
            msgs.append({"role": "user", "content": "?"})
            msgs.append({"role": "assistant", "content": rng.choice(REPLIES)})
        rows.append({"id": f"s{seed}-{i}", "persona": PERSONA, "session": i, "messages": msgs})
    return rows


def make_tiny_project(root: Path, n_train: int = 24, n_val: int = 6, name: str = "tiny") -> Path:
    """A project folder with just what training reads: project.json and dataset/*.jsonl."""
    pdir = root / "projects" / name
    (pdir / "dataset").mkdir(parents=True, exist_ok=True)
    (pdir / "project.json").write_text(json.dumps({
        "name": name, "me": PERSONA, "personas": [PERSONA], "participants": [PERSONA, FRIEND],
        "is_group": False, "chat_name": FRIEND}))
    for split, n, seed in (("train", n_train, 1), ("validation", n_val, 2)):
        with open(pdir / "dataset" / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for row in tiny_samples(n, seed):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return pdir


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def run_worker(project_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real training process, as `wachat train` and the app start it."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.run([sys.executable, "-m", "wachat_tui.train", "--project-dir", str(project_dir), *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


# Fast settings for the tiny project: a few short steps, small eval, short samples.
FAST = ("--batch-size", "4", "--seq-len", "256", "--eval-max-samples", "4", "--samples", "1")


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    return make_tiny_project(Path(os.environ["WACHAT_HOME"]))
