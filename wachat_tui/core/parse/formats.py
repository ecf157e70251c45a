"""What WhatsApp writes into a chat export: header patterns and the locale strings it uses.

Everything here is data plus precompiled regular expressions; the parsing logic lives in the
other modules of this package. Strings are grouped by meaning (media placeholders, deletion
notices, system notices, …) and cover the languages seen in real exports (en, de, es, fr, pt,
it, nl, ru, cs, tr, id, ar, hi, vi) — add a language by adding its strings here, nothing else
changes.

Lookups of fixed strings go through :func:`norm_key` (lower case, invisible marks and trailing
dots/space removed) so that small variations between app versions do not matter.
"""
from __future__ import annotations

import re
import unicodedata

from ..records import CALL, CONTACT, DELETED, LOCATION, MEDIA, VIEW_ONCE

# ---------------------------------------------------------------------------------------------
# Characters
# ---------------------------------------------------------------------------------------------

#: Invisible formatting marks WhatsApp sprinkles into exports: LRM, RLM, ALM, LRE/RLE/PDF/LRO/RLO,
#: LRI/RLI/FSI/PDI, BOM / zero-width no-break space, zero-width space, word joiner.
INVISIBLE = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u200b\u2060"
INVISIBLE_TABLE = {ord(c): None for c in INVISIBLE}
INVISIBLE_RE = re.compile("[" + INVISIBLE + "]+")
#: Spaces that are not ASCII but appear in headers and names (NBSP, NNBSP, thin space).
ODD_SPACES = "\u00a0\u202f\u2009\u2007"
ODD_SPACE_TABLE = {ord(c): " " for c in ODD_SPACES}
AUTHOR_TABLE = {**INVISIBLE_TABLE, **ODD_SPACE_TABLE}
#: Removed from message text everywhere: LRM, BOM, embedding/isolate controls (WhatsApp wraps
#: mentions and phone numbers in them). RLM/ALM are kept inside text (right-to-left writers use
#: them on purpose) and only stripped where they lead or end it.
TEXT_JUNK = "\u200e\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: marks whose presence anywhere sends a text to the careful path (the RLM and ALM too)
TEXT_JUNK_MARKS = TEXT_JUNK + "\u200f\u061c"
TEXT_JUNK_RE = re.compile("[" + TEXT_JUNK_MARKS + "]")
TEXT_JUNK_SUB = re.compile("[" + TEXT_JUNK + "]+").sub

_I = "[" + INVISIBLE + "]*"           # optional run of invisible marks (regex fragment)
_S = "[ \t" + ODD_SPACES + "]"        # one horizontal space of any kind (never a newline)

# ---------------------------------------------------------------------------------------------
# Header lines
# ---------------------------------------------------------------------------------------------

#: Markers for "before noon" / "after noon" as they follow the time (lower-cased, spaces and dots
#: removed before lookup, see :func:`ampm_is_pm`).
_AMPM_AFTER = (
    r"[AaPp]\.?" + _S + r"?[Mm]\.?"          # AM, am, a.m., a. m., a.m, p. m. (any space)
    r"|م|ص"                                  # Arabic
    r"|ق\.ظ\.?|ب\.ظ\.?"                      # Persian
    r"|π\.?" + _S + r"?μ\.?|μ\.?" + _S + r"?μ\.?"   # Greek
    r"|SA|CH|sa|ch"                          # Vietnamese (sáng / chiều)
    r"|vorm\.|nachm\.|vm\.|nm\."             # older German / Dutch
    r"|पूर्वाह्न|अपराह्न|পূর্বাহ্ণ|অপরাহ্ণ"             # Hindi / Bengali
    r"|午前|午後|上午|下午|오전|오후"
)
#: Markers written before the time (Japanese, Chinese, Korean).
_AMPM_BEFORE = r"午前|午後|上午|下午|오전|오후"

PM_MARKERS = frozenset({
    "pm", "p.m.", "p.m", "pm.", "م", "ب.ظ.", "ب.ظ", "μ.μ.", "μμ", "μ.μ", "ch", "nachm.", "nm.",
    "अपराह्न", "অপরাহ্ণ", "午後", "下午", "오후",
})
AM_MARKERS = frozenset({
    "am", "a.m.", "a.m", "am.", "ص", "ق.ظ.", "ق.ظ", "π.μ.", "πμ", "π.μ", "sa", "vorm.", "vm.",
    "पूर्वाह्न", "পূর্বাহ্ণ", "午前", "上午", "오전",
})

_ERA = r"(?:" + _S + r"?(?P<era>BE|B\.E\.|พ\.ศ\.))?"
_NO_ERA = r"(?P<era>(?!))?"


