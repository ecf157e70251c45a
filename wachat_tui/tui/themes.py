"""WhatsApp-like dark and light themes.

Colours are chosen so that the 256-colour downsampling Textual applies on older terminals
keeps them distinct and readable (each maps to a different xterm-256 cell with enough
contrast against its text colour).
"""
from __future__ import annotations

from rich.terminal_theme import TerminalTheme
from textual.theme import Theme

# Variables our stylesheet uses beyond Textual's own; each theme sets them, and the app
# falls back to these for Textual's built-in themes.
DEFAULT_VARIABLES: dict[str, str] = {
    "bubble-mine": "#005c4b",
    "bubble-mine-text": "#e9edef",
    "bubble-theirs": "#202c33",
    "bubble-theirs-text": "#e9edef",
    "bubble-meta": "#8696a0",
    "chat-background": "#0b141a",
    "chat-header": "#202c33",
    "model-tag": "#53bdeb",
    "day-separator": "#182229",
}

WHATSAPP_DARK = Theme(
    name="whatsapp-dark",
    primary="#00a884",
    secondary="#53bdeb",
    accent="#25d366",
    warning="#ffbc2d",
    error="#f15c6d",
    success="#25d366",
    foreground="#e9edef",
    background="#0b141a",
    surface="#111b21",
    panel="#202c33",
    dark=True,
    variables={
        **DEFAULT_VARIABLES,
        "footer-key-foreground": "#25d366",
        "block-cursor-background": "#00a884",
        "block-cursor-foreground": "#0b141a",
        "input-selection-background": "#005c4b",
    },
)

WHATSAPP_LIGHT = Theme(
    name="whatsapp-light",
    primary="#008069",
    secondary="#027eb5",
    accent="#1fa855",
    warning="#b36b00",
    error="#d42a3f",
    success="#1f8a4c",
    foreground="#111b21",
    background="#f0f2f5",
    surface="#ffffff",
    panel="#e9edef",
    dark=False,
    variables={
        "bubble-mine": "#d9fdd3",
        "bubble-mine-text": "#111b21",
        "bubble-theirs": "#ffffff",
        "bubble-theirs-text": "#111b21",
        "bubble-meta": "#667781",
        "chat-background": "#efeae2",
        "chat-header": "#f0f2f5",
        "model-tag": "#027eb5",
        "day-separator": "#e1f2fb",
        "footer-key-foreground": "#008069",
        "block-cursor-background": "#008069",
        "block-cursor-foreground": "#ffffff",
        "input-selection-background": "#d9fdd3",
    },
)

THEMES = (WHATSAPP_DARK, WHATSAPP_LIGHT)


def _hex(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _ansi(background: str, foreground: str, colors: list[str]) -> TerminalTheme:
    rgb = [_hex(c) for c in colors]
    return TerminalTheme(_hex(background), _hex(foreground), rgb, rgb)


# The 8 ANSI colours (black, red, green, yellow, blue, magenta, cyan, white) that Rich text
# styled "green", "red"… maps to: WhatsApp's palette instead of Monokai.
ANSI_DARK = _ansi("#0b141a", "#e9edef", ["#0b141a", "#f15c6d", "#25d366", "#ffbc2d",
                                          "#53bdeb", "#c39bff", "#53bdeb", "#e9edef"])
ANSI_LIGHT = _ansi("#f0f2f5", "#111b21", ["#111b21", "#d42a3f", "#008069", "#b36b00",
                                           "#027eb5", "#7c3aed", "#027eb5", "#667781"])
