"""The reply filter: raw generated text → clean bubbles, while it streams.

The model must never write another participant's turn, nor name itself; and a reply's
whitespace must not turn into empty bubbles. The engine feeds every decoded piece through
:class:`ReplyFilter` and yields only what it lets out.
"""
from __future__ import annotations

from typing import Sequence


class ReplyFilter:
    """Turns raw generated text into clean bubbles while it streams.

    * drops leading/trailing whitespace and blank lines (one ``\\n`` between bubbles),
    * removes a ``Persona:`` prefix at the start of a line (the model naming itself),
    * ends the reply at a line that starts with ``Partner:`` — the other person's turn.
    Text at the start of a line is held back only while it could still become such a prefix.
    """

    def __init__(self, persona: str, partners: Sequence[str]):
        self.strip_names = [f"{persona}:"]
        self.stop_names = [f"{p}:" for p in partners if p and p != persona]
        self._names = self.strip_names + self.stop_names
        self.held = ""              # start of the current line, not yet known to be content
        self.decided = False        # the current line is content
        self.line_started = False   # a visible char of the current line was emitted
        self.spaces = ""            # whitespace inside a line, emitted only before more text
        self.newline = False        # a bubble break is pending
        self.any = False            # something was emitted
        self.stopped = False        # another participant's turn began

    def _start_line(self) -> str:
        out = "\n" if (self.newline and self.any) else ""
        self.newline = False
        self.line_started = True
        self.any = True
        return out

    def _flush_held(self) -> str:
        text = self.held.lstrip()
        core = text.rstrip()
        self.held = ""
        self.decided = True
        if not core:
            return ""
        self.spaces = text[len(core):]
        return self._start_line() + core

    def feed(self, text: str) -> str:
        out: list[str] = []
        for ch in text:
            if self.stopped:
                break
            if ch == "\n" or ch == "\r":
                if not self.decided:
                    self.spaces = ""
                    out.append(self._flush_held())
                self.decided = False
                self.line_started = False
                self.held = ""
                self.spaces = ""
                self.newline = True
            elif self.decided:
                if ch.isspace():
                    if self.line_started:
                        self.spaces += ch
                else:
                    prefix = self.spaces if self.line_started else self._start_line()
                    out.append(prefix + ch)
                    self.spaces = ""
            else:
                self.held += ch
                probe = self.held.lstrip()
                if not probe:
                    continue
                if any(probe.startswith(name) for name in self.stop_names):
                    self.stopped = True
                    self.held = ""
                elif any(probe.startswith(name) for name in self.strip_names):
                    self.held = ""
                    self.decided = True
                    self.line_started = False
                elif not any(name.startswith(probe) for name in self._names):
                    out.append(self._flush_held())
        return "".join(out)

    def finish(self) -> str:
        """End of generation: release a held line that turned out to be plain text."""
        if self.stopped or self.decided:
            return ""
        return self._flush_held()