def _date(marks: bool, era: bool) -> str:
    i = _I if marks else ""
    return (
        r"(?P<date>"
        r"(?P<d1>\d{1,4})" + i + r"(?P<sep>[./\-])" + _S + "?" + i +
        r"(?P<d2>\d{1,4})" + i + r"[./\-]" + _S + "?" + i +
        r"(?P<d3>\d{1,4}|[RHSrhs]\d{1,2})" + i + r"\.?"
        + (_ERA if era else _NO_ERA) + r")"
    )


def _time(ampm: str) -> str:
    if ampm == "none":
        before, after = r"(?P<ap0>(?!))?", r"(?P<ap>(?!))?"
    elif ampm == "latin":
        before = r"(?P<ap0>(?!))?"
        after = r"(?:" + _S + r"?(?P<ap>[AaPp]\.?" + _S + r"?[Mm]\.?))?"
    else:
        before = r"(?:(?P<ap0>" + _AMPM_BEFORE + r")" + _S + r"?)?"
        after = r"(?:" + _S + r"*(?P<ap>" + _AMPM_AFTER + r"))?"
    return (r"(?P<time>" + before +
            r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?" + after + r")")


_DT_SEP = (r"(?:" + _I + r"[,،]" + _S + r"*|" + _S +
           r"+(?:(?:klo|à|um|kl\.|at|a las|às|alle|-)" + _S + r"+)?)")
_TERMS = {
    "]": r"\]" + _S + r"?",
    "-": _S + r"*[-–]" + _S,
    ":": r":" + _S,
    ";": r";" + _S,
    " ": _S,
}


def header_regex(time_first: bool = False, term: str | None = None, ampm: str = "any",
                 marks: bool = True, dt_sep: str | None = None, era: bool = True) -> "re.Pattern":
    """A header regex: the generic one (no arguments) or one narrowed to a file's style.

    Groups (by name, the same in every variant): lead, br, dt, date, d1, sep, d2, d3, era, time,
    ap0, H, M, S, ap, term. The text after the match is ``Name: text`` or a system notice.
    ``term``: ']', '-', ':', ';', ' ' or None for any; ``ampm``: 'any', 'latin' or 'none';
    ``marks``: allow invisible marks between header parts; ``dt_sep``: the literal text between
    date and time (None: any of the known separators).
    """
    i = _I if marks else ""
    if term is None:
        term_re = (r"(?P<term>(?(br)\]" + _S + r"?|(?:" + _S + r"*[-–]" + _S + r"|:" + _S + r"|;" + _S
                   + r"|" + _S + r")))")
    elif term == "]":
        term_re = r"(?P<term>(?(br)" + _TERMS["]"] + r"|(?!)))"
    else:
        term_re = r"(?P<term>(?(br)(?!)|" + _TERMS[term] + r"))"
    lead = r"(?P<lead>" + _I + r"(?P<br>\[)?" + _I + r")"
    sep = _DT_SEP if dt_sep is None else re.escape(dt_sep)
    if time_first:
        dt = _time(ampm) + i + r"[,،]?" + _S + r"*" + i + _date(marks, era)
    else:
        dt = _date(marks, era) + sep + i + _time(ampm)
    return re.compile(lead + r"(?P<dt>" + dt + r")" + i + term_re)


#: ``date, time - Name: text`` / ``[date, time] Name: text`` and every variant of it.
HEADER_DATE_FIRST = header_regex(False)
#: ``[time, date] Name: text`` (Vietnamese and a few others put the time first).
HEADER_TIME_FIRST = header_regex(True)

#: Canonical group order used by the parser (``m.group(*indices)``).
CANON = ("dt", "date", "d1", "sep", "d2", "d3", "era", "time", "H", "M", "S", "ap0", "ap",
         "term", "lead")


def canon_indices(regex: "re.Pattern") -> tuple[int, ...]:
    return tuple(regex.groupindex[n] for n in CANON)


#: First characters a header line can start with (fast pre-check): digits of any script, "[" and
#: the invisible marks.
def could_be_header(line: str) -> bool:
    c = line[:1]
    return bool(c) and (c.isdigit() or c == "[" or c in INVISIBLE or c in "午上오")


def term_kind(term: str) -> str:
    """The kind of header terminator: ']', '-', ':', ';' or ' '."""
    t = term.strip(" \t" + ODD_SPACES)
    if not t:
        return " "
    return "-" if t in "-–" else t[0]


def ampm_is_pm(marker: str) -> bool | None:
    """True for a PM marker, False for AM, None for something unknown."""
    key = "".join(marker.split()).lower()
    if key in PM_MARKERS or key.startswith("p"):
        return True
    if key in AM_MARKERS or key.startswith("a"):
        return False
    return None


#: Era-based years: Japanese Reiwa (R1 = 2019), Heisei (H1 = 1989), Showa (S1 = 1926).
ERA_BASE = {"R": 2018, "H": 1988, "S": 1925}
BUDDHIST_OFFSET = 543

