"""The persona prompt: the one function training (the dataset's system message), the chat
engine, eval and export (GGUF metadata, Modelfile) all call, so they always agree.

It names who the persona is texting with and where — a 1:1 chat or which group, on which
messenger — so that one model learns each register (how I text my sister vs. the group).
"""
from __future__ import annotations

from typing import Sequence

PLATFORM_LABELS = {"whatsapp": "WhatsApp", "telegram": "Telegram"}


def platform_label(platform: str | None) -> str:
    """``"telegram"`` → ``"Telegram"`` (unknown or empty: WhatsApp)."""
    if not platform:
        return "WhatsApp"
    return PLATFORM_LABELS.get(platform, platform[:1].upper() + platform[1:])


def system_prompt(persona: str, partners: Sequence[str], chat_name: str | None = None,
                  platform: str | None = "whatsapp", *, group: bool | None = None,
                  card: str | None = None) -> str:
    """THE persona prompt. Training and the chat engine both call this, so they always agree.

    ``chat_name`` is the group's title (a 1:1 chat has none); ``group`` says whether the chat is
    a group (default: it has a title or more than one partner); ``platform`` is the messenger;
    ``card`` is the persona's style card (:mod:`wachat_tui.core.style_card`), said last.
    """
    return with_card(_setting(persona, partners, chat_name, platform, group), card)


def with_card(system: str, card: str | None) -> str:
    """A system prompt with the persona's style card after it (unchanged without one)."""
    return f"{system} {card}" if card else system


def _setting(persona: str, partners: Sequence[str], chat_name: str | None, platform: str | None,
             group: bool | None) -> str:
    others = [p for p in partners if p and p != persona]
    app = platform_label(platform)
    style = f"Reply as {persona} would, in {persona}'s own texting style."
    in_group = group if group is not None else bool(chat_name) or len(others) > 1
    if not others:
        return f"You are {persona}, texting on {app}. {style}"
    if not in_group:
        return f"You are {persona}, texting with {others[0]} on {app}. {style}"
    if len(others) > 6:
        names = ", ".join(others[:5]) + f" and {len(others) - 5} others"
    elif len(others) == 1:
        names = others[0]
    else:
        names = ", ".join(others[:-1]) + f" and {others[-1]}"
    where = f'the {app} group "{chat_name}"' if chat_name else f"a {app} group"
    return f"You are {persona}, texting in {where} with {names}. {style}"
