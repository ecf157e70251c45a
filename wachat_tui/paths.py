"""Where wachat keeps things. Nothing is read or created at import time."""
from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Projects live here: ``$WACHAT_HOME`` or the platform's user data dir."""
    env = os.environ.get("WACHAT_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("wachat", appauthor=False))


def cache_home() -> Path:
    """Converted base models and other re-creatable files: ``$WACHAT_CACHE`` or the user cache dir."""
    env = os.environ.get("WACHAT_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("wachat", appauthor=False))


def projects_dir() -> Path:
    return data_home() / "projects"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents under our homes) with owner-only permissions (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path


def demo_export() -> Path:
    """The bundled demo chat export that ships inside the package."""
    return Path(__file__).resolve().parent / "data" / "demo_chat.txt"


def use_private_umask() -> None:
    """Files wachat (and the libraries it drives: checkpoints, SQLite, GGUF) create are owner-only."""
    os.umask(0o077)