# ---------------------------------------------------------------------------------------------
# Message placeholders
# ---------------------------------------------------------------------------------------------


def norm_key(text: str) -> str:
    """Key for fixed-string lookups: no invisible marks, odd spaces folded, lower case, no
    trailing dots/space."""
    if text.isascii():
        return " ".join(text.split()).lower().rstrip(". ")
    # str.split() also splits on NBSP/NNBSP, so odd spaces fold into one plain space
    key = " ".join(INVISIBLE_RE.sub("", text).split()).lower().rstrip(". ")
    return unicodedata.normalize("NFC", key)


def _keys(*items: str) -> tuple[str, ...]:
    return items


# (kind, media_type) for whole-message placeholders.
_MEDIA_OMITTED_ANDROID = _keys(
    "<Media omitted>", "<Medien ausgeschlossen>", "<Medien weggelassen>", "<Multimedia omitido>",
    "<Archivo omitido>", "<Médias omis>", "<Fichier omis>", "<Mídia oculta>", "<Multimédia omitido>",
    "<Ficheiro multimédia omitido>", "<Media omessi>", "<Media weggelaten>", "<Без медиафайлов>",
    "<Média vynechána>", "<Média vynechány>", "<Medya dahil edilmedi>", "<Media tidak disertakan>",
    "<تم استبعاد الوسائط>", "<الوسائط محذوفة>", "<मीडिया छोड़ दिया गया>", "<मीडिया हटाया गया>",
    "<Bỏ qua tệp phương tiện>", "<Media pominięte>", "<Media utelatt>", "<Media udeladt>",
    "<Media utelämnad>", "<Media jätetty pois>", "<Média elhagyva>", "<Media omise>",
)
_PHOTO_OMITTED = _keys(
    "image omitted", "photo omitted", "Bild weggelassen", "imagen omitida", "image absente",
    "imagem não revelada", "imagem ocultada", "immagine omessa", "afbeelding weggelaten",
    "изображение отсутствует", "obrázek vynechán", "görüntü dahil edilmedi", "gambar tidak disertakan",
    "لم يتم إدراج الصورة", "फ़ोटो हटाई गई", "đã bỏ qua hình ảnh", "đã bỏ hình ảnh",
    "התמונה הושמטה",
)
_VIDEO_OMITTED = _keys(
    "video omitted", "Video weggelassen", "Video omitido", "vidéo absente", "vídeo não revelado",
    "vídeo ocultado", "video omesso", "video weggelaten", "видео отсутствует", "video vynecháno",
    "video dahil edilmedi", "video tidak disertakan", "لم يتم إدراج الفيديوهات", "لم يتم إدراج الفيديو",
    "वीडियो छोड़ा गया", "đã bỏ video", "đã bỏ qua video", "video note omitted",
    "סרטון הווידאו הושמט",
)
_AUDIO_OMITTED = _keys(
    "audio omitted", "Audio weggelassen", "audio omitido", "audio omis", "ficheiro de áudio não revelado",
    "áudio ocultado", "audio omesso", "audio weggelaten", "аудиофайл отсутствует", "zvuk vynechán",
    "ses dahil edilmedi", "audio tidak disertakan", "لم يتم إدراج المقاطع الصوتية", "ऑडियो हटाई गयी",
    "ऑडियो हटाई गई", "bỏ qua tệp âm thanh",
    "השמע הושמט",
)
_STICKER_OMITTED = _keys(
    "sticker omitted", "Sticker weggelassen", "sticker omitido", "sticker omis", "sticker não revelado",
    "figurinha omitida", "sticker omesso", "sticker weggelaten", "стикер отсутствует",
    "nálepka vynechána", "Çıkartma dahil edilmedi", "stiker tidak disertakan", "تم حذف الملصقات",
    "स्टिकर छोड़ा गया", "đã bỏ sticker",
    "סטיקר הושמט",
)
_GIF_OMITTED = _keys(
    "GIF omitted", "GIF weggelassen", "GIF omitido", "GIF retiré", "GIF não revelada", "GIF não revelado",
    "GIF omessa", "GIF weggelaten", "GIF отсутствует", "GIF vynechán", "GIF dahil edilmedi",
    "GIF tidak disertakan", "لم يتم إدراج صورة GIF", "GIF छोड़ा गया", "Đã bỏ qua ảnh GIF",
    "GIF הושמט",
)
_DOCUMENT_OMITTED = _keys(
    "document omitted", "Dokument weggelassen", "documento omitido", "document manquant",
    "documento não revelado", "documento ocultado", "documento omesso", "document weggelaten",
    "документ отсутствует", "dokument vynechán", "belge dahil edilmedi", "dokumen tidak disertakan",
    "لم يتم إدراج المستند", "डॉक्यूमेंट छोड़ा गया", "đã bỏ qua tài liệu",
    "מסמך הושמט",
)
_CONTACT_OMITTED = _keys(
    "Contact card omitted", "Kontaktkarte ausgelassen", "Kontaktkarte weggelassen",
    "Tarjeta de contacto omitida", "Fiche contact manquante", "Contacto não revelado",
    "Cartão de contato omitido", "Scheda contatto omessa", "Contactkaart weggelaten",
    "Карточка контакта отсутствует", "Kontakt vynechán", "Kişi kartı dahil edilmedi",
    "Kartu kontak tidak disertakan", "لم يتم إدراج بطاقة جهة اتصال", "कॉन्टैक्ट कार्ड छोड़ा गया",
    "Bỏ qua thẻ liên lạc",
)
_DELETED = _keys(
    "This message was deleted", "You deleted this message", "Diese Nachricht wurde gelöscht",
    "Du hast diese Nachricht gelöscht", "Se eliminó este mensaje", "Eliminaste este mensaje",
    "Este mensaje fue eliminado", "Ce message a été supprimé", "Vous avez supprimé ce message",
    "Esta mensagem foi apagada", "Apagou esta mensagem", "Você apagou esta mensagem",
    "Mensagem apagada", "Questo messaggio è stato eliminato", "Hai eliminato questo messaggio",
    "Dit bericht is verwijderd", "U hebt dit bericht verwijderd", "Je hebt dit bericht verwijderd",
    "Данное сообщение удалено", "Вы удалили данное сообщение", "Это сообщение удалено",
    "Вы удалили это сообщение", "Tato zpráva byla odstraněna", "Tuto zprávu jste odstranil/a",
    "Bu mesaj silindi", "Bu mesajı sildiniz", "Pesan ini telah dihapus", "Anda menghapus pesan ini",
    "أنت حذفت هذه الرسالة", "تم حذف هذه الرسالة", "لقد حذَفت هذه الرسالة", "لقد حذفت هذه الرسالة",
    "आपने यह मैसेज डिलीट किया", "यह मैसेज डिलीट कर दिया गया है", "Bạn đã xoá tin nhắn này",
    "Bạn đã xóa tin nhắn này", "Tin nhắn này đã bị xóa", "Tin nhắn này đã bị xoá",
    "Waiting for this message. This may take a while", "Waiting for this message",
    "הודעה זו נמחקה", "מחקת את ההודעה הזו",
)
_VIEW_ONCE = _keys(
    "null", "View once message", "View once photo", "View once video", "View once voice message",
    "<View once voice message omitted>", "Einmalansicht", "Foto zur einmaligen Ansicht",
    "Video zur einmaligen Ansicht", "Ver una vez", "Voir une fois",
)
_CALLS = _keys(
    "Missed voice call", "Missed video call", "Missed group voice call", "Missed group video call",
    "Voice call", "Video call", "Silenced voice call", "Silenced video call",
    "Verpasster Sprachanruf", "Verpasster Videoanruf", "Sprachanruf", "Videoanruf",
    "Llamada perdida", "Videollamada perdida", "Llamada de voz perdida", "Videollamada",
    "Appel vocal manqué", "Appel vidéo manqué", "Chamada de voz perdida", "Chamada de vídeo perdida",
    "Chiamata vocale persa", "Videochiamata persa", "Gemiste spraakoproep", "Gemiste video-oproep",
    "Пропущенный аудиозвонок", "Пропущенный видеозвонок", "Zmeškaný hovor", "Zmeškaný videohovor",
    "Cevapsız sesli arama", "Cevapsız görüntülü arama", "Panggilan suara tak terjawab",
    "Panggilan video tak terjawab", "مكالمة صوتية فائتة", "مكالمة فيديو فائتة",
    "मिस्ड वॉइस कॉल", "मिस्ड वीडियो कॉल", "Cuộc gọi thoại nhỡ", "Cuộc gọi video nhỡ",
    "שיחה קולית שלא נענתה", "שיחת וידאו שלא נענתה",
)
_LIVE_LOCATION = _keys(
    "live location shared", "Live-Standort wird geteilt", "Ubicación en tiempo real compartida",
    "Position en direct partagée", "Localização em tempo real partilhada",
    "Localização em tempo real compartilhada", "Posizione in tempo reale condivisa",
    "Live locatie gedeeld", "Геоданные в реальном времени", "Sdílení polohy živě",
    "Canlı konum paylaşıldı", "Lokasi terkini dibagikan", "تمت مشاركة الموقع المباشر",
    "लाइव लोकेशन शेयर की गई", "Đã chia sẻ vị trí trực tiếp",
)

