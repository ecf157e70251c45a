"""The persona prompt: the one function training (the dataset's system message), the chat
engine, eval and export (GGUF metadata, Modelfile) all call, so they always agree."""
from __future__ import annotations

from typing import Sequence


def system_prompt(persona: str, partners: Sequence[str], chat_name: str | None = None) -> str:
    """THE persona prompt. Training and the chat engine both call this, so they always agree."""
    others = [p for p in partners if p and p != persona]
    style = f"Reply as {persona} would, in {persona}'s own texting style."
    if not others:
        return f"You are {persona}, texting on WhatsApp. {style}"
    if len(others) == 1:
        return f"You are {persona}, texting with {others[0]} on WhatsApp. {style}"
    if len(others) > 6:
        names = ", ".join(others[:5]) + f" and {len(others) - 5} others"
    else:
        names = ", ".join(others[:-1]) + f" and {others[-1]}"
    where = f'the WhatsApp group "{chat_name}"' if chat_name else "a WhatsApp group"
    return f"You are {persona}, texting in {where} with {names}. {style}"
