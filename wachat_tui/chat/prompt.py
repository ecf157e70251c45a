"""The prompt for a persona's next turn: the history seen from that persona's side.

* The persona's lines become ``assistant`` turns, everybody else's ``user`` turns (in group
  chats each of the others' lines is written ``Name: text``). Consecutive lines by one author
  are one turn joined with ``\\n`` — exactly the shape of the training samples.
* The system message is :func:`wachat_tui.core.prompt.system_prompt`, the one training used.
* A long history is cut from its oldest lines to fit the context (:class:`PromptWindow`); the
  window start is kept while it fits, so consecutive prompts share their prefix (KV reuse).

Pure functions over :class:`~wachat_tui.chat.lines.ChatLine`; the engine tokenizes and renders.
"""
from __future__ import annotations

from typing import Callable, Sequence

from ..core.prompt import system_prompt
from .lines import ChatLine, merge_turns

Render = Callable[[int], "tuple[str, list[int]]"]
"""``render(start)``: the prompt text and tokens for the history from line ``start`` on."""


def role_messages(history: Sequence[ChatLine], persona: str, partners: Sequence[str]) -> list[dict]:
    """History seen from ``persona``'s side, as chat messages (no system message).

    The persona's turns are ``assistant``; everybody else's are ``user``. In a group chat
    (more than one partner) each of the others' lines is written ``Name: text`` and
    consecutive turns of different others share one ``user`` message — the training format.
    """
    group = len(partners) > 1
    messages: list[dict] = []
    for author, text in merge_turns(history):
        if author == persona:
            messages.append({"role": "assistant", "content": text})
            continue
        content = "\n".join(f"{author}: {part}" for part in text.split("\n")) if group else text
        if messages and messages[-1]["role"] == "user":
            messages[-1]["content"] += "\n" + content
        else:
            messages.append({"role": "user", "content": content})
    return messages


def next_turn_messages(history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                       chat_name: str | None = None, *, trimmed: bool = False,
                       platform: str = "whatsapp", card: str | None = None) -> tuple[list[dict], str]:
    """``([system, …role messages], continuation)`` for ``persona``'s next turn.

    ``continuation`` is the persona's own last turn when the history ends with it: the prompt
    then goes on with that turn instead of answering it. A ``trimmed`` window starts with the
    other side, like the training windows. ``card`` is the persona's style card (the run's own).
    """
    partners = [p for p in partners if p != persona]
    messages = role_messages(history, persona, partners)
    if trimmed:
        while messages and messages[0]["role"] == "assistant":
            messages.pop(0)
    continuation = ""
    if messages and messages[-1]["role"] == "assistant":
        continuation = messages.pop()["content"]
    system = {"role": "system", "content": system_prompt(persona, partners, chat_name, platform, card=card)}
    return [system] + messages, continuation


class PromptWindow:
    """Which part of the history the prompt holds, stable from one reply to the next.

    When the history no longer fits, the window is cut a quarter of the budget shorter than
    needed and its first line is remembered: the next prompts start at that same line while
    they fit, so they share their prefix with the tokens already in the KV cache.
    """

    def __init__(self) -> None:
        self._first: tuple | None = None  # (author, text, time) of the line the window starts at

    def reset(self) -> None:
        self._first = None

    def fit(self, history: Sequence[ChatLine], render: Render, count_tokens: Callable[[str], int],
            budget: int) -> tuple[str, list[int], int]:
        """``(text, tokens, start)``: the prompt over ``history[start:]`` that fits ``budget``
        tokens (or the newest turn cut by :func:`cut_to_fit` when even that is too long)."""
        start = 0
        if self._first is not None:
            start = next((i for i, line in enumerate(history)
                          if (line.author, line.text, line.time) == self._first), 0)
        text, tokens = render(start)
        if len(tokens) > budget:
            text, tokens, start = self._trim(history, render, count_tokens, budget)
        self._first = ((history[start].author, history[start].text, history[start].time)
                       if start > 0 else None)
        if len(tokens) > budget:
            tokens = cut_to_fit(tokens, budget)
        return text, tokens, start

    @staticmethod
    def _trim(history, render: Render, count_tokens, budget: int) -> tuple[str, list[int], int]:
        """Drop the oldest lines until the prompt fits ¾ of the budget (headroom for reuse)."""
        if not history:
            text, tokens = render(0)
            return text, tokens, 0
        target = max(budget * 3 // 4, 1)
        # a cheap estimate from per-line token counts (newest first), then exact renders
        acc = len(render(len(history) - 1)[1])
        start = len(history) - 1
        while start > 0:
            cost = count_tokens(history[start - 1].text) + 4
            if acc + cost > target:
                break
            start -= 1
            acc += cost
        while start > 0 and history[start - 1].author == history[start].author:
            start -= 1  # whole turns only, when possible
        text, tokens = render(start)
        while len(tokens) > target and start < len(history) - 1:
            start += 1
            text, tokens = render(start)
        while start > 0:  # the estimate was pessimistic: grow back while it fits
            text2, tokens2 = render(start - 1)
            if len(tokens2) > target:
                break
            start, text, tokens = start - 1, text2, tokens2
        return text, tokens, start


def cut_to_fit(tokens: list[int], budget: int) -> list[int]:
    """Even the newest turn alone is too long: keep the prompt's head (system prompt) and its tail."""
    head = min(len(tokens) // 4, max(budget // 3, 1))
    tail = max(budget - head, 1)
    return tokens[:head] + tokens[-tail:]