#: Message bodies → (kind, media_type, attachment). Keys: the strings as WhatsApp writes them
#: (with and without a final dot, lower/upper first letter) for a plain dict hit on the fast
#: path, plus their :func:`norm_key` for the careful path.
PLACEHOLDERS: dict[str, tuple[str, str | None, None]] = {}


def _register(strings, value) -> None:
    for s in strings:
        base = s.rstrip(".")
        for v in (s, base, base + ".", s.lower(), base.lower(), base[:1].upper() + base[1:],
                  base[:1].lower() + base[1:], norm_key(s)):
            PLACEHOLDERS.setdefault(v, value)


_register(_MEDIA_OMITTED_ANDROID, (MEDIA, None, None))
for _group, _mt in ((_PHOTO_OMITTED, "photo"), (_VIDEO_OMITTED, "video"), (_AUDIO_OMITTED, "audio"),
                    (_STICKER_OMITTED, "sticker"), (_GIF_OMITTED, "gif"), (_DOCUMENT_OMITTED, "document")):
    _register(_group, (MEDIA, _mt, None))
_register(_CONTACT_OMITTED, (CONTACT, None, None))
_register(_DELETED, (DELETED, None, None))
_register(_VIEW_ONCE, (VIEW_ONCE, None, None))
_register(_CALLS, (CALL, None, None))
_register(_LIVE_LOCATION, (LOCATION, None, None))

