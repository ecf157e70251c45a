"""The privacy promise, proven: the whole journey — import → train → export → chat → simulate →
eval — runs in processes that have no network, with HF_HUB_OFFLINE deliberately unset, and not
one of them even tries to reach it. A hub model name then fails with one clear line, not a hang.

"No network" is a network namespace (``unshare -n``: only a loopback that is down) where the
machine allows one; elsewhere every socket is refused by an audit hook (netguard/sitecustomize.py),
which in both cases also records each attempt.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wachat_tui.privacy import TELEMETRY_OFF

REPO = Path(__file__).resolve().parents[2]
NETGUARD = Path(__file__).resolve().parent / "netguard"


def isolation() -> list[str]:
    """The command prefix that gives a process no network (empty: the audit hook refuses sockets)."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if shutil.which(prefix[0]) and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """Run ``wachat ARGS`` without a network; returns (run, attempts-log)."""
    root = tmp_path_factory.mktemp("offline")
    log = root / "network-attempts.log"
    prefix = isolation()
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "CI",
                        *TELEMETRY_OFF)}          # wachat itself must turn the pings off
    env.update(WACHAT_HOME=str(root / "home"), WACHAT_NETGUARD_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(NETGUARD), str(REPO), env.get("PYTHONPATH", "")]))
    if not prefix:
        env["WACHAT_NETGUARD_BLOCK"] = "1"

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "wachat_tui", *args], capture_output=True,
                              text=True, env=env, timeout=timeout)

    return run, log, prefix


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _finished(proc: subprocess.CompletedProcess) -> dict:
    events = [json.loads(line) for line in _ok(proc).stdout.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "finished", events[-3:]
    return events[-1]


@pytest.mark.slow
def test_the_whole_journey_runs_without_a_network_and_never_tries_one(offline):
    from wachat_tui.paths import demo_export

    run, log, prefix = offline
    probe = run("parse", str(demo_export()))        # the isolation itself works
    _ok(probe)
    _ok(run("import", str(demo_export()), "--me", "Maya", "--project", "demo"))
    trained = _finished(run("train", "demo", "--events", "--max-steps", "2", "--eval-steps", "2",
                            "--batch-size", "2", "--seq-len", "128", "--eval-max-samples", "2",
                            "--samples", "0"))
    assert Path(trained["path"], "adapter_model.safetensors").is_file()
    gguf = Path(_finished(run("export", "demo", "--events"))["path"])
    assert gguf.is_file()
    chat = _ok(run("chat", "demo", "--as", "Leo", "-m", "are you coming tonight?", "--max-tokens", "8",
                   "--seed", "1"))
    assert chat.stdout.startswith("Maya: are you coming tonight?\n")
    sim = _ok(run("simulate", "demo", "--turns", "2", "--opening", "hey", "--max-tokens", "8", "--seed", "1"))
    assert sim.stdout.splitlines()[0] == "Maya: hey" and len(sim.stdout.splitlines()) >= 3
    report = json.loads(_ok(run("eval", "demo", "--samples", "1", "--json")).stdout)
    assert report["settings"]["run_id"] == Path(trained["path"]).parent.name

    attempts = log.read_text() if log.exists() else ""
    assert attempts == "", f"network use attempted ({'namespace' if prefix else 'audit hook'}):\n{attempts}"


@pytest.mark.slow
def test_a_hub_model_without_a_network_is_one_clear_error_not_a_hang(offline):
    from wachat_tui.paths import demo_export

    run, log, prefix = offline
    _ok(run("import", str(demo_export()), "--me", "Maya", "--project", "hub"))
    proc = run("train", "hub", "--base", "someone/some-chat-model", "--max-steps", "1", timeout=300)
    assert proc.returncode != 0
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("wachat: error: could not download base model 'someone/some-chat-model'"), line
    assert "--base embedded:" in line                 # the way out: the embedded model


def test_the_telemetry_switches_are_set_for_every_process(tmp_path):
    """`wachat` sets them before any library reads them; the workers inherit them; the hub library
    that would send TRL's usage ping sees it is off."""
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    script = ("import os, sys\nfrom wachat_tui.cli import main\nmain(['projects'])\n"
              "import huggingface_hub.constants as c\n"
              "print({k: os.environ.get(k) for k in " + repr(sorted(TELEMETRY_OFF)) + "})\n"
              "print(c.HF_HUB_DISABLE_TELEMETRY)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    *_, switches, hub_off = proc.stdout.strip().splitlines()
    assert eval(switches) == TELEMETRY_OFF
    assert hub_off == "True"
    # a value the user chose is kept
    mine = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(env, DO_NOT_TRACK="0"))
    assert eval(mine.stdout.strip().splitlines()[-2])["DO_NOT_TRACK"] == "0"
