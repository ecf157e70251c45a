"""An export written by a hostile group member: terminal escape sequences, C1 controls, bidi
overrides and Rich/Textual markup in the messages, the participant names and the group title.

Built in code (not checked in as a file) so every hostile byte is spelled out readably here,
and so the file name itself — where WhatsApp puts the group title — can carry them too.
"""
from __future__ import annotations

import re
from pathlib import Path

ESC = "\x1b"
CLEAR = "\x1b[2J\x1b[31m"                              # CSI: clear the screen, turn red
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"                     # OSC 52: write the clipboard
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"  # OSC 8: a hyperlink
TITLE_SEQ = "\x1b]0;pwned\x07"                           # OSC 0: set the window title
DCS = "\x1bP+q544e\x1b\\"                                # DCS: query the terminal
C1_CSI = "\x9b31m"                                       # the one-character (C1) CSI
BIDI = "\u202eevil.exe\u202c"                            # right-to-left override: reads backwards
MARKUP = "[bold red]loud[/] [@click=app.quit]quit[/]"

TITLE = f"Evil {ESC}[31mCrew [bold red]x [@click=app.quit]q"   # the group title (in the file name)
ME = "Maya"
EVE = "[bold red]Eve[/]"
MALLORY = f"Mal{TITLE_SEQ}lory"
PEOPLE = (ME, EVE, MALLORY)

#: Legitimate text that must come through display untouched.
LEGIT = "שלום \u200fעולם · مرحبا\u200f · 👩\u200d👩\u200d👧 · 中文 · tab\there"

HOSTILE_LINES = [
    (ME, f"hi {CLEAR}there {MARKUP}"),
    (MALLORY, f"clip {OSC52} link {OSC8} bell\x07 c1 {C1_CSI} del\x7f dcs {DCS}"),
    (EVE, f"look {BIDI} and {MARKUP}"),
    (ME, f"ok {LEGIT}"),
    (MALLORY, f"again {CLEAR}{TITLE_SEQ}"),
    (ME, f"fine {OSC52}"),
]

#: what no displayed text may contain: C0 (except tab/newline), DEL, C1, bidi controls
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def export_lines() -> list[str]:
    lines = ["14/03/2023, 09:58 - Messages and calls are end-to-end encrypted. No one outside of this "
             "chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
             f'14/03/2023, 09:58 - {ME} created group "{TITLE}"']
    for i, (author, text) in enumerate(HOSTILE_LINES):
        lines.append(f"14/03/2023, 10:{i:02d} - {author}: {text}")
    # ordinary chatter afterwards: a real group is mostly this (and the parser wants mostly text)
    chatter = ["are we still on for saturday", "yes!! 7:30 at the station", "bringing snacks",
               "who has the map", "i do, printed it last night", "see you there 🙌",
               "is it going to rain", "forecast says sunny", "perfect, no umbrella then",
               "don't forget water this time"]
    for day in range(15, 29):
        for i, text in enumerate(chatter):
            author = MALLORY if i == 5 else (ME, EVE)[(i + day) % 2]
            lines.append(f"{day}/03/2023, 18:{i * 3:02d} - {author}: {text}")
    return lines


def write_export(folder: Path) -> Path:
    """The hostile export as ``WhatsApp Chat with <TITLE>.txt`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"WhatsApp Chat with {TITLE}.txt"
    path.write_text("\n".join(export_lines()) + "\n", encoding="utf-8")
    return path


def import_hostile(folder: Path, name: str = "hostile"):
    """The hostile export imported as a project (Maya is "me"; the model learns Maya and Mallory)."""
    from wachat_tui.core.dataset import DatasetOptions
    from wachat_tui.core.project import import_export

    return import_export(write_export(folder), ME, name=name,
                         options=DatasetOptions(personas=[ME, MALLORY]))