#: Call notices sometimes go on: "Missed voice call, Tap to call back".
CALL_PREFIXES = tuple(norm_key(s) + "," for s in _CALLS)

#: iOS writes "<file name> • 3 pages ‎document omitted": the suffix decides.
DOCUMENT_OMITTED_SUFFIXES = tuple(norm_key(s) for s in _DOCUMENT_OMITTED)

# Attachments: iOS "<attached: 00000042-PHOTO-….jpg>", old iOS "file.jpg <‎attached>",
# Android "IMG-2021….jpg (file attached)" — each followed by an optional caption.
_ATTACHED_WORDS = (
    r"attached|Anhang|adjunto|archivo adjunto|pièce jointe|anexado|anexo|allegato|bijlage|bijgevoegd|"
    r"вложение|příloha|ek|lampiran|مرفق|संलग्न|đính kèm|załącznik|vedlegg|vedhæftet|bifogad|liite"
)
ATTACHED_IOS = re.compile(
    r"^<\s*(?:" + _ATTACHED_WORDS + r")\s*:\s*(?P<file>[^<>\n]+?)\s*>",
    re.I,
)
ATTACHED_IOS_OLD = re.compile(
    r"^(?P<file>[^<>\n]+?)\s*<\s*(?:" + _ATTACHED_WORDS + r")\s*>",
    re.I,
)
ATTACHED_ANDROID = re.compile(
    r"^(?P<file>[^\n]+?)\s\((?:file attached|Datei angehängt|archivo adjunto|fichier joint|"
    r"arquivo anexado|ficheiro anexado|file allegato|bestand bijgevoegd|файл добавлен|"
    r"soubor byl přiložen|soubor připojen|dosya ekli|file terlampir|فایل پیوست شد|الملف مرفق|"
    r"फ़ाइल अटैच की गई|फ़ाइल संलग्न है|tệp đính kèm|plik załączony|fil vedlagt|fil bifogad|"
    r"tiedosto liitetty)\)",
    re.I,
)

#: "location: https://maps.google.com/?q=…" in every language seen.
LOCATION_RE = re.compile(
    r"^(?:location|standort|ubicación|ubicacion|localisation|localização|localizacao|posizione|"
    r"locatie|местоположение|геопозиция|poloha|konum|lokasi|موقع|الموقع|लोकेशन|स्थान|vị trí|"
    r"lokalizacja|posisjon|placering|plats|sijainti)\s?:\s*https?://\S+\s*$",
    re.I,
)
#: A shared place: "Name (address): https://foursquare.com/v/…" or the Android 3-line form.
FOURSQUARE_RE = re.compile(r"https?://(?:www\.)?foursquare\.com/v/\S+\s*$")
MAPS_ONLY_RE = re.compile(r"^https?://maps\.google\.com/\?q=[-0-9.]+,[-0-9.]+\s*$")

#: The first line of a poll.
POLL_RE = re.compile(
    r"^(?:POLL|UMFRAGE|ENCUESTA|SONDAGE|ENQUETE|SONDAGGIO|PEILING|ОПРОС|ANKETA|ANKET|JAJAK PENDAPAT|"
    r"استطلاع|पोल|THĂM DÒ Ý KIẾN|CUỘC THĂM DÒ Ý KIẾN|ANKIETA)\s?:"
)

