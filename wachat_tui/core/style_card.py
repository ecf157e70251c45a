"""Style cards: each persona's texting habits, said in one line of the system prompt.

A small model fine-tuned for a few hundred steps learns the register a chat shares (length,
case, bubbles) long before it learns which habits belong to whom: told only a *name*, it
answers for both people alike. The card gives it the difference in words it can copy —
"lowercase, short messages, trails off with ...; laughs with lmao; says ngl, honestly" —
computed from the persona's own training replies against everybody else's, so it is exactly
what the training data shows and nothing from the held-out part.

The card is computed once per training run (:func:`style_cards` over the run's training rows),
stored with the run (``run.json``) and in the exported GGUF (``wachat.style_cards``), and passed
to :func:`wachat_tui.core.prompt.system_prompt` by training, chat, eval and export alike
(:func:`~wachat_tui.core.prompt.with_card` appends it).

Signature words are ranked by the log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi & Quinn 2008, "Fightin' Words"): a z-score that favours words a person uses often *and*
more than the others, not rare one-offs. Only letter-words are candidates (no numbers, e-mails
or links), and nobody's name is.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Mapping, Sequence

from .stats import STOPWORDS, find_emoji, find_laughs, words
from .turns import is_tag_only

SIGNATURE_WORDS = 4
TOP_EMOJI = 3
MIN_REPLIES = 8
"""A persona with fewer training replies gets no card (too few to say anything true)."""
MAX_REPLIES = 4000
"""The most recent replies a card reads (a constant cost on very long chats)."""
_MIN_Z = 1.5
_MAX_WORD_LEN = 14
_PRONOUN_I = re.compile(r"(?<![\w'’])[iI](?=$|[\s'’,.!?])")


def _bubbles(reply: str) -> list[str]:
    return [b.strip() for b in reply.split("\n") if b.strip()]


def _typed(replies: Sequence[str]) -> list[str]:
    """The replies without their media-tag bubbles (``<photo>`` is not something anyone typed)."""
    out = []
    for reply in replies:
        text = "\n".join(b for b in _bubbles(reply) if not is_tag_only(b))
        if text:
            out.append(text)
    return out


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def _log_odds_z(mine: Counter, others: Counter) -> dict[str, float]:
    """Monroe et al.'s z-scored log-odds of each word in ``mine`` vs ``others`` (prior: both together)."""
    prior = mine + others
    total = sum(prior.values()) or 1
    n1, n2 = sum(mine.values()), sum(others.values())
    # the prior's pseudo-counts in all, spread like the pooled counts: at most a tenth of the data
    a_sum = min(500.0, 0.1 * total)
    scale = a_sum / total
    out = {}
    for word, c1 in mine.items():
        a = prior[word] * scale
        c2 = others.get(word, 0)
        l1 = math.log((c1 + a) / (n1 + a_sum - c1 - a))
        l2 = math.log((c2 + a) / (n2 + a_sum - c2 - a)) if n2 + a_sum - c2 - a > 0 else 0.0
        var = 1.0 / (c1 + a) + 1.0 / (c2 + a)
        out[word] = (l1 - l2) / math.sqrt(var)
    return out


def _signature_words(mine: Sequence[str], others: Sequence[str], names: set[str]) -> list[str]:
    def counts(replies: Sequence[str]) -> tuple[Counter, Counter]:
        tokens, turns = Counter(), Counter()
        for reply in replies:
            ws = words(reply)
            tokens.update(ws)
            turns.update(set(ws))
        return tokens, turns

    mine_tokens, mine_turns = counts(mine)
    other_tokens, _ = counts(others)
    z = _log_odds_z(mine_tokens, other_tokens)
    min_turns = max(3, math.ceil(0.01 * len(mine)))
    ranked = sorted(z, key=lambda w: (-z[w], w))
    chosen = []
    for word in ranked:
        if z[word] < _MIN_Z:
            break
        if (mine_turns[word] < min_turns or len(word) > _MAX_WORD_LEN or len(word) < 2
                or word in names or word in STOPWORDS or find_laughs(word)):
            continue
        chosen.append(word)
        if len(chosen) == SIGNATURE_WORDS:
            break
    return chosen


