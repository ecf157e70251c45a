"""Shared fixtures.

Isolation: every test gets its own WACHAT_HOME (projects) — nothing touches the user's data.
Converted base models are cached in <repo>/.cache/models (WACHAT_CACHE=<repo>/.cache) so the 30 s GGUF →
HF conversion happens once per machine, not once per test run.

End-to-end chain (session-scoped, built lazily, each step through the real CLI in a
subprocess exactly as a user runs it):
    demo_project  → `wachat import <demo> --me Maya --project demo`
    trained_run   → `wachat train demo --max-steps … --fidelity-cases 6 --events`
    exported_gguf → `wachat export demo --quant q8_0`
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "whatsapp"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEMO_ME = "Maya"
DEMO_FRIEND = "Leo"

os.environ.setdefault("WACHAT_CACHE", str(REPO / ".cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle OpenMP (torch) threads sleep instead of spinning: on 2 shared cores spinning makes torch
# several times slower (measured: a LoRA step 35 s with spinning vs 7-9 s without).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch, request):
    """Each test its own WACHAT_HOME unless it uses the shared e2e home."""
    if "e2e_home" in request.fixturenames:
        return
    home = tmp_path / "wachat-home"
    monkeypatch.setenv("WACHAT_HOME", str(home))


def run_wachat(*args: str, home: Path | None = None, input: str | None = None,
               timeout: float = 900, check: bool = False) -> subprocess.CompletedProcess:
    """Run the real `wachat` CLI in a fresh process (as users and scripts do)."""
    env = dict(os.environ)
    if home is not None:
        env["WACHAT_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "wachat_tui", *args],
        capture_output=True, text=True, env=env, input=input, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"wachat {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def e2e_home(tmp_path_factory) -> Path:
    """One WACHAT_HOME shared by the end-to-end chain (import → train → export → chat)."""
    home = tmp_path_factory.mktemp("e2e-home")
    old = os.environ.get("WACHAT_HOME")
    os.environ["WACHAT_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("WACHAT_HOME", None)
    else:
        os.environ["WACHAT_HOME"] = old


@pytest.fixture(scope="session")
def demo_project(e2e_home) -> Path:
    from wachat_tui.paths import demo_export

    run_wachat("import", str(demo_export()), "--me", DEMO_ME, "--project", "demo",
               home=e2e_home, check=True)
    path = e2e_home / "projects" / "demo"
    assert (path / "project.json").exists()
    return path


@pytest.fixture(scope="session")
def trained_run(demo_project, e2e_home) -> Path:
    """A real (tiny) LoRA run on the embedded model; returns the run directory."""
    # a small fidelity estimate (6 replies of up to 16 tokens) keeps the three evaluations quick
    proc = run_wachat("train", "demo", "--max-steps", "6", "--eval-steps", "3", "--save-steps", "3",
                      "--fidelity-cases", "6", "--fidelity-tokens", "16", "--events", home=e2e_home, check=True)
    events = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    finished = [e for e in events if e["event"] == "finished"]
    assert finished, proc.stdout[-3000:] + proc.stderr[-3000:]
    adapter = Path(finished[-1]["path"])
    return adapter.parent


@pytest.fixture(scope="session")
def exported_gguf(trained_run, e2e_home) -> Path:
    proc = run_wachat("export", "demo", "--quant", "q8_0", "--events", home=e2e_home, check=True)
    events = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    finished = [e for e in events if e["event"] == "finished"]
    assert finished, proc.stdout[-3000:] + proc.stderr[-3000:]
    return Path(finished[-1]["path"])
