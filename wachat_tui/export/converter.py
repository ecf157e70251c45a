"""Where llama.cpp's own HF → GGUF converters live, and how setup puts them there.

Export converts with ``convert_hf_to_gguf.py`` / ``convert_lora_to_gguf.py`` from the llama.cpp
revision that the installed ``llama-cpp-python`` was built from, so a GGUF always matches the
runtime that loads it. They are not a registry package of their own: they ship inside
llama-cpp-python's *source* distribution (``vendor/llama.cpp/``, with the ``conversion/``
package they import and the ``gguf-py`` they were written against, which is newer than the
``gguf`` wheel of the same version number).

Setup — ``make setup`` or, after a plain ``pip install``, once by hand::

    python -m wachat_tui.export.converter install [--sdist FILE]

downloads that sdist with pip (the registry the library itself came from; ``--sdist`` takes a
file you already have) and extracts only the converter files into
``<venv>/share/wachat/llama.cpp-<version>/`` (the environment the library is installed in), or
``<cache>/llama.cpp-<version>/`` when that folder is not writable. Export itself never touches
the network: when the converter is missing it stops with one line saying to run the command
above. ``WACHAT_LLAMA_CONVERTER`` may point at a llama.cpp checkout instead.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ModelError

PACKAGE = "llama-cpp-python"
ENV_DIR = "WACHAT_LLAMA_CONVERTER"
COMPLETE_MARK = ".wachat-complete"
INSTALL_COMMAND = "python -m wachat_tui.export.converter install"

# What export needs from vendor/llama.cpp/: the two scripts, the packages they import, the licence,
# and two real tokenizer vocabularies (GPT-2, Qwen2) that the export tests build tokenizers from.
MEMBERS = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/gguf/", "LICENSE",
           "models/ggml-vocab-gpt-2.gguf", "models/ggml-vocab-qwen2.gguf")
VENDOR_PREFIX = "vendor/llama.cpp/"


@dataclass(frozen=True)
class Converter:
    """A usable converter folder (what :func:`find_converter` returns)."""

    root: Path
    version: str

    @property
    def model_script(self) -> Path:
        return self.root / "convert_hf_to_gguf.py"

    @property
    def lora_script(self) -> Path:
        return self.root / "convert_lora_to_gguf.py"

    @property
    def gguf_py(self) -> Path:
        return self.root / "gguf-py"

    def vocab_file(self, name: str) -> Path:
        """A vocab-only GGUF from llama.cpp's ``models/`` (e.g. ``gpt-2``, ``qwen2``)."""
        return self.root / "models" / f"ggml-vocab-{name}.gguf"