#: "<This message was edited>" (after an optional LRM) closes an edited message.
EDITED_MARKERS = frozenset(norm_key(_s) for _s in (
    "This message was edited", "Diese Nachricht wurde bearbeitet", "Se editó este mensaje",
    "Ce message a été modifié", "Esta mensagem foi editada", "Mensagem editada",
    "Questo messaggio è stato modificato", "Dit bericht is bewerkt", "Сообщение изменено",
    "Это сообщение было изменено", "Tato zpráva byla upravena", "Bu mesaj düzenlendi",
    "Pesan ini telah diedit", "تم تعديل هذه الرسالة", "यह मैसेज एडिट किया गया था",
    "Tin nhắn này đã được chỉnh sửa", "Ta wiadomość została edytowana", "ההודעה נערכה",
))

# ---------------------------------------------------------------------------------------------
# System notices (text WhatsApp writes itself)
# ---------------------------------------------------------------------------------------------

#: The end-to-end encryption notice that opens (almost) every export; in iOS group exports it is
#: "written" by the group itself, which is how the chat's own name is learnt.
ENCRYPTION_RE = re.compile(
    r"^(?:"
    r"Messages and calls are end-to-end encrypted|"
    r"Messages (?:to|you send to) this (?:group|chat)(?: and calls)? are now secured with end-to-end encryption|"
    r"Messages you send to this chat and calls are now secured with end-to-end encryption|"
    r"Your messages and calls are end-to-end encrypted|"
    r"Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt|"
    r"Nachrichten, die du in (?:diesem Chat|dieser Gruppe) sendest, .{0,40}Ende-zu-Ende|"
    r"Los mensajes y las llamadas están cifrados de extremo a extremo|"
    r"Los mensajes (?:que envíes a|enviados a) (?:este chat|este grupo|esta conversación).{0,60}cifrado de extremo a extremo|"
    r"Les messages et les appels sont chiffrés de bout en bout|"
    r"Les messages envoyés dans (?:cette discussion|ce groupe).{0,60}chiffrement de bout en bout|"
    r"As mensagens e (?:as )?chamadas são (?:encriptadas ponto a ponto|protegidas com a criptografia de ponta a ponta)|"
    r"As mensagens enviadas (?:para|a) (?:esta conversa|este grupo).{0,60}(?:ponta a ponta|ponto a ponto)|"
    r"I messaggi e le chiamate sono crittografati end-to-end|"
    r"Berichten en oproepen worden end-to-end versleuteld|"
    r"Сообщения и звонки защищены сквозным шифрованием|"
    r"Zprávy a hovory jsou zabezpečeny koncovým šifrováním|"
    r"Mesajlar ve aramalar uçtan uca şifrelidir|"
    r"Pesan dan panggilan terenkripsi secara end-to-end|"
    r"الرسائل والمكالمات مشفرة تمامًا|الرسائل والمكالمات مشفّرة|"
    r"मैसेजेस और कॉल्स एंड-टू-एंड एन्क्रिप्टेड हैं|"
    r"Tin nhắn và cuộc gọi được mã hóa đầu cuối|"
    r"Wiadomości i połączenia są szyfrowane end-to-end|"
    r"ההודעות והשיחות מוצפנות מקצה לקצה"
    r")",
    re.I,
)

#: First 12 characters of every encryption notice above: a cheap gate before the regex.
ENCRYPTION_HEADS = frozenset(h[:12] for h in (
    "Messages and calls", "Messages to this", "Messages you send", "Your messages and",
    "Nachrichten und", "Nachrichten, die", "Los mensajes y", "Los mensajes que", "Los mensajes enviados",
    "Les messages et", "Les messages envoyés", "As mensagens e", "As mensagens enviadas",
    "I messaggi e le", "Berichten en oproepen", "Сообщения и звонки", "Zprávy a hovory",
    "Mesajlar ve aramalar", "Pesan dan panggilan", "الرسائل والمكالمات", "मैसेजेस और कॉल्स",
    "Tin nhắn và cuộc", "Wiadomości i połączenia", "ההודעות והשיחות מוצפנות",
))
ENCRYPTION_MIN_LEN = 40

