"""Stored messages (core.words): kept as msgid and parameters, shown in the reader's language, English for the API,
and a catalogue with broken placeholders never breaks a page."""

from django.utils import translation

from core import words


def test_a_message_is_its_text_and_remembers_its_msgid_and_parameters():
    made = words.message("Provider: %(status)s", {"status": "denied"})
    assert made == "Provider: denied"
    assert words.entry(made) == {"msgid": "Provider: %(status)s", "params": {"status": "denied"}}
    assert words.entry(made, "amount") == {"msgid": "Provider: %(status)s", "params": {"status": "denied"},
                                           "field": "amount"}
    assert words.entry("typed by a person") == {"text": "typed by a person"}


def test_stored_messages_read_in_english_and_in_the_active_language():
    stored = [words.entry(words.message("Provider: %(status)s", {"status": "denied"})),
              words.entry("as typed", "note")]
    assert words.english(stored) == "Provider: denied; note: as typed"
    with translation.override("ru"):
        shown = words.shown(stored)
    assert shown.endswith("; note: as typed")
    assert "denied" in shown and not shown.startswith("Provider:")  # the catalogue's Russian wording
    assert words.shown([], "earlier English text") == "earlier English text"


def test_a_catalogue_with_broken_placeholders_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(words, "gettext", lambda msgid: "Statuss: %(wrong)s")
    stored = [{"msgid": "Provider: %(status)s", "params": {"status": "denied"}}]
    assert words.shown(stored) == "Provider: denied"
