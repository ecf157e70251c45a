"""The on-disk layout of a project and of its training runs — paths only, plus the run record.

Every other module asks this one where a project's files are; no path literal for a
project file (``"runs"``, ``"dataset"/"train.jsonl"``, ``"project.json"`` …) appears anywhere
else. :class:`ProjectFiles` and :class:`RunFiles` do no I/O; :class:`RunRecord` is the one
shape of ``run.json`` (written by the training job, read by the CLI, the TUI, export and
eval); :func:`list_runs` / :func:`find_run` are the one way to enumerate and pick runs.

::

    <project>/
      project.json           config: chats (source, platform, participants, counts), people
                             (name → aliases), me, personas, options (always written last)
      chats/<chat_id>/       one folder per chat: messages.jsonl (parsed messages, names as
                             the export spells them)
      dataset/               train.jsonl, validation.jsonl, pairs.jsonl (made on first use)
      exclusions.json        pairs excluded in review
      stats.json             the style document
      exports.json           every verified GGUF written for this project, wherever it lives
      chat.sqlite            chat history
      eval-cache/            base-<key>.json: the base model's replies `wachat eval` measured (the floor)
      .lock                  the one-writer lock (short writes; records who holds it)
      .training.lock         held by the running training process (one run at a time)
      .export.lock           held by the running export
      .journal.json          renames of a multi-file write in progress (finished after a crash)
      runs/<run_id>/         run.json, metrics.json, events.jsonl, samples.jsonl, eval.json,
                             blind.json, adapter/, checkpoints/checkpoint-N/, data/ (snapshot)
      runs/train.log         stderr of the training processes
      models/                default folder of exported GGUFs, Modelfile, export.log, lora/
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import WachatError


# --------------------------------------------------------------------------- projects
@dataclass(frozen=True)
class ProjectFiles:
    """Where a project's files are. Paths only: nothing here touches the disk."""

    dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir))

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def project_json(self) -> Path:
        return self.dir / "project.json"

    @property
    def legacy_messages(self) -> Path:
        """Where a project made before chats had folders kept its one chat's messages (moved
        into ``chats/<chat_id>/`` when the project is opened)."""
        return self.dir / "messages.jsonl"

    @property
    def chats_dir(self) -> Path:
        return self.dir / "chats"

    def chat(self, chat_id: str) -> "ChatFiles":
        """The files of one chat of the project."""
        return ChatFiles(self.chats_dir / chat_id)

    @property
    def dataset_dir(self) -> Path:
        return self.dir / "dataset"

    @property
    def train(self) -> Path:
        return self.dataset_dir / "train.jsonl"

    @property
    def validation(self) -> Path:
        return self.dataset_dir / "validation.jsonl"

    @property
    def pairs(self) -> Path:
        return self.dataset_dir / "pairs.jsonl"

    @property
    def exclusions(self) -> Path:
        return self.dir / "exclusions.json"

    @property
    def stats(self) -> Path:
        return self.dir / "stats.json"

    @property
    def exports(self) -> Path:
        """The registry of verified exports (``exports.json``), wherever each file was written."""
        return self.dir / "exports.json"

    @property
    def chat_db(self) -> Path:
        return self.dir / "chat.sqlite"

    @property
    def lock(self) -> Path:
        """The write lock: held around every write of the project's files (see core/lock.py)."""
        return self.dir / ".lock"

    def job_lock(self, job: str) -> Path:
        """The lock a long job (``training``, ``export``) holds while it runs."""
        return self.dir / f".{job}.lock"

    @property
    def journal(self) -> Path:
        """The pending renames of a multi-file write (core/atomic.py ``transaction``)."""
        return self.dir / ".journal.json"

    @property
    def runs_dir(self) -> Path:
        return self.dir / "runs"

    @property
    def train_log(self) -> Path:
        return self.runs_dir / "train.log"

    @property
    def models_dir(self) -> Path:
        return self.dir / "models"

    @property
    def eval_cache(self) -> Path:
        """The base model's replies to held-out cases, kept by ``wachat eval``: the floor is the
        same for every run of the project, so it is generated once per model, sampling and case set."""
        return self.dir / "eval-cache"

    def base_replies(self, key: str) -> Path:
        """One cached set of base-model replies (``key``: a digest of model, sampling and cases)."""
        return self.eval_cache / f"base-{key}.json"

    @property
    def export_log(self) -> Path:
        return self.models_dir / "export.log"

    @property
    def modelfile(self) -> Path:
        """The Ollama Modelfile written beside a default export."""
        return self.models_dir / "Modelfile"

    @property
    def lora_dir(self) -> Path:
        """GGUF LoRA adapters (``wachat export --lora-gguf``) of default exports."""
        return self.models_dir / "lora"

    def run(self, run_id: str) -> "RunFiles":
        return RunFiles(self.runs_dir / run_id)

    def is_project(self) -> bool:
        return self.project_json.is_file()


