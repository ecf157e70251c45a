"""Record building: the text after a header (``Name: text`` or a notice) → one :class:`Message`.

:meth:`RecordBuilder.build` is the careful path: it cleans names and text, classifies the body
(media, deleted, location, contact, poll, call, view once, system notice) and learns the chat's
own name from the encryption notice. :meth:`RecordBuilder.quick` is the rule for the common
case — a plain one-line text by an author already seen — written once here for every Python
caller; the C hot loop (``_hotloop.c``) has its own copy of it, held equal to the careful path
by tests/core/test_parse_hotloop.py.
"""
from __future__ import annotations

from datetime import datetime

from ..records import CALL, LOCATION, MEDIA, POLL, SYSTEM, TEXT, Message
from . import formats as F

_QUOTES = '"“”„«»'
_JUNK_SEARCH = F.TEXT_JUNK_RE.search

# ---------------------------------------------------------------------------------------------
# Fast Message construction (the frozen dataclass __init__ costs more than parsing a line)
# ---------------------------------------------------------------------------------------------

_FIELDS = ("time", "author", "text", "kind", "edited", "attachment", "media_type")


def _make_slow(time, author, text, kind=TEXT, edited=False, attachment=None, media_type=None):
    return Message(time, author, text, kind, edited, attachment, media_type)


class _MessageTwin:
    """Same slot layout as Message but mutable: filled, then re-classed to Message.

    Message is a frozen dataclass; its __init__ goes through object.__setattr__ seven times,
    which costs more than parsing the line it comes from. Setting the slots on a twin and
    swapping ``__class__`` (allowed for identical layouts) gives the very same object shape.
    """

    __slots__ = getattr(Message, "__slots__", ())


_new = object.__new__


def _make_fast(time, author, text, kind=TEXT, edited=False, attachment=None, media_type=None):
    m = _new(_MessageTwin)
    m.time = time
    m.author = author
    m.text = text
    m.kind = kind
    m.edited = edited
    m.attachment = attachment
    m.media_type = media_type
    m.__class__ = Message
    return m


def _pick_make():
    """The fast constructor where Message's layout allows it (checked on a probe), else the
    dataclass's own."""
    if tuple(getattr(Message, "__slots__", ())) != _FIELDS:
        return _make_slow
    args = (datetime(2020, 1, 2, 3, 4, 5), "a", "b", "media", True, "f", "photo")
    try:
        if _make_fast(*args) == _make_slow(*args):
            return _make_fast
    except TypeError:  # pragma: no cover - layout differs: stay correct, just slower
        pass
    return _make_slow  # pragma: no cover


#: make(time, author, text, kind, edited, attachment, media_type) -> Message
make = _pick_make()

# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Drop junk marks everywhere (see formats.TEXT_JUNK) and any invisible mark at the start
    and end of the text."""
    if not text or text.isascii():
        return text
    text = F.TEXT_JUNK_SUB("", text)
    return text.strip(F.INVISIBLE).lstrip(" ")


def strip_edited(text: str) -> tuple[str, bool]:
    """(text without a trailing "<This message was edited>", whether it had one)."""
    i = text.rfind("<")
    if i < 0:
        return text, False
    if F.norm_key(text[i + 1:-1]) in F.EDITED_MARKERS:
        return text[:i].rstrip(" " + F.INVISIBLE + F.ODD_SPACES), True
    return text, False


def classify(text: str):
    """(kind, media_type, attachment) for a body that is not plain text, else None."""
    first, nl, _ = text.partition("\n")
    hit = F.PLACEHOLDERS.get(first)
    if hit is not None:
        return hit
    if "://" in text:
        if F.LOCATION_RE.match(text) or F.MAPS_ONLY_RE.match(text):
            return LOCATION, None, None
        if F.FOURSQUARE_RE.search(text) and text.count("\n") <= 2 and len(text) < 400:
            return LOCATION, None, None
    if "<" in first or "(" in first:
        m = F.ATTACHED_IOS.match(first) or F.ATTACHED_IOS_OLD.match(first) or \
            (F.ATTACHED_ANDROID.match(first) if first.endswith(")") else None)
        if m is None and "<" in first:
            m = F.ATTACHED_IOS.match(first[first.find("<"):])
        if m:
            fname = m.group("file").translate(F.INVISIBLE_TABLE).strip()
            if fname:
                kind, mt = F.classify_attachment(fname)
                return kind, mt, fname
    if nl and F.POLL_RE.match(text):
        return POLL, None, None
    if len(first) > 80:          # every placeholder is shorter; only a caption makes it longer
        if not (len(first) < 300 and "\u2022" in first):
            return None
    # the careful lookups: case, spacing, invisible marks, Unicode forms
    key = F.norm_key(first)
    hit = F.PLACEHOLDERS.get(key)
    if hit is not None:
        return hit
    # "Resume.pdf • 2 pages ‎document omitted"
    if key.endswith(F.DOCUMENT_OMITTED_SUFFIXES):
        return MEDIA, "document", None
    if key.startswith(F.CALL_PREFIXES):
        return CALL, None, None
    return None


def split_author(rest: str) -> tuple[str | None, str]:
    """"Name: text" → (name, text); a system notice → (None, text)."""
    i = rest.find(": ")
    if i >= 0:
        return rest[:i], rest[i + 2:]
    if rest.endswith(":") and "\n" not in rest:
        return rest[:-1], ""
    return None, rest


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


class RecordBuilder:
    """Builds the records of one file; remembers what earlier records taught (names, the chat)."""

    def __init__(self, chat_name: str | None):
        #: the chat's own name (from the file name, or learnt from a group's encryption notice)
        self.chat_name = chat_name
        #: a person is named like the chat (a 1:1 chat is named after the other person)
        self.chat_name_is_person = False
        self.known_authors: dict[str, str] = {}
        self.author_cache: dict[str, tuple[str, bool]] = {}
        #: raw name → name, for authors whose plain one-line texts may take :meth:`quick`
        self.plain_authors: dict[str, str] = {}

    def quick(self, dt: datetime, rest: str) -> Message | None:
        """THE rule for a plain one-line message: the Message :meth:`build` would make for
        ``rest`` when it is ``Name: text`` on one line, Name a known plain author and text
        needing no cleaning, classifying beyond a placeholder hit, or notice check; else None
        (the careful path must say)."""
        i = rest.find(": ")
        if i <= 0 or "\n" in rest:
            return None
        author = self.plain_authors.get(rest[:i])
        if author is None:
            return None
        t = rest[i + 2:]
        if not (t.isascii() or not (t[:1] in F.INVISIBLE or _JUNK_SEARCH(t))):
            return None
        hit = F.PLACEHOLDERS.get(t)
        if hit is not None:
            return make(dt, author, t, hit[0], False, None, hit[1])
        if ("<" in t or ">" in t or "(" in t or ")" in t or "://" in t or t.startswith(author)
                or (len(t) >= F.ENCRYPTION_MIN_LEN and t[:12] in F.ENCRYPTION_HEADS)):
            return None
        return make(dt, author, t, TEXT, False, None, None)

    def _author(self, raw: str) -> tuple[str, bool]:
        """Cleaned name, and whether it looks like a notice split at a colon inside quotes."""
        hit = self.author_cache.get(raw)
        if hit is not None:
            return hit
        a = " ".join(raw.translate(F.AUTHOR_TABLE).split())
        if a.startswith("~ "):        # WhatsApp marks names that are not in your contacts
            a = a[2:]
        odd = (not a or len(a) > 100 or sum(a.count(q) for q in _QUOTES) % 2 == 1)
        hit = (a, odd)
        if len(self.author_cache) < 10000:
            self.author_cache[raw] = hit
            if not odd:
                self.known_authors.setdefault(a, a)
        return hit

    def build(self, dt: datetime, rest: str) -> Message:
        """One record from the text after the header (``Name: text`` or a notice): the careful path."""
        nl = rest.find("\n")
        first_end = nl if nl >= 0 else len(rest)
        i = rest.find(": ", 0, first_end)          # the name is on the header's own line
        if i >= 0:
            author_raw = rest[:i]
            body = rest[i + 2:]
        elif first_end and rest[first_end - 1] == ":":   # "Name:" and nothing after it
            author_raw = rest[:first_end - 1]
            body = rest[first_end + 1:]
        else:
            return self._build_authorless(dt, rest)
        if body.endswith("\n"):
            body = body.rstrip("\n")
        hit = self.author_cache.get(author_raw)
        author, odd = hit if hit is not None else self._author(author_raw)
        if odd:
            # "X changed the subject from "A: B"…", or no real name before the colon
            full = clean_text(rest.rstrip("\n"))
            if not author or len(author) > 100 or F.SYSTEM_NOTICE_RE.match(full):
                return make(dt, None, full, SYSTEM)
        text = body
        marked = False
        cleaned = False
        if not text.isascii() and (text[0] in F.INVISIBLE or _JUNK_SEARCH(text)):
            marked = text[0] in F.INVISIBLE
            text = clean_text(text)
            cleaned = True
        edited = False
        if text.endswith(">"):
            text, edited = strip_edited(text)
        hit = F.PLACEHOLDERS.get(text)
        if hit is None and (cleaned or "\n" in text or "://" in text or "(" in text
                            or "<" in text):
            hit = classify(text)
        if hit is not None:
            return make(dt, author, text, hit[0], edited, hit[2], hit[1])
        # a notice WhatsApp wrote under a name?
        chat_name = self.chat_name
        if marked or author == chat_name or text.startswith(author) or (
                len(text) >= F.ENCRYPTION_MIN_LEN and text[:12] in F.ENCRYPTION_HEADS):
            if F.ENCRYPTION_RE.match(text):
                if chat_name is None:
                    self.chat_name = author
                    for raw in [r for r, a in self.plain_authors.items() if a == author]:
                        del self.plain_authors[raw]
                return make(dt, None, text, SYSTEM)
            if author == chat_name and not self.chat_name_is_person:
                if marked or F.SYSTEM_NOTICE_RE.match(text):
                    return make(dt, None, text, SYSTEM)
                self.chat_name_is_person = True
            elif (marked or text.startswith(author + " ")) and F.SYSTEM_NOTICE_RE.match(text):
                return make(dt, None, text, SYSTEM)
        # only a name without odd quoting may skip build: for an odd one, a later text can
        # still turn out to be a notice (see the SYSTEM_NOTICE check above)
        if (not odd and (author != chat_name or self.chat_name_is_person)
                and len(self.plain_authors) < 10000):
            self.plain_authors[author_raw] = author
        return make(dt, author, text, TEXT, edited)

    def _build_authorless(self, dt: datetime, body: str) -> Message:
        text = clean_text(body.rstrip("\n"))
        # "John Doe:." — a colon right after a known name is still that person's message
        if ":" in text and self.known_authors:
            head, _, rest = text.partition(":")
            name = self.known_authors.get(" ".join(head.split()))
            if name is not None and "\n" not in head:
                return self.build(dt, name + ": " + rest.lstrip(" "))
        return make(dt, None, text, SYSTEM)
