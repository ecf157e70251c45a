"""One session's turns → the persona's samples (windows of a chat) and review pairs.

Used by :func:`wachat_tui.core.dataset.build_dataset`, which documents the row format.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from .names import slugify
from .prompt import system_prompt
from .records import Pair, Utterance, iso_seconds
from .turns import ChatTurn, is_tag_only

if TYPE_CHECKING:
    from .dataset import DatasetOptions

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4  # role markers of a chat template
#: Context turns a pair keeps (what review shows): the whole window before
#: every reply would repeat each turn in up to a dozen pairs.
PAIR_CONTEXT_TURNS = 3

_sha1 = hashlib.sha1
#: Pair(...) without the named tuple's Python-level __new__ (a third of the cost of a pair)
_new_pair = tuple.__new__


def pair_id(persona: str, time: datetime, raw_reply: str) -> str:
    """Stable id of one reply: exclusions made in review survive rebuilds and option changes."""
    key = f"{persona}\x1f{iso_seconds(time)}\x1f{raw_reply}"
    return _sha1(key.encode("utf-8")).hexdigest()[:12]


def truncate_tail(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return "…" + text[-max(1, max_chars - 1):]


def truncate_head(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max(1, max_chars - 1)] + "…"


class _Entry:
    """One message of a sample while it is built: an assistant turn, or the user turns
    between two of them."""

    __slots__ = ("role", "turns", "content", "tokens", "pair_id")

    def __init__(self, role: str, turn: ChatTurn):
        self.role = role
        self.turns: tuple[ChatTurn, ...] = (turn,)   # a tuple: most entries are one turn
        #: a reply trained on: its pair's id; None: not trained on (duplicate, length, media only)
        self.pair_id: str | None = None


class _Persona:
    """What every sample of one persona shares: the prompt, the budgets, the row id stem."""

    def __init__(self, name: str, participants: list[str], chat_name: str | None, is_group: bool,
                 budget: int, platform: str = "whatsapp"):
        self.name = name
        self.partners = [p for p in participants if p != name]
        self.system = system_prompt(name, self.partners, chat_name if is_group else None, platform,
                                    group=is_group)
        self.system_tokens = _tokens(self.system)
        room = max(32, budget - self.system_tokens)
        self.max_user_chars = int(room * 0.6 * CHARS_PER_TOKEN)
        self.max_context_reply_chars = int(room * 0.3 * CHARS_PER_TOKEN)
        self.slug = slugify(name, fallback="p")
        #: (message answered, reply) keys of the replies trained on so far (dedupe)
        self.seen: set[tuple[str, str]] = set()


def _tokens(text: str) -> int:
    """estimate_tokens(text) plus a message's template overhead."""
    return -(-len(text) * 2 // 7) + MESSAGE_OVERHEAD_TOKENS     # ceil(len / 3.5), exactly


class SampleBuilder:
    """Accumulates the samples, pairs and counts of a dataset, one session at a time."""

    def __init__(self, options: "DatasetOptions", participants: list[str], personas: list[str],
                 chat_name: str | None, excluded_ids: set[str], *, is_group: bool | None = None,
                 platform: str = "whatsapp", chat_id: str | None = None, keep_pairs: bool = True):
        self.options = options
        self.chat_name = chat_name
        self.chat_id = chat_id
        self.is_group = len(participants) > 2 if is_group is None else is_group
        self.excluded_ids = excluded_ids
        self.personas = [_Persona(p, participants, chat_name, self.is_group, options.max_context_tokens,
                                  platform) for p in personas]
        self.train: list[dict] = []
        self.validation: list[dict] = []
        self.pairs: list[Pair] = []
        self.keep_pairs = keep_pairs
        """False: the pairs are only counted (an import: pairs.jsonl is made on first use)."""
        self.filtered = {"duplicate": 0, "too_short": 0, "too_long": 0, "media_only": 0}
        self.split_windows = 0
        self.tokens = {"train": 0, "validation": 0}
        self.by_persona = {p: {"train": 0, "validation": 0, "excluded": 0} for p in personas}

    def add_session(self, s_index: int, turns: list[ChatTurn], split: str) -> None:
        authors = {t.author for t in turns}
        untrain_media = split == "train" and self.options.media_targets == "drop"
        for persona in self.personas:
            if persona.name not in authors:
                continue
            entries = self._entries(persona, turns, untrain_media)
            if entries:
                self._windows(persona, s_index, split, entries)

    # -- one persona's view of a session --------------------------------------------------------
    def _entries(self, persona: _Persona, turns: list[ChatTurn], untrain_media: bool) -> list[_Entry]:
        """The persona's entries of a session, each with its content and tokens, in one pass over
        the turns (a user entry is finished when the reply to it comes); a reply is filtered, in
        this order, by its length, as a duplicate (``dedupe``), as media only (``untrain_media``:
        a training-split reply that is only media tags); one trained on gets its pair id."""
        name = persona.name
        entries: list[_Entry] = []
        append = entries.append
        user: _Entry | None = None     # the user entry being extended
        asked: _Entry | None = None    # the last finished one: the message a reply answers
        options = self.options
        filtered = self.filtered
        max_user_chars = persona.max_user_chars
        min_reply, max_reply = options.min_reply_chars, options.max_reply_chars
        is_group = self.is_group
        # dedupe: same persona, same message answered, same reply → train once
        seen = persona.seen if options.dedupe else None
        sha1 = _sha1
        for turn in turns:
            if turn.author != name:
                if user is not None:
                    user.turns += (turn,)
                else:
                    user = _Entry("user", turn)
                    append(user)
                continue
            if user is not None:       # the user entry is complete: its content
                asked = e = user
                user = None
                if is_group:
                    text = "\n".join(f"{t.author}: {b}" for t in e.turns for b in t.bubbles)
                elif len(e.turns) == 1:
                    first = e.turns[0]
                    text = first.text
                    if len(text) <= max_user_chars:      # the common case: the turn as it is
                        e.content = text
                        e.tokens = first.tokens
                        text = None
                else:
                    text = "\n".join(t.text for t in e.turns)
                if text is not None:
                    e.content = truncate_tail(text, max_user_chars)
                    e.tokens = _tokens(e.content)
            elif not entries:          # none before the first user turn
                continue
            e = _Entry("assistant", turn)
            append(e)
            e.content = content = turn.text
            n = len(content)
            if n < min_reply:
                filtered["too_short"] += 1
                e.tokens = _tokens(content)
                continue
            if n > max_reply:
                filtered["too_long"] += 1
                e.content = truncate_head(content, persona.max_context_reply_chars)
                e.tokens = _tokens(e.content)
                continue
            e.tokens = turn.tokens
            if seen is not None:
                # (last line of the message answered, reply), stripped and casefolded;
                # a turn is folded once, as a reply and as the message answered
                a = asked.content
                first = asked.turns[0]
                if a is first.text and "\n" not in a:
                    a = first.fold
                    if a is None:
                        a = first.fold = first.text.strip().casefold()
                else:
                    a = a.rpartition("\n")[2].strip().casefold()
                r = turn.fold
                if r is None:
                    r = turn.fold = content.strip().casefold()
                size = len(seen)
                seen.add((a, r))
                if len(seen) == size:     # seen before (one lookup, not two): not a
                    filtered["duplicate"] += 1   # reviewable pair, it repeats an earlier one
                    continue
            if untrain_media and "<" in content and is_tag_only(content):   # tags start with "<"
                filtered["media_only"] += 1
                continue
            t = turn.start      # pair_id(name, turn.start, turn.raw), inline (one per reply)
            e.pair_id = sha1(f"{name}\x1f{t.isoformat() if not t.microsecond else iso_seconds(t)}"
                             f"\x1f{turn.raw}".encode("utf-8")).hexdigest()[:12]
        if user is not None:           # no reply after the last user turn
            entries.pop()
        return entries

    def _windows(self, persona: _Persona, s_index: int, split: str, entries: list[_Entry]) -> None:
        # windows: [start, first_new, end]; entries before first_new are repeated context
        budget = self.options.max_context_tokens
        sys_tokens = persona.system_tokens
        windows: list[tuple[int, int, int]] = []
        n = len(entries)
        # the common case, a session that fits: one window, what the loop below would make of it
        i = n if sys_tokens + sum(e.tokens for e in entries) <= budget else 0
        if i:
            windows.append((0, 0, n - 1))
        while i < n:
            start = i
            if windows and i >= 2:
                overlap = entries[i - 2].tokens + entries[i - 1].tokens
                if sys_tokens + overlap <= budget // 2:
                    start = i - 2
            total = sys_tokens + sum(e.tokens for e in entries[start:i])
            end = -1
            j = i
            while j + 1 < n:
                cost = entries[j].tokens + entries[j + 1].tokens
                if end >= 0 and total + cost > budget:
                    break
                total += cost
                end = j + 1
                j += 2
            windows.append((start, i, end))
            i = end + 1
        if len(windows) > 1:
            self.split_windows += 1

        excluded_ids = self.excluded_ids
        counts = self.by_persona[persona.name]
        rows = self.validation if split == "validation" else self.train
        keep_pairs = self.keep_pairs
        for w_no, (start, first_new, end) in enumerate(windows):
            msgs = [{"role": "system", "content": persona.system, "train": False, "pair": None}]
            context: list[Utterance] = []
            tokens = sys_tokens
            trained = excluded_here = 0
            for k in range(start, end + 1):
                e = entries[k]
                tokens += e.tokens
                pid = e.pair_id     # None: a user entry, or a reply not trained on
                if pid is None or k < first_new:    # ... or a reply repeated as context
                    msgs.append({"role": e.role, "content": e.content, "train": False, "pair": pid})
                else:
                    excluded = pid in excluded_ids
                    msgs.append({"role": "assistant", "content": e.content, "train": not excluded, "pair": pid})
                    if excluded:
                        excluded_here += 1
                    else:
                        trained += 1
                    if keep_pairs:
                        self.pairs.append(_new_pair(Pair, (
                            pid, persona.name, s_index, split, e.turns[0].start,
                            tuple(context[-PAIR_CONTEXT_TURNS:]), e.content, excluded, self.chat_id or "")))
                if keep_pairs:
                    for t in e.turns:
                        context.append(t.said)
            counts[split] += trained
            counts["excluded"] += excluded_here
            if not trained:
                continue
            rows.append({"id": f"s{s_index}-{persona.slug}-w{w_no}", "persona": persona.name,
                         "session": s_index, "partners": persona.partners, "chat": self.chat_name,
                         "chat_id": self.chat_id, "messages": msgs})
            self.tokens[split] += tokens