@dataclass(frozen=True)
class ChatFiles:
    """Where one chat of a project keeps its files. Paths only."""

    dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir))

    @property
    def chat_id(self) -> str:
        return self.dir.name

    @property
    def messages(self) -> Path:
        return self.dir / "messages.jsonl"


@dataclass(frozen=True)
class RunFiles:
    """Where one training run's files are. Paths only."""

    dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir))

    @property
    def run_id(self) -> str:
        return self.dir.name

    @property
    def project(self) -> ProjectFiles:
        return ProjectFiles(self.dir.parent.parent)

    @property
    def run_json(self) -> Path:
        return self.dir / "run.json"

    @property
    def metrics(self) -> Path:
        return self.dir / "metrics.json"

    @property
    def events(self) -> Path:
        return self.dir / "events.jsonl"

    @property
    def samples(self) -> Path:
        return self.dir / "samples.jsonl"

    @property
    def eval_json(self) -> Path:
        """The fidelity report of ``wachat eval`` for this run."""
        return self.dir / "eval.json"

    @property
    def blind(self) -> Path:
        """Scores of the "which one is real?" test played on this run."""
        return self.dir / "blind.json"

    @property
    def adapter(self) -> Path:
        return self.dir / "adapter"

    @property
    def adapter_note(self) -> Path:
        """Base model and personas, kept beside the adapter weights."""
        return self.adapter / "wachat.json"

    @property
    def checkpoints(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def data_dir(self) -> Path:
        """The snapshot of the dataset this run trains on (a refresh cannot change it)."""
        return self.dir / "data"

    @property
    def snapshot_train(self) -> Path:
        """The run's copy of the project's ``train.jsonl``, taken when the run started."""
        return self.data_dir / "train.jsonl"

    @property
    def snapshot_validation(self) -> Path:
        """The run's copy of the project's ``validation.jsonl``."""
        return self.data_dir / "validation.jsonl"

    @property
    def snapshot_pairs(self) -> Path:
        """The run's copy of the project's ``pairs.jsonl`` (who said what, for held-out contexts and eval)."""
        return self.data_dir / "pairs.jsonl"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"checkpoint-{step}"

    def has_adapter(self) -> bool:
        return (self.adapter / "adapter_config.json").is_file()

    def last_checkpoint(self) -> Path | None:
        """The newest checkpoint written completely (``trainer_state.json`` is saved last)."""
        if not self.checkpoints.is_dir():
            return None
        found = []
        for p in self.checkpoints.iterdir():
            if p.is_dir() and p.name.startswith("checkpoint-") and checkpoint_complete(p):
                try:
                    found.append((int(p.name.split("-", 1)[1]), p))
                except ValueError:
                    continue
        return max(found)[1] if found else None


def checkpoint_complete(folder: Path) -> bool:
    """Whether a trainer checkpoint was written to the end: its ``trainer_state.json`` (written
    last, and not atomically) is there and whole. A process killed while saving leaves one
    without it, or with it cut short."""
    try:
        with open(Path(folder) / "trainer_state.json", encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and "global_step" in state


def state_file(data_home: Path) -> Path:
    """The app's own state (``{"last_project": name}``), beside the projects folder."""
    return Path(data_home) / "state.json"


# --------------------------------------------------------------------------- JSON reading
class DamagedFile(WachatError):
    """A wachat file exists but is not what it should be (torn, edited by hand, wrong type)."""


def read_json(path: Path, *, missing: Any = ...) -> Any:
    """A JSON document; ``missing`` is returned when the file does not exist (else FileNotFoundError).

    A file that exists but cannot be read or parsed raises :class:`DamagedFile` with one line.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        if missing is ...:
            raise
        return missing
    except (OSError, ValueError) as exc:
        raise DamagedFile(f"cannot read {path}: {exc}".splitlines()[0],
                          "the file is damaged; re-import the chat with --refresh") from None


def read_json_object(path: Path, *, missing: Any = ...) -> Any:
    """Like :func:`read_json` but the document must be a JSON object."""
    data = read_json(path, missing=missing)
    if data is missing and missing is not ...:
        return data
    if not isinstance(data, dict):
        raise DamagedFile(f"{path} is not a JSON object", "re-import the chat with --refresh")
    return data


# --------------------------------------------------------------------------- runs
RUN_STATUSES = ("running", "finished", "failed", "cancelled")


@dataclass
class RunRecord:
    """``run.json``: what a training run is, and how far it got. The one shape of that file."""

    run_id: str
    project: str = ""
    base_model: str = ""
    base_path: str = ""
    mode: str = ""
    personas: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    status: str = "running"
    best_eval_loss: float | None = None
    best_step: int | None = None
    base_eval_loss: float | None = None
    best_fidelity: float | None = None
    style_cards: dict = field(default_factory=dict)
    """``{persona: card}``: the style cards this run's system prompts carry (empty: none)."""
    step: int = 0
    max_steps: int = 0
    device: str = "cpu"
    error: str | None = None
    created: str = ""
    updated: str = ""
    pid: int | None = None
    dir: Path | None = field(default=None, compare=False, repr=False)
    """The run folder this record was read from (not stored in the file)."""

    # -- JSON --------------------------------------------------------------------------
    def to_json(self) -> dict:
        row = asdict(self)
        row.pop("dir")
        return row

    @classmethod
    def from_json(cls, row: dict, directory: Path | None = None) -> "RunRecord":
        known = {f.name for f in fields(cls)} - {"dir"}
        data = {k: v for k, v in row.items() if k in known}
        if "run_id" not in data:
            if directory is None:
                raise DamagedFile("run.json has no run_id", "the run folder is damaged")
            data["run_id"] = Path(directory).name
        data["personas"] = list(data.get("personas") or [])
        data["config"] = dict(data.get("config") or {})
        data["style_cards"] = {str(k): str(v) for k, v in dict(data.get("style_cards") or {}).items()}
        data["step"] = int(data.get("step") or 0)
        data["max_steps"] = int(data.get("max_steps") or 0)
        return cls(**data, dir=Path(directory) if directory is not None else None)

    @classmethod
    def read(cls, run: RunFiles | Path) -> "RunRecord":
        files = run if isinstance(run, RunFiles) else RunFiles(run)
        return cls.from_json(read_json_object(files.run_json), files.dir)

    # -- derived -----------------------------------------------------------------------
    @property
    def files(self) -> RunFiles:
        if self.dir is None:
            raise ValueError("this run record was not read from disk")
        return RunFiles(self.dir)

    @property
    def path(self) -> Path:
        return self.files.dir

    @property
    def adapter(self) -> Path:
        return self.files.adapter

    @property
    def has_adapter(self) -> bool:
        return self.files.has_adapter()

    @property
    def has_checkpoint(self) -> bool:
        return self.files.last_checkpoint() is not None

    def is_alive(self) -> bool:
        """A ``running`` record whose process still exists (a killed run stays "running" on disk)."""
        return self.status == "running" and self.pid is not None and pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def list_runs(project: ProjectFiles | Path) -> list[RunRecord]:
    """The project's runs with a readable ``run.json``, oldest first."""
    files = project if isinstance(project, ProjectFiles) else ProjectFiles(project)
    if not files.runs_dir.is_dir():
        return []
    out = []
    for d in files.runs_dir.iterdir():
        if not d.is_dir() or d.name.startswith("."):
            continue
        try:
            out.append(RunRecord.read(RunFiles(d)))
        except (FileNotFoundError, DamagedFile, TypeError, ValueError):
            continue  # a run folder being created, or a damaged one: not listed
    out.sort(key=lambda r: (r.created, r.run_id))
    return out


def find_run(project: ProjectFiles | Path, run_id: str | None = None, *,
             need_adapter: bool = False, prefer_finished: bool = False) -> RunRecord:
    """A run by id (or a unique prefix of one); ``None`` = the latest run.

    ``need_adapter`` keeps only runs with a saved adapter; ``prefer_finished`` makes the
    latest *finished* run the default when there is one.
    """
    files = project if isinstance(project, ProjectFiles) else ProjectFiles(project)
    runs = list_runs(files)
    name = files.name
    if run_id is not None:
        exact = [r for r in runs if r.run_id == run_id]
        prefixed = [r for r in runs if r.run_id.startswith(run_id)]
        found = exact or (prefixed if len(prefixed) == 1 else [])
        if not found:
            known = ", ".join(r.run_id for r in runs[-5:]) or "none yet"
            raise WachatError(f"project {name!r} has no run named {run_id!r}", f"known runs: {known}")
        run = found[0]
        if need_adapter and not run.has_adapter:
            raise WachatError(f"run {run.run_id!r} has no saved adapter (status: {run.status})",
                              "export or evaluate a finished run, or train again")
        return run
    if need_adapter:
        usable = [r for r in runs if r.has_adapter]
        if not usable:
            if runs:
                raise WachatError(f"no run of project {name!r} has a saved adapter yet",
                                  f"wait for training to finish, or run `wachat train {name}`")
            raise WachatError(f"project {name!r} has no trained runs", f"train one first: `wachat train {name}`")
        runs = usable
    if not runs:
        raise WachatError(f"project {name!r} has no training run yet", f"train one with `wachat train {name}`")
    if prefer_finished:
        finished = [r for r in runs if r.status == "finished"]
        if finished:
            return finished[-1]
    return runs[-1]


def new_run_id(project: ProjectFiles | Path) -> str:
    """A fresh run id: the local time, with a suffix if that second is taken."""
    from datetime import datetime

    files = project if isinstance(project, ProjectFiles) else ProjectFiles(project)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, n = stamp, 2
    while (files.runs_dir / run_id).exists():
        run_id, n = f"{stamp}-{n}", n + 1
    return run_id


# --------------------------------------------------------------------------- exports
@dataclass
class ExportRecord:
    """One verified GGUF written for the project: an entry of ``exports.json``.

    Exports may be written anywhere (``wachat export --out ~/models/maya.gguf``); the project
    remembers each one, so chat, eval and the TUI find them wherever they are.
    """

    path: str
    run_id: str = ""
    quant: str = ""
    bytes: int = 0
    created: str = ""
    seconds: float | None = None
    checks: list = field(default_factory=list)
    lora_path: str | None = None
    base_path: str | None = None
    """For an adapter-only export: the shared base GGUF the adapter is applied to."""
    modelfile: str | None = None
    fidelity: dict | None = None
    style_cards: dict | None = None
    """``{persona: card}`` the run trained with (None: an export made before style cards)."""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict) -> "ExportRecord":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in known}
        extra = {k: v for k, v in row.items() if k not in known}
        if extra:
            data["extra"] = {**dict(data.get("extra") or {}), **extra}
        return cls(**data)

    @property
    def exists(self) -> bool:
        return Path(self.path).is_file()


