"""The chat text of an export: a .txt, or the chat member of a .zip (streamed, never extracted),
decoded (UTF-8 with or without BOM, UTF-16 by BOM or by its NUL pattern) and with ``\\n`` line ends.
"""
from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterator

from ...errors import ParseError
from . import formats as F

#: A zip member compressing better than this (and bigger than RATIO_MIN_BYTES) is refused.
MAX_COMPRESSION_RATIO = 200
RATIO_MIN_BYTES = 1 << 20


def short(exc: BaseException) -> str:
    """An exception as one short line (for an error message)."""
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:160]


class ExportSource:
    """Context manager over the chat text of a .txt or .zip file.

    ``sniff_bytes`` are read first to detect the encoding, then ``chunk_bytes`` at a time;
    a zip member inflating past ``max_member_bytes`` is refused.
    """

    def __init__(self, path: Path, *, sniff_bytes: int, chunk_bytes: int, max_member_bytes: int):
        self.path = path
        self.display = path.name or str(path)
        self.chat_file = path.name
        self.chat_name = chat_name_from_file(path.name)
        self.sniff_bytes = sniff_bytes
        self.chunk_bytes = chunk_bytes
        self.max_member_bytes = max_member_bytes
        self._zip: zipfile.ZipFile | None = None
        self._member: zipfile.ZipInfo | None = None
        self._fh = None

    def __enter__(self):
        path = self.path
        try:
            if path.is_dir():
                raise ParseError(f"{path} is a folder, not an export file",
                                 "pass the .txt or .zip file WhatsApp wrote")
            self._fh = open(path, "rb")
            magic = self._fh.read(4)
            self._fh.seek(0)
        except FileNotFoundError:
            raise ParseError(f"no such file: {path}") from None
        except PermissionError:
            raise ParseError(f"permission denied reading {path}") from None
        except OSError as exc:
            raise ParseError(f"cannot read {path}: {short(exc)}") from None
        if magic in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or path.suffix.lower() == ".zip":
            try:
                self._open_zip()
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, *exc):
        if self._zip is not None:
            self._zip.close()
        if self._fh is not None:
            self._fh.close()
        return False

    def _open_zip(self) -> None:
        name = self.display
        try:
            zf = zipfile.ZipFile(self._fh)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
            raise ParseError(f"{name} is not a readable zip file ({short(exc)})",
                             "export the chat again, or pass the .txt inside it") from None
        self._zip = zf
        infos = zf.infolist()
        for info in infos:
            if _unsafe_member_name(info.filename):
                raise ParseError(f"{name}: refusing a zip with an unsafe member path {info.filename!r}",
                                 "this is not a zip WhatsApp made")
        member = _pick_chat_member(infos)
        if member is None:
            names = ", ".join(repr(i.filename) for i in infos[:5]) or "nothing"
            if len(infos) > 5:
                names += f" and {len(infos) - 5} more"
            texts = sum(1 for i in infos if i.filename.lower().endswith(".txt"))
            what = (f"none of its {texts} .txt files is named _chat.txt or 'WhatsApp Chat with ….txt'"
                    if texts > 1 else "no _chat.txt or 'WhatsApp Chat with ….txt' in it")
            raise ParseError(f"{name}: no chat file in the zip: {what} (members: {names})",
                             "pass the chat .txt itself")
        if member.flag_bits & 0x1:
            raise ParseError(f"{name}: the chat file {member.filename!r} is encrypted")
        limit = self.max_member_bytes
        if member.file_size > limit:
            raise ParseError(f"{name}: the chat file {member.filename!r} would inflate to "
                             f"{member.file_size:,} bytes (limit {limit:,})",
                             "this is not a zip WhatsApp made")
        if (member.file_size > RATIO_MIN_BYTES
                and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)):
            raise ParseError(f"{name}: the chat file {member.filename!r} is compressed "
                             f"{member.file_size // max(member.compress_size, 1):,}:1 (a zip bomb?)",
                             "this is not a zip WhatsApp made")
        self._member = member
        self.chat_file = member.filename
        base = PurePosixPath(member.filename.replace("\\", "/")).name
        self.chat_name = chat_name_from_file(base) or self.chat_name
        self.display = f"{name}:{member.filename}"

    def _raw_reader(self):
        if self._zip is None:
            return self._fh.read
        try:
            stream = self._zip.open(self._member)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ParseError(f"{self.display}: cannot open the chat file in the zip "
                             f"({short(exc)})") from None
        limit = min(self._member.file_size, self.max_member_bytes)
        total = 0

        def read(n: int) -> bytes:
            nonlocal total
            data = stream.read(n)
            total += len(data)
            if total > limit:
                raise ParseError(f"{self.display}: the chat file inflates past its declared size",
                                 "this is not a zip WhatsApp made")
            return data
        return read

    def chunks(self, info) -> Iterator[str]:
        """Decoded text blocks with ``\\n`` line ends; sets ``info.encoding`` on the way."""
        read = self._raw_reader()
        head = read(self.sniff_bytes)
        if not head:
            raise ParseError(f"{self.display} is empty", "export the chat again")
        encoding, skip = _sniff_encoding(head, self.display)
        info.encoding = "utf-8-sig" if (encoding == "utf-8" and skip) else encoding
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head[skip:], False)
        except UnicodeDecodeError:
            raise ParseError(f"{self.display} is not a text file (binary data, or an "
                             f"encoding other than UTF-8/UTF-16)",
                             "pass the .txt or .zip WhatsApp exported") from None
        decoder = codecs.getincrementaldecoder(encoding)("replace")
        text = decoder.decode(head[skip:], False)
        _check_textual(text, self.display, self.sniff_bytes)
        pending_cr = False
        while True:
            if pending_cr:
                text = "\r" + text
                pending_cr = False
            if text.endswith("\r"):
                text = text[:-1]
                pending_cr = True
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if "\x00" in text:
                raise ParseError(f"{self.display} contains binary data (NUL bytes)",
                                 "pass the .txt or .zip WhatsApp exported")
            if text:
                yield text
            if head is None:
                break
            data = read(self.chunk_bytes)
            if data:
                text = decoder.decode(data, False)
            else:                      # end of input (a CR still held back only ended a line)
                text = decoder.decode(b"", True)
                head = None