def installed_version() -> str:
    """The installed llama-cpp-python version: the converter must come from the same release."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        raise ModelError("llama-cpp-python is not installed, so there is nothing to export for",
                         hint="pip install 'wachat-tui[chat]'") from None


def install_dirs(version: str) -> list[Path]:
    """Where setup may put the converter, best first: beside the library, else the user cache."""
    from ..paths import cache_home

    name = f"llama.cpp-{version}"
    return [Path(sys.prefix) / "share" / "wachat" / name, cache_home() / name]


def _complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARK).is_file() and (folder / "convert_hf_to_gguf.py").is_file()


def find_converter(version: str | None = None) -> Converter:
    """The converter for the installed llama-cpp-python, or a ModelError saying how to get it."""
    override = os.environ.get(ENV_DIR)
    if override:
        root = Path(override).expanduser()
        if not (root / "convert_hf_to_gguf.py").is_file():
            raise ModelError(f"{ENV_DIR}={override} does not hold llama.cpp's convert_hf_to_gguf.py",
                             hint=f"point it at a llama.cpp checkout, or unset it and run `{INSTALL_COMMAND}`")
        return Converter(root, version or "custom")
    version = version or installed_version()
    for folder in install_dirs(version):
        if _complete(folder):
            return Converter(folder, version)
    raise ModelError(f"llama.cpp's GGUF converter for llama-cpp-python {version} is not set up",
                     hint=f"run `{INSTALL_COMMAND}` once (it fetches llama-cpp-python's source from PyPI)")


def _wanted(member: str, root: str) -> str | None:
    """The path inside the converter folder for an sdist member we keep, else None."""
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    rel = "/".join(path.parts[1:])  # drop "llama_cpp_python-<version>/"
    if not rel.startswith(VENDOR_PREFIX) or path.parts[0] != root:
        return None
    rel = rel[len(VENDOR_PREFIX):]
    for want in MEMBERS:
        if rel == want or (want.endswith("/") and rel.startswith(want)):
            return rel
    return None


def extract_converter(sdist: Path, dest: Path, version: str | None = None) -> Path:
    """Extract the converter files from a llama-cpp-python sdist into ``dest`` (atomically).

    With ``version``, an sdist of another release is refused: its converter may write GGUFs the
    installed runtime cannot load.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        with tarfile.open(sdist, "r:*") as tar:
            members = tar.getmembers()
            root = PurePosixPath(members[0].name).parts[0] if members else ""
            if version is not None and root != f"llama_cpp_python-{version}":
                raise ModelError(f"{Path(sdist).name} is not llama-cpp-python {version} (the installed version)",
                                 hint=f"pass the sdist of {PACKAGE}=={version}")
            kept = 0
            for member in members:
                rel = _wanted(member.name, root)
                if rel is None or not (member.isfile() or member.isdir()):
                    continue
                member.name = rel
                tar.extract(member, staging, filter="data")
                kept += member.isfile()
        if not (staging / "convert_hf_to_gguf.py").is_file() or not (staging / "conversion").is_dir():
            raise ModelError(f"{sdist.name} does not contain llama.cpp's converter",
                             hint="pass the llama-cpp-python source distribution (.tar.gz)")
        (staging / COMPLETE_MARK).write_text(f"{sdist.name}\n{kept} files\n", encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except (tarfile.TarError, OSError) as exc:
        raise ModelError(f"cannot extract the converter from {sdist}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def download_sdist(version: str, folder: Path) -> Path:
    """``pip download`` of llama-cpp-python's source distribution (the only network step)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
           "--disable-pip-version-check", "-d", str(folder), f"{PACKAGE}=={version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if proc.returncode != 0 or not found:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"pip could not download {PACKAGE} {version}'s source: {last}",
                         hint="check the network, or download it elsewhere and pass --sdist FILE")
    return found[0]


def install_converter(sdist: Path | None = None, version: str | None = None, force: bool = False,
                      say=print) -> Converter:
    """Put the converter in place (idempotent). Returns the installed :class:`Converter`."""
    version = version or installed_version()
    if not force:
        for folder in install_dirs(version):
            if _complete(folder):
                say(f"llama.cpp converter {version} already set up in {folder}")
                return Converter(folder, version)
    targets = install_dirs(version)
    dest = next((d for d in targets if _writable(d)), targets[-1])
    with tempfile.TemporaryDirectory(prefix="wachat-sdist-") as tmp:
        if sdist is None:
            say(f"downloading {PACKAGE} {version} source from PyPI (once; this can take a few minutes)…")
            sdist = download_sdist(version, Path(tmp))
        extract_converter(Path(sdist), dest, version)
    say(f"llama.cpp converter {version} set up in {dest}")
    return Converter(dest, version)


def _writable(folder: Path) -> bool:
    """Whether ``folder`` exists as a writable folder or can be created (its nearest existing
    ancestor is a writable folder)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wachat_tui.export.converter",
                                     description="Set up llama.cpp's GGUF converter for `wachat export`.")
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="download (or take --sdist) and extract the converter")
    install.add_argument("--sdist", type=Path, help="a llama-cpp-python .tar.gz you already have")
    install.add_argument("--force", action="store_true", help="extract again even if present")
    sub.add_parser("path", help="print the converter folder (exit 1 when missing)")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            install_converter(args.sdist, force=args.force)
        else:
            print(find_converter().root)
    except ModelError as exc:
        print(f"wachat: {exc.one_line()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