#: Notices that start with a person ("Sam created group …", "Du hast Bob hinzugefügt.") or
#: stand alone ("You're now an admin"). Used for lines that *carry* an author (the iOS form
#: ``Sam: ‎Sam created group "…"``) and for Android lines whose text contains ": ".
_SYSTEM_NOTICES = [
    # English
    r".{1,80}? created (?:group|this group|the group|community|this community)\b.*",
    r".{1,80}? (?:added|removed) .{1,200}$",
    r".{1,80}? (?:left|joined)$",
    r".{1,80}? joined using (?:this group's|an?) invite link.*",
    r".{1,80}? joined from the community.*",
    r".{1,80}? (?:was|were) (?:added|removed)\b.*",
    r"You were added\b.*|You were removed\b.*|You joined\b.*|You left\b.*",
    r".{1,80}? changed (?:the|this) (?:subject|group name|group description|group's icon|group icon|group's settings|group settings)\b.*",
    r".{1,80}? changed this group's (?:icon|settings|description|name)\b.*",
    r".{1,80}? changed the group description\b.*",
    r".{1,80}? deleted this group's (?:icon|description)\b.*",
    r".{1,80}? (?:reset|revoked) this group's invite link.*",
    r".{1,80}? changed their phone number\b.*|.{1,80}? changed to .{1,80}$",
    r".{1,80}? (?:updated|changed) the message timer\b.*",
    r".{1,80}? turned (?:on|off) disappearing messages\b.*",
    r"Disappearing messages (?:were|are) turned (?:on|off)\b.*|Disappearing messages\b.*",
    r"You're now an admin|You are now an admin|You're no longer an admin|You are no longer an admin",
    r".{1,80}? (?:is|are) now an admin|.{1,80}? (?:made|dismissed) .{1,80} (?:as )?(?:an )?admin\b.*",
    r"Your security code with .{1,80}? changed\b.*|.{1,80}?'s? security code changed\b.*",
    r".{1,80}? pinned a message.*|.{1,80}? started a (?:voice|video) call.*|.{1,80}? started a call.*",
    r"You blocked this contact\b.*|You unblocked this contact\b.*",
    r"This chat is with (?:a|an official) business account\b.*|.{1,80}? is a contact\b.*",
    r"Chat (?:history )?(?:was )?cleared\b.*|Messages you send to this group .*",
    r"Tap to (?:learn more|change)\b.*",
    # German
    r".{1,80}? (?:hast|hat) (?:die Gruppe|die Community) .{1,200} erstellt\.?",
    r".{1,80}? (?:hast|hat) .{1,200} (?:hinzugefügt|entfernt)\.?",
    r".{1,80}? (?:hast|hat) die Gruppe verlassen\.?|.{1,80}? (?:ist|bist) .{0,80}beigetreten\.?",
    r".{1,80}? (?:hast|hat) (?:den Gruppennamen|den Betreff|das Gruppenbild|die Gruppenbeschreibung|die Gruppeneinstellungen) .{0,200}geändert\.?",
    r".{1,80}? (?:hast|hat) das Gruppenbild gelöscht\.?",
    r"Du bist jetzt (?:ein )?Admin\.?|Dein Sicherheitscode für .{1,80} hat sich geändert\.?.*",
    r".{1,80}? (?:hast|hat) selbstlöschende Nachrichten .{1,80}\.?.*",
    # Spanish
    r".{1,80}? creó (?:el grupo|este grupo) .*|Creaste (?:el grupo|este grupo) .*",
    r".{1,80}? (?:añadió|eliminó|agregó) a .{1,200}|Añadiste a .{1,200}|Eliminaste a .{1,200}",
    r".{1,80}? salió del grupo|Saliste del grupo|.{1,80}? se unió .*",
    r".{1,80}? cambió (?:el asunto|el nombre|la descripción|el ícono|la imagen|la foto) .*",
    r"Cambiaste (?:el asunto|el nombre|la descripción|el ícono|la imagen|la foto) .*",
    r"Ahora eres admin.*|Tu código de seguridad con .{1,80} cambió.*",
    # French
    r".{1,80}? a créé (?:le groupe|ce groupe) .*|Vous avez créé (?:le groupe|ce groupe) .*",
    r".{1,80}? a (?:ajouté|retiré) .{1,200}|Vous avez (?:ajouté|retiré) .{1,200}",
    r".{1,80}? est parti|.{1,80}? a rejoint .*|Vous êtes parti",
    r".{1,80}? a modifié (?:le sujet|le nom|la description|l'icône|l’icône) .*",
    r"Vous avez modifié (?:le sujet|le nom|la description|l'icône|l’icône) .*",
    r"Vous êtes (?:désormais|maintenant) admin.*|Votre code de sécurité avec .{1,80} a changé.*",
    # Portuguese
    r".{1,80}? criou (?:o grupo|este grupo) .*|Criou (?:o grupo|este grupo) .*|Você criou (?:o grupo|este grupo) .*",
    r".{1,80}? (?:adicionou|removeu) .{1,200}|(?:Você )?(?:adicionou|removeu) .{1,200}",
    r".{1,80}? saiu|.{1,80}? entrou usando .*",
    r".{1,80}? (?:mudou|alterou) (?:o assunto|o nome|a descrição|a imagem|o ícone) .*",
    r"(?:Agora você é|Agora é) admin.*|O (?:seu|teu) código de segurança com .{1,80} (?:mudou|foi alterado).*",
    # Italian
    r".{1,80}? ha creato (?:il gruppo|questo gruppo) .*|Hai creato (?:il gruppo|questo gruppo) .*",
    r".{1,80}? ha (?:aggiunto|rimosso) .{1,200}|Hai (?:aggiunto|rimosso) .{1,200}|.{1,80}? è uscito",
    r".{1,80}? ha cambiato (?:l'oggetto|il nome|la descrizione|l'immagine) .*",
    # Dutch
    r".{1,80}? (?:heeft|hebt|heb) (?:groep|de groep) .{1,200} aangemaakt\.?",
    r".{1,80}? (?:heeft|hebt) .{1,200} (?:toegevoegd|verwijderd)\.?|.{1,80}? is vertrokken\.?",
    r".{1,80}? (?:heeft|hebt) (?:het onderwerp|de groepsnaam|de groepsbeschrijving|de groepsafbeelding) .*gewijzigd.*",
    # Russian
    r".{1,80}? создал\(?-?а?\)? (?:группу|сообщество) .*",
    r".{1,80}? (?:добавил|удалил)\(?-?а?\)? .{1,200}|.{1,80}? (?:вышел|вышла|вышел\(-а\))\.?",
    r".{1,80}? изменил\(?-?а?\)? (?:тему|название|описание|изображение) .*",
    r"Вы (?:создали|добавили|удалили|изменили|вышли)\b.*|Вы теперь администратор.*",
    r"Ваш код безопасности с .{1,80} изменился.*",
    # Czech
    r".{1,80}? vytvořil\(?a?\)? skupinu .*|.{1,80}? (?:přidal|odebral)\(?a?\)? .{1,200}|.{1,80}? odešel\(?a?\)?",
    # Turkish / Indonesian
    r".{1,80}? grubunu oluşturdu.*|.{1,80}? (?:ekledi|çıkardı)\.?|.{1,80}? ayrıldı\.?",
    r".{1,80}? membuat grup .*|.{1,80}? menambahkan .{1,200}|.{1,80}? mengeluarkan .{1,200}|.{1,80}? keluar",
    # Arabic / Hindi / Vietnamese
    r".{1,80}? أنشأ (?:المجموعة|مجموعة) .*|.{1,80}? (?:أضاف|أزال) .{1,200}|.{1,80}? غادر",
    r".{1,80}? ने (?:ग्रुप|समूह) .{1,200} बनाया.*|.{1,80}? ने .{1,200} को (?:जोड़ा|हटाया).*",
    r".{1,80}? đã tạo nhóm .*|.{1,80}? đã (?:thêm|xóa|xoá) .{1,200}|.{1,80}? đã rời khỏi nhóm.*",
]
SYSTEM_NOTICE_RE = re.compile(r"^(?:" + "|".join("(?:" + p + ")" for p in _SYSTEM_NOTICES) + r")$")