def _unsafe_member_name(name: str) -> bool:
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return True
    return ".." in n.split("/")


def _pick_chat_member(infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    texts = [i for i in infos if not i.is_dir()
             and i.filename.lower().endswith(".txt")
             and not PurePosixPath(i.filename.replace("\\", "/")).name.startswith("._")]

    def base(i):
        return PurePosixPath(i.filename.replace("\\", "/")).name

    for i in texts:
        if base(i) == "_chat.txt":
            return i
    named = [i for i in texts if base(i).lower().startswith("whatsapp")]
    if named:
        return min(named, key=lambda i: (i.filename.count("/"), i.filename))
    if len(texts) == 1:
        return texts[0]
    return None


def chat_name_from_file(name: str) -> str | None:
    """The chat's name in a file name such as "WhatsApp Chat with Alice.txt", else None."""
    m = F.CHAT_NAME_FROM_FILE.match(name)
    if not m:
        return None
    chat = " ".join(m.group("name").translate(F.AUTHOR_TABLE).split())
    return chat or None


def _sniff_encoding(head: bytes, display: str) -> tuple[str, int]:
    """(encoding, BOM length) of the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return ("utf-32-le" if head.startswith(codecs.BOM_UTF32_LE) else "utf-32-be"), 4
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:4096]
    if b"\x00" in sample:
        even = sample[0::2]
        odd = sample[1::2]
        n = max(len(sample) // 2, 1)
        if odd.count(0) > 0.3 * n and even.count(0) < 0.05 * n:
            return "utf-16-le", 0
        if even.count(0) > 0.3 * n and odd.count(0) < 0.05 * n:
            return "utf-16-be", 0
        raise ParseError(f"{display} is not a text file (binary data)",
                         "pass the .txt or .zip WhatsApp exported")
    return "utf-8", 0


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def _check_textual(text: str, display: str, sniff_chars: int) -> None:
    sample = text[:sniff_chars]
    if not sample:
        return
    bad = len(_NOT_TEXT.findall(sample))
    if bad > max(8, len(sample) // 100):
        raise ParseError(f"{display} is not a text file (binary data)",
                         "pass the .txt or .zip WhatsApp exported")