def list_exports(project: ProjectFiles | Path, *, existing_only: bool = True) -> list[ExportRecord]:
    """Verified exports of a project, newest first (files deleted since are left out)."""
    files = project if isinstance(project, ProjectFiles) else ProjectFiles(project)
    rows = read_json(files.exports, missing=None)
    if rows is None:
        rows = _legacy_export_rows(files)
    if isinstance(rows, dict):
        rows = rows.get("exports", [])
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not row.get("path"):
            continue
        rec = ExportRecord.from_json(row)
        if existing_only and not rec.exists:
            continue
        out.append(rec)
    out.sort(key=lambda r: r.created, reverse=True)
    return out


def _legacy_export_rows(files: ProjectFiles) -> list[dict]:
    """Exports made before ``exports.json`` existed: the ``<name>.export.json`` record written
    beside each GGUF in ``models/``. The next export copies them into ``exports.json``."""
    rows = []
    for path in sorted(files.models_dir.glob("*.export.json")) if files.models_dir.is_dir() else []:
        try:
            row = read_json_object(path)
        except DamagedFile:
            continue  # a torn side record of an old version: that export is simply not listed
        if isinstance(row.get("seconds"), dict):
            row["seconds"] = row["seconds"].get("total_s")
        if isinstance(row.get("checks"), dict):
            row["checks"] = [{"check": k, **v} for k, v in row["checks"].items() if isinstance(v, dict)]
        rows.append(row)
    return rows


def remember_export(project: ProjectFiles | Path, record: ExportRecord) -> None:
    """Add (or replace, by path) one export in ``exports.json``, atomically."""
    from .atomic import write_json
    from .lock import project_lock

    files = project if isinstance(project, ProjectFiles) else ProjectFiles(project)
    with project_lock(files, "recording an export"):  # read-modify-write: one writer at a time
        current = [r for r in list_exports(files, existing_only=False)
                   if os.path.abspath(r.path) != os.path.abspath(record.path)]
        rows = [record.to_json()] + [r.to_json() for r in current]
        write_json(files.exports, {"exports": rows})
