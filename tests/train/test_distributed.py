"""The multi-machine path, run for real: the training process under `accelerate launch` with two
processes on the CPU (DDP over gloo), on a tiny project.

`accelerate launch --cpu --num_processes 2` starts a single process in accelerate 1.x (multi-CPU
runs go through mpirun; huggingface/accelerate#2741), so the test launches the way a CPU-only
machine can get two ranks from accelerate: `--multi_gpu` (torchrun underneath) with the worker's
`--device cpu`, which makes accelerate and the Trainer use the gloo backend.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import events_of

pytestmark = pytest.mark.slow

OPTIONS = ("--device", "cpu", "--batch-size", "2", "--grad-accum", "1", "--seq-len", "128", "--eval-samples", "1", "--samples", "0",
           "--save-steps", "1", "--eval-steps", "100", "--lr", "1e-3")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_tree(pid: int) -> None:
    """SIGKILL the launcher and every process under it (torchrun starts the ranks in their own groups)."""
    import psutil

    launcher = psutil.Process(pid)
    tree = [*launcher.children(recursive=True), launcher]
    for proc in tree:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=30)
    assert not alive, alive


def _launch(project: Path, log: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(_free_port()),
           "-m", "wachat_tui.train", "--project-dir", str(project), *args]
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    with open(log, "w") as stderr:  # a file, not a pipe: nobody reads it while the run goes
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                                start_new_session=True)


def test_two_processes_train_resume_and_the_result_loads(tiny_project, tmp_path):
    # 1. two ranks, killed hard (the launcher and both ranks) right after the first checkpoint
    first = _launch(tiny_project, tmp_path / "first.log", "--run-id", "multi", "--max-steps", "3", *OPTIONS)
    seen = []
    for line in first.stdout:
        seen.append(json.loads(line))
        if seen[-1]["event"] == "checkpointed":
            _kill_tree(first.pid)
            break
    first.wait(timeout=60)
    assert seen and seen[-1]["event"] == "checkpointed", (tmp_path / "first.log").read_text()[-3000:]
    assert seen[-1]["step"] == 1
    started = next(e for e in seen if e["event"] == "started")
    assert started["config"]["world_size"] == 2
    # each rank takes its own share of the data: 2 ranks × batch 2 = 4 of the 24 samples per step
    assert next(e for e in seen if e["event"] == "step")["epoch"] == pytest.approx(4 / 24, abs=1e-3)

    # 2. resumed under the launcher again: continues from the checkpoint and finishes
    second = _launch(tiny_project, tmp_path / "second.log", "--resume", "multi", *OPTIONS)
    out, _ = second.communicate(timeout=600)
    err = (tmp_path / "second.log").read_text()
    assert second.returncode == 0, out[-2000:] + err[-2000:]
    events = events_of(out)
    assert events[0]["event"] == "log" and "resuming from checkpoint-1" in events[0]["message"]
    assert [e["step"] for e in events if e["event"] == "step"] == [2, 3]
    assert events[-1]["event"] == "finished" and events[-1]["metrics"]["steps"] == 3
    # both ranks trained to the end; only rank 0 spoke (every event once, on stdout and on disk)
    for rank in (0, 1):
        assert f"process {rank} of 2 finished at step 3" in err
    assert [e["event"] for e in events].count("finished") == 1
    run = tiny_project / "runs" / "multi"
    on_disk = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    steps = [e["step"] for e in on_disk if e["event"] == "step"]
    assert [e["event"] for e in on_disk].count("started") == 2 and sorted(set(steps)) == [1, 2, 3]
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # no half-written adapter left

    # 3. the adapter loads onto the base model and changes it
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_path = json.loads((run / "run.json").read_text())["base_path"]
    model = AutoModelForCausalLM.from_pretrained(base_path)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        before = model(ids).logits
        after = PeftModel.from_pretrained(model, str(run / "adapter"))(ids).logits
    assert not torch.allclose(before, after)
