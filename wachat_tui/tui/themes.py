"""WhatsApp-like dark and light themes.

Colours are chosen so that the 256-colour downsampling Textual applies on older terminals
keeps them distinct and readable (each maps to a different xterm-256 cell with enough
contrast against its text colour).
"""
from __future__ import annotations

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