def style_card(persona: str, mine: Sequence[str], others: Sequence[str], names: Iterable[str] = ()) -> str | None:
    """One sentence of ``persona``'s habits from their replies ``mine`` (bubbles joined by
    ``\\n``) against everybody else's ``others``; None when there is too little to go on."""
    mine = _typed(mine)[-MAX_REPLIES:]
    others = _typed(others)[-MAX_REPLIES:]
    if len(mine) < MIN_REPLIES:
        return None
    bubbles = [b for r in mine for b in _bubbles(r)]
    if not bubbles:
        return None
    habits: list[str] = []

    lettered = [b for b in bubbles if any(ch.isalpha() for ch in b)]
    first_lower = _share(next(ch for ch in b if ch.isalpha()).islower() for b in lettered)
    if lettered and first_lower >= 0.7:
        habits.append("writes in lowercase")
    elif lettered and first_lower <= 0.2:
        habits.append("starts messages with a capital letter")

    lengths = sorted(len(b) for b in bubbles)
    median = lengths[len(lengths) // 2]
    if median < 18:
        habits.append("very short messages")
    elif median < 40:
        habits.append("short messages")
    elif median >= 90:
        habits.append("long messages")

    per_turn = len(bubbles) / len(mine)
    if per_turn >= 1.8:
        habits.append("often several messages in a row")
    elif per_turn <= 1.15:
        habits.append("one message at a time")

    if _share(b.rstrip().endswith(".") and not b.rstrip().endswith("...") for b in bubbles) >= 0.35:
        habits.append("ends with a full stop")
    if _share("..." in b or "…" in b for b in bubbles) >= 0.08:
        habits.append("trails off with ...")
    if _share("!!" in b for b in bubbles) >= 0.06:
        habits.append("uses !!")
    pronoun = [m.group(0) for r in mine for m in _PRONOUN_I.finditer(r)]
    if len(pronoun) >= 5 and _share(p == "i" for p in pronoun) >= 0.7:
        habits.append("writes i, not I")
    if _share(sum(ch.isupper() for ch in b) >= 4 and b.upper() == b for b in bubbles) >= 0.05:
        habits.append("sometimes ALL CAPS")

    parts = [", ".join(habits)] if habits else []
    laughs = Counter(l for r in mine for l in find_laughs(r))
    if laughs and sum(laughs.values()) / len(mine) >= 0.06:
        parts.append("laughs with " + laughs.most_common(1)[0][0])
    name_words = {w for n in names for w in words(n)}
    signature = _signature_words(mine, others, name_words)
    if signature:
        parts.append("says " + ", ".join(signature))
    emoji = Counter(e for r in mine for e in find_emoji(r))
    emoji_rate = sum(emoji.values()) / len(mine)
    if emoji_rate >= 0.08:
        parts.append("emoji " + " ".join(e for e, _ in emoji.most_common(TOP_EMOJI)))
    elif emoji_rate < 0.02:
        parts.append("hardly any emoji")
    if not parts:
        return None
    return f"{persona}'s texting habits: " + "; ".join(parts) + "."


def style_cards(rows: Sequence[Mapping], personas: Sequence[str] | None = None) -> dict[str, str]:
    """``{persona: card}`` from training rows (the dataset's sample dicts): each persona's
    trained replies against the others' (their trained replies, or, when only one persona is
    trained, the partners' turns in the same samples)."""
    replies: dict[str, list[str]] = {}
    partner_turns: dict[str, list[str]] = {}
    names: set[str] = set()
    seen: set[str] = set()
    for row in rows:
        persona = row.get("persona")
        if not persona:
            continue
        names.add(persona)
        names.update(row.get("partners") or ())
        for message in row.get("messages") or ():
            content = message.get("content") or ""
            key = f"{persona}\x1f{message.get('role')}\x1f{content}"
            if key in seen:      # windows overlap: count each turn once
                continue
            seen.add(key)
            if message.get("role") == "assistant" and message.get("train"):
                replies.setdefault(persona, []).append(content)
            elif message.get("role") == "user":
                partner_turns.setdefault(persona, []).append(content)
    wanted = list(personas) if personas else list(replies)
    cards = {}
    for persona in wanted:
        others = [r for p, rs in replies.items() if p != persona for r in rs] or partner_turns.get(persona, [])
        card = style_card(persona, replies.get(persona, []), others, names)
        if card:
            cards[persona] = card
    return cards
