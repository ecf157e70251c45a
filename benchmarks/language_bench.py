"""Non-English chats on the embedded bases: Gemma 3 270M (the default) vs SmolLM2-135M, same data.

    .venv/bin/python benchmarks/language_bench.py                  # default scale (minutes to hours on a CPU)
    .venv/bin/python benchmarks/language_bench.py --steps 20       # a fixed steps budget per run
    .venv/bin/python benchmarks/language_bench.py --chats de --json

For each fixture chat (German ``de_jonas_lena.txt``, Hebrew ``he_noa_itai.txt``) it imports the
chat into a temporary home, then for each base (Gemma 3 270M, chosen by default for these chats,
and SmolLM2-135M-Instruct, the English default) runs, through the real CLI as a user would:
``wachat train`` (default settings; both bases get the same number of optimizer steps: the
default epochs of the first base, or ``--steps``) → ``wachat export --quant q8_0`` (verified
by llama.cpp) → the fidelity measure of ``wachat_tui.eval`` on the project's held-out cases
(the exported GGUF as the candidate, the untrained base GGUF as the floor) → the language of
the generated replies (``core.language``: the share of replies in the chat's language, and for
Hebrew the share of Hebrew letters).

Reported per chat × base: training tokens/s and peak RSS, best validation loss (and the base's),
whether the export verified, fidelity / accuracy / style distance, and the language shares.
Timing figures are noisy on a shared machine: compare the two bases of one run, not runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("WACHAT_CACHE", str(REPO / ".cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

CHATS = {
    "de": ("de_jonas_lena.txt", "Jonas"),
    "he": ("he_noa_itai.txt", "איתי"),
}
BASES = ("embedded:gemma3-270m", "embedded:smollm2-135m")
SCRIPTS = {"he": "HEBREW", "ar": "ARABIC", "ru": "CYRILLIC", "hi": "DEVANAGARI"}


def wachat(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, WACHAT_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "wachat_tui", *args], capture_output=True, text=True, env=env)


def events(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def last(rows: list[dict], name: str) -> dict | None:
    found = [r for r in rows if r.get("event") == name]
    return found[-1] if found else None


def language_of(replies: list[str], language: str) -> dict:
    """Share of the replies detected as ``language``, and of the letters in its script."""
    from wachat_tui.core.language import detect_text, script_share

    texts = [r for r in replies if r.strip()]
    detected = [detect_text(r).primary for r in texts]
    out = {"replies": len(texts),
           "in_language": round(sum(d == language for d in detected) / len(texts), 3) if texts else None,
           "all_replies": detect_text("\n".join(texts)).summary}
    if language in SCRIPTS:
        out["script_share"] = round(script_share(" ".join(texts), SCRIPTS[language]), 3)
    return out


def measure_fidelity(project_dir: Path, gguf: Path, base_gguf: Path, cap: int) -> dict:
    from wachat_tui.eval.backends import GGUFBackend
    from wachat_tui.eval.cases import load_eval_data
    from wachat_tui.eval.measure import measure

    data = load_eval_data(project_dir)
    with GGUFBackend(gguf, name="fine-tuned") as candidate, GGUFBackend(base_gguf, name="base") as base:
        report = measure(data, candidate, base=base, cap=cap, n_examples=cap)  # every case as an example
    overall = report.overall.to_json()
    return {"fidelity": overall.get("fidelity"), "base_fidelity": overall.get("base_fidelity"),
            "accuracy": overall.get("accuracy"), "chance": overall.get("chance"),
            "ceiling": overall.get("ceiling"), "style_distance": overall.get("style_distance"),
            "base_style_distance": overall.get("base_style_distance"), "cases": report.settings.get("cases"),
            "example": report.examples[0].fine_tuned if report.examples else None, "_report": report}


def bench_one(home: Path, project: str, language: str, base: str, steps: int | None, cap: int) -> dict:
    from wachat_tui.core import embedded

    row: dict = {"base": base}
    args = ["train", project, "--base", base, "--events"]
    if steps:
        args += ["--max-steps", str(steps)]
    t0 = time.time()
    proc = wachat(home, *args)
    rows = events(proc)
    done = last(rows, "finished")
    if done is None:
        failed = last(rows, "failed") or {}
        row["error"] = f"train: {failed.get('error') or proc.stderr[-300:]}"
        return row
    m = done["metrics"]
    row.update(train_s=round(time.time() - t0), steps=m.get("steps"), tokens_per_s=m.get("tokens_per_s"),
               peak_rss_mb=m.get("peak_memory_mb"), base_eval_loss=m.get("base_eval_loss"),
               best_eval_loss=m.get("best_eval_loss"))
    t0 = time.time()
    proc = wachat(home, "export", project, "--quant", "q8_0", "--events")
    rows = events(proc)
    done = last(rows, "finished")
    row["checks"] = {r["check"]: r["passed"] for r in rows if r.get("event") == "verified"}
    row["export_s"] = round(time.time() - t0)
    if done is None:
        failed = last(rows, "failed") or {}
        row["error"] = f"export: {failed.get('error') or proc.stderr[-300:]}"
        return row
    gguf = Path(done["path"])
    base_gguf = embedded.lookup(base).gguf_path()
    os.environ["WACHAT_HOME"] = str(home)
    fid = measure_fidelity(home / "projects" / project, gguf, base_gguf, cap)
    report = fid.pop("_report")
    row["fidelity"] = fid
    row["language"] = language_of([e.fine_tuned for e in report.examples], language)
    row["base_language"] = language_of([e.base or "" for e in report.examples], language)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chats", nargs="+", choices=sorted(CHATS), default=sorted(CHATS))
    ap.add_argument("--steps", type=int, help="optimizer steps per run (default: the default epochs)")
    ap.add_argument("--cap", type=int, default=40, help="held-out cases measured per run (default 40)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    results = {}
    for code in args.chats:
        name, me = CHATS[code]
        with tempfile.TemporaryDirectory(prefix="wachat-langbench-") as tmp:
            home = Path(tmp)
            proc = wachat(home, "import", str(REPO / "tests" / "fixtures" / "chats" / name), "--me", me,
                          "--project", code)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return 1
            steps = args.steps
            per_base = []
            for base in BASES:
                row = bench_one(home, code, code, base, steps, args.cap)
                steps = steps or row.get("steps")  # the second base gets the first one's budget
                per_base.append(row)
                if not args.json:
                    print(f"{code} {base}: {json.dumps({k: v for k, v in row.items() if k != 'fidelity'}, ensure_ascii=False)}",
                          flush=True)
                    if "fidelity" in row:
                        print(f"    fidelity: {json.dumps(row['fidelity'], ensure_ascii=False)[:600]}", flush=True)
            results[code] = per_base
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print("\nchat base                    steps tok/s  peak MB  loss base→best   export  fidelity (base)  in-language")
        for code, rows in results.items():
            for r in rows:
                fid = r.get("fidelity") or {}
                lang = r.get("language") or {}
                loss = (f"{r['base_eval_loss']:.2f}→{r['best_eval_loss']:.2f}"
                        if r.get("best_eval_loss") is not None and r.get("base_eval_loss") is not None else "–")
                print(f"{code:4} {r['base']:24} {r.get('steps', '–')!s:>5} {r.get('tokens_per_s', '–')!s:>5} "
                      f"{r.get('peak_rss_mb', '–')!s:>8} {loss:>14} {'ok' if 'error' not in r else 'FAIL':>7} "
                      f"{fid.get('fidelity')!s:>8} ({fid.get('base_fidelity')!s}) {lang.get('in_language')!s:>8}"
                      + (f"  {r['error'][:100]}" if "error" in r else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
