"""Small helpers shared by the panes."""
from __future__ import annotations

from pathlib import Path


def one_line(exc: BaseException) -> str:
    """A user-facing sentence for an exception (WachatError knows its own)."""
    from ..errors import WachatError

    if isinstance(exc, WachatError):
        return exc.one_line()
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (OSError, ValueError)):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())[:300]


def short_path(path: str | Path) -> str:
    """``~/…`` for paths under the home directory."""
    p = Path(path)
    try:
        return "~/" + str(p.relative_to(Path.home()))
    except ValueError:
        return str(p)


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"

