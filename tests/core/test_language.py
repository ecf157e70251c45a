"""The chat's language at import (core/language.py): right on every language in the corpus and
the fixture chats, stored in the project, shown by `wachat import` and `wachat projects`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from wachat_tui.core.language import (
    LanguageReport, _chunks, _identifier, clean_text, count_letters, detect_language, detect_text,
    script_share,
)
from wachat_tui.core.parse import parse_export

from ..conftest import CORPUS, FIXTURES, run_wachat

CHATS = FIXTURES / "chats"

# What each corpus file is written in. The locale test exports (whats_json) hold a few English
# test strings ("Hello World") and WhatsApp's own strings in the phone's language: with that
# little text, the phone's language decides (source "locale"). `deutch_android_media` is in
# fact a Dutch export ("Berichten en oproepen worden end-to-end versleuteld", "<Media weggelaten>").
# The chat-miner date tests have under 50 letters of text: unknown.
CORPUS_LANGUAGES = {
    "WhatsR__englishandroidampm.txt": ("en", "messages"),
    "WhatsR__englishiosampm.txt": ("en", "messages"),
    "WhatsR__germanandroid24h.txt": ("de", "messages"),
    "WhatsR__germanios24h.txt": ("de", "messages"),
    "langchain__whatsapp_chat.txt": ("en", "messages"),
    "tree-sitter-whatsapp__chat.txt": ("en", "messages"),
    "whatstk__pokemon.txt": ("en", "messages"),
    "whats_json__chats_unique_WhatsApp_Chat_-_Group_NoMedia_2019_RU.txt": ("ru", "messages"),
    "whats_json__arabic_ios.txt": ("ar", "locale"),
    "whats_json__arabic2_ios.txt": ("ar", "locale"),
    "whats_json__czech_android.txt": ("cs", "locale"),
    "whats_json__deutch_ios.txt": ("de", "locale"),
    "whats_json__deutch_android_media.txt": ("nl", "locale"),
    "whats_json__english_android.txt": ("en", "locale"),
    "whats_json__english_ios.txt": ("en", "locale"),
    "whats_json__french_ios.txt": ("fr", "locale"),
    "whats_json__hindi_ios.txt": ("hi", "locale"),
    "whats_json__portugal_ios.txt": ("pt", "locale"),
    "whats_json__russian_android.txt": ("ru", "locale"),
    "whats_json__spanish_ios.txt": ("es", "locale"),
    "whats_json__vietnamese_ios.txt": ("vi", "locale"),
    "chat-miner__test_ddmmyy_24hrs.txt": (None, None),
    "chat-miner__test_unicode.txt": (None, None),
}
FIXTURE_LANGUAGES = {"de_jonas_lena.txt": "de", "he_noa_itai.txt": "he", "en_sam_noor.txt": "en"}


def _messages(path: Path):
    return list(parse_export(path).messages)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("name", sorted(CORPUS_LANGUAGES))
def test_corpus_files_get_their_language(name):
    language, source = CORPUS_LANGUAGES[name]
    report = detect_language(_messages(CORPUS / name))
    assert report.primary == language, report
    if language is not None:
        assert report.source == source and list(report.shares) == [language]


@pytest.mark.parametrize("name", sorted(FIXTURE_LANGUAGES))
def test_fixture_chats_are_one_language_from_their_messages(name):
    report = detect_language(_messages(CHATS / name))
    assert (report.primary, report.source) == (FIXTURE_LANGUAGES[name], "messages")
    assert report.shares == {FIXTURE_LANGUAGES[name]: 1.0} and report.letters > 5000


def test_chunks_are_what_makes_short_messages_reliable():
    """Why chunks: one message at a time, py3langid gets a fifth of Jonas's and Lena's German
    wrong (`kp`, `digga`, `jz`, `ok 😂`); in chunks of ~300 letters of one person it gets all."""
    identifier = _identifier()
    msgs = [m for m in _messages(CHATS / "de_jonas_lena.txt") if m.kind == "text" and m.author]
    singles = [" ".join(clean_text(m.text).split()) for m in msgs]
    singles = [t for t in singles if count_letters(t)]
    single_ok = sum(identifier.classify(t)[0] == "de" for t in singles) / len(singles)
    chunks = _chunks([(m.author, m.text) for m in msgs])
    chunk_ok = sum(identifier.classify(t)[0] == "de" for t, _ in chunks) / len(chunks)
    assert single_ok < 0.9 and chunk_ok == 1.0 and len(chunks) >= 20


def test_a_mixed_chat_reports_both_languages():
    de = [m for m in _messages(CHATS / "de_jonas_lena.txt") if m.kind == "text"]
    en = [m for m in _messages(CHATS / "en_sam_noor.txt") if m.kind == "text"][: len(de)]
    report = detect_language(de + en)
    assert set(report.shares) == {"de", "en"} and abs(sum(report.shares.values()) - 1) < 0.01
    assert "German" in report.summary and "English" in report.summary and "%" in report.summary


def test_detect_text_and_script_share():
    hebrew = "בוקר טוב, את תעשי את זה בקלות\nסבבה אחותי יאללה נדבר אחר כך"
    assert detect_text(hebrew).primary == "he"
    assert script_share(hebrew, "HEBREW") == 1.0
    assert script_share("ok שלום", "HEBREW") == pytest.approx(4 / 6)
    assert script_share("🙂 123", "HEBREW") == 0.0
    assert detect_text("").primary is None


def test_report_round_trips_and_tolerates_junk():
    report = LanguageReport("de", {"de": 0.8, "en": 0.2}, 1234, "messages")
    assert LanguageReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert LanguageReport.from_dict(None) is None and LanguageReport.from_dict("de") is None
    assert LanguageReport.from_dict({"primary": 3, "shares": "x"}).primary is None
    assert LanguageReport(None).summary.startswith("unknown")
    assert LanguageReport("cs", {"cs": 1.0}, 400, "locale").summary == "Czech (export language)"


def test_import_stores_and_shows_the_language(tmp_path):
    home = tmp_path / "home"
    out = run_wachat("import", str(CHATS / "de_jonas_lena.txt"), "--me", "Jonas", "--project", "jonas",
                     home=home, check=True).stdout
    assert "language   German → default base Gemma 3 270M (embedded:gemma3-270m)" in out
    assert "Gemma Terms of Use" in out
    config = json.loads((home / "projects" / "jonas" / "project.json").read_text())
    assert config["language"]["primary"] == "de" and config["language"]["source"] == "messages"
    table = run_wachat("projects", home=home, check=True).stdout
    assert "German" in table
    [row] = [json.loads(l) for l in run_wachat("projects", "--json", home=home, check=True).stdout.splitlines()]
    assert row["language"]["primary"] == "de"


@pytest.mark.parametrize("name", sorted(FIXTURE_LANGUAGES))
def test_a_surely_english_chat_is_told_without_the_model(name, monkeypatch):
    """The pre-check gives the model's verdict on an English chat without loading the model
    (~0.4 s, ~70 MB); German and Hebrew chats, and English mixed with another language's
    common words, still go to the model."""
    from wachat_tui.core import language

    messages = _messages(CHATS / name)
    with_model = detect_language(messages)
    monkeypatch.setattr(language, "_identifier", lambda: pytest.fail("the model was loaded"))
    if FIXTURE_LANGUAGES[name] == "en":
        assert detect_language(messages) == with_model
    else:
        with pytest.raises(pytest.fail.Exception):
            detect_language(messages)


def test_english_mixed_with_tagalog_is_left_to_the_model():
    from wachat_tui.core.language import _surely_english

    english = "Hey, how are you doing? I was thinking that we could go to the movies tonight, what do you think?"
    taglish = "Kumain ka na ba? I'm so tired, what do you want to eat later. Sige lang, ikaw bahala. " + english
    assert _surely_english(_chunks([("a", english)] * 5))
    assert not _surely_english(_chunks([("a", taglish)] * 5))


def test_clean_words_is_the_regex_cleaning_on_every_text():
    """The table path of clean_words gives what the regexes give, on odd ASCII and on every
    text of the corpus and the fixture chats."""
    from wachat_tui.core.language import clean_words, letter_count

    odd = ["", " ", "a", "ok!!", "don't-stop", "2 apples_and 3", "x\ty\nz\r", "a@b.c", "@me hi",
           "see https://x.y/z ok", "www.site.com", "<Media omitted>", "a<b", "50%", "_-'_", "A1B2c3",
           "".join(map(chr, range(128))), "tab\there", "no@", "http://", "mid.www.x", "’quote’", "naïve café"]
    texts = odd + [m.text for path in sorted(CORPUS.glob("*.txt")) + sorted(CHATS.glob("*.txt"))
                   for m in _messages(path)]
    for raw in texts:
        text = " ".join(clean_text(raw).split())
        assert clean_words(raw) == (text, count_letters(text)), raw
        assert letter_count(raw) == count_letters(text), raw


def test_a_big_chat_is_told_from_the_chunks_it_would_clean():
    """detect_language counts every text but cleans only the chunks it classifies: the verdict
    is that of the chunks made the plain way (every text cleaned), with over MAX_CHUNKS of them."""
    from datetime import datetime, timedelta

    from wachat_tui.core.language import MAX_CHUNKS, MAX_MESSAGES, _chunks, _classify, _report
    from wachat_tui.core.records import Message

    lines = [m.text for path in sorted(CHATS.glob("*.txt")) for m in _messages(path) if m.text]
    lines += ["see https://x.y/z ok", "@noa 12 שלום", "<Media omitted>", "2024", "www.x.de ja"]
    t0 = datetime(2024, 1, 1)
    messages = [Message(t0 + timedelta(minutes=i), "ab"[i % 3 == 0], lines[i % len(lines)])
                for i in range(MAX_MESSAGES)]   # all read: none left out
    texts = [(m.author, m.text) for m in messages]
    chunks = _chunks(texts)
    assert len(chunks) > MAX_CHUNKS
    shares, letters = _classify(chunks)
    assert detect_language(messages) == _report(shares, letters, "messages")


def _messages(path):
    from wachat_tui.errors import WachatError

    try:
        return parse_export(path).messages
    except WachatError:   # a corpus file the parser refuses has no texts to compare
        return []
