"""The one exception type the front ends turn into a clear one-line message."""
from __future__ import annotations


class WachatError(Exception):
    """An error caused by the user's input or environment, with a sentence for the user.

    ``hint`` says what to do about it; the CLI prints ``wachat: <message> (<hint>)`` on one
    line and exits non-zero; the TUI shows it in a notification.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.rstrip(".")
        if self.hint:
            text += f" — {self.hint}"
        return " ".join(text.split())


class ParseError(WachatError):
    """The file is not a WhatsApp export (or not a readable one)."""


class ProjectError(WachatError):
    """A project is missing, corrupt, or an option is invalid."""


class ModelError(WachatError):
    """A base model or GGUF could not be found or loaded."""
