"""Setting up llama.cpp's converter from a llama-cpp-python sdist, and export without it."""
from __future__ import annotations

import io
import json
import tarfile

import pytest

from wachat_tui.errors import ModelError
from wachat_tui.export import converter as conv

from ..conftest import run_wachat
from .tiny import make_project

VERSION = "9.9.9"


def _sdist(path, version=VERSION, extra: dict | None = None):
    """A small stand-in for the llama-cpp-python source distribution, with the real layout."""
    root = f"llama_cpp_python-{version}"
    files = {
        f"{root}/pyproject.toml": "[project]\n",
        f"{root}/vendor/llama.cpp/convert_hf_to_gguf.py": "# converter\n",
        f"{root}/vendor/llama.cpp/convert_lora_to_gguf.py": "# lora converter\n",
        f"{root}/vendor/llama.cpp/conversion/__init__.py": "",
        f"{root}/vendor/llama.cpp/conversion/llama.py": "# llama\n",
        f"{root}/vendor/llama.cpp/gguf-py/gguf/__init__.py": "",
        f"{root}/vendor/llama.cpp/gguf-py/tests/test_x.py": "# not needed\n",
        f"{root}/vendor/llama.cpp/LICENSE": "MIT\n",
        f"{root}/vendor/llama.cpp/src/llama.cpp": "// the library sources are not needed\n",
        f"{root}/vendor/llama.cpp/models/ggml-vocab-gpt-2.gguf": "GGUF",
        f"{root}/vendor/llama.cpp/models/ggml-vocab-bert-bge.gguf": "GGUF",
        **(extra or {}),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture()
def install_dirs(tmp_path, monkeypatch):
    dirs = [tmp_path / "venv" / "share" / "wachat" / f"llama.cpp-{VERSION}", tmp_path / "cache" / f"llama.cpp-{VERSION}"]
    monkeypatch.setattr(conv, "install_dirs", lambda version: dirs)
    monkeypatch.delenv(conv.ENV_DIR, raising=False)
    return dirs


def test_install_extracts_only_the_converter_and_is_idempotent(tmp_path, install_dirs):
    sdist = _sdist(tmp_path / "llama_cpp_python-9.9.9.tar.gz",
                   extra={"llama_cpp_python-9.9.9/vendor/llama.cpp/../../../escape.py": "x"})
    with pytest.raises(ModelError, match="is not set up") as info:
        conv.find_converter(VERSION)
    assert conv.INSTALL_COMMAND in info.value.hint

    said: list[str] = []
    installed = conv.install_converter(sdist, version=VERSION, say=said.append)
    assert installed.root == install_dirs[0] and installed.version == VERSION
    files = sorted(str(p.relative_to(installed.root)) for p in installed.root.rglob("*") if p.is_file())
    assert files == [conv.COMPLETE_MARK, "LICENSE", "conversion/__init__.py", "conversion/llama.py",
                     "convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "gguf-py/gguf/__init__.py",
                     "models/ggml-vocab-gpt-2.gguf"]
    assert not (tmp_path / "escape.py").exists()
    assert conv.find_converter(VERSION) == installed
    assert not [p for p in installed.root.parent.iterdir() if p.name.endswith(".tmp")]

    conv.install_converter(sdist=None, version=VERSION, say=said.append)  # present: no download
    assert "already set up" in said[-1]


def test_install_refuses_another_version_or_a_wrong_file(tmp_path, install_dirs):
    other = _sdist(tmp_path / "llama_cpp_python-1.0.0.tar.gz", version="1.0.0")
    with pytest.raises(ModelError, match="is not llama-cpp-python 9.9.9"):
        conv.install_converter(other, version=VERSION, say=lambda _: None)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(ModelError, match="cannot extract"):
        conv.install_converter(junk, version=VERSION, say=lambda _: None)
    assert not any(d.exists() for d in install_dirs)


def test_unusable_venv_folder_falls_back_to_the_cache(tmp_path, install_dirs):
    share = install_dirs[0].parent.parent
    share.parent.mkdir(parents=True)
    share.write_text("a file where the share folder would be")
    installed = conv.install_converter(_sdist(tmp_path / "s.tar.gz"), version=VERSION, say=lambda _: None)
    assert installed.root == install_dirs[1] and conv.find_converter(VERSION).root == install_dirs[1]


def test_environment_override(tmp_path, monkeypatch):
    monkeypatch.setenv(conv.ENV_DIR, str(tmp_path))
    with pytest.raises(ModelError, match="does not hold llama.cpp's convert_hf_to_gguf.py"):
        conv.find_converter()
    (tmp_path / "convert_hf_to_gguf.py").write_text("# a llama.cpp checkout\n")
    assert conv.find_converter().root == tmp_path


def test_export_without_the_converter_says_how_to_get_it(tmp_path, monkeypatch):
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    home = tmp_path / "home"
    project = make_project(home, base, base_model=str(base), with_adapter=False)
    adapter = project / "runs" / "20260101-120000" / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    monkeypatch.setenv(conv.ENV_DIR, str(tmp_path / "nowhere"))

    proc = run_wachat("export", "demo", home=home)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("wachat: error: ") and "convert_hf_to_gguf.py" in line
    assert conv.INSTALL_COMMAND in line
    assert not list(project.rglob("*.gguf")) and not list(project.rglob("*.tmp"))