#: Chat name hidden in a file name: "WhatsApp Chat with Alice.txt", "WhatsApp Chat - Alice.zip".
CHAT_NAME_FROM_FILE = re.compile(
    r"^WhatsApp[ _](?:Chat|Unterhaltung|Chat de|Conversa|Conversación)?[ _]?"
    r"(?:with|mit|con|avec|com|met|с|-|–)[ _](?P<name>.+?)(?: \(\d+\))?\.(?:txt|zip)$",
    re.I,
)

def classify_attachment(filename: str) -> tuple[str, str | None]:
    """(kind, media_type) for an attached file name."""
    name = filename.lower()
    if name.endswith(".vcf"):
        return CONTACT, None
    if name.startswith("ptt-") or "-ptt-" in name:
        return MEDIA, "voice"
    if "sticker" in name or name.startswith("stk-") or name.endswith(".webp"):
        return MEDIA, "sticker"
    if "-gif-" in name or name.endswith(".gif"):
        return MEDIA, "gif"
    if "photo" in name or name.startswith("img-") or name.endswith((".jpg", ".jpeg", ".png", ".heic")):
        return MEDIA, "photo"
    if "video" in name or name.startswith("vid-") or name.endswith((".mp4", ".mov", ".3gp", ".mkv")):
        return MEDIA, "video"
    if "audio" in name or name.startswith("aud-") or name.endswith((".opus", ".m4a", ".mp3", ".aac", ".ogg", ".wav", ".amr")):
        return MEDIA, "audio"
    return MEDIA, "document"


__all__ = [
    "INVISIBLE", "INVISIBLE_TABLE", "AUTHOR_TABLE", "HEADER_DATE_FIRST", "HEADER_TIME_FIRST",
    "header_regex", "PLACEHOLDERS", "ENCRYPTION_RE", "SYSTEM_NOTICE_RE", "classify_attachment",
    "norm_key", "ampm_is_pm", "term_kind",
]
