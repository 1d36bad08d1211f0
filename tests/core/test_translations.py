"""Every user-facing string is translated into Russian, and the compiled catalogues are current."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FEATURES = sorted(p.parent.name for p in (ROOT / "portal").glob("*/__init__.py"))
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def source_messages(feature):
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        ROOT / "portal" / feature,
        METHOD_MAP,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("feature", FEATURES)
def test_every_string_has_a_russian_translation(feature):
    messages = source_messages(feature)
    if not messages:
        return
    po_path = ROOT / "portal" / feature / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
    assert po_path.exists(), f"{feature} has user-facing strings but no Russian catalogue"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(
        msg
        for msg in messages
        if msg not in translated or not translated[msg].string or "fuzzy" in translated[msg].flags
    )
    assert missing == [], f"untranslated in {feature}"


def test_compiled_catalogues_are_not_older_than_their_sources():
    for po_path in (ROOT / "portal").glob("*/translations/ru/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime, (
            f"{mo_path.relative_to(ROOT)} is missing or stale: run `make translations`"
        )


@pytest.mark.parametrize("feature", FEATURES)
def test_the_english_text_has_no_russian_words(feature):
    """The msgids are what the English pages show: a Russian word there reaches English readers untranslated."""
    russian = sorted(message for message in source_messages(feature) if re.search("[а-яёА-ЯЁ]", message))
    assert russian == []


def test_a_message_reads_the_same_in_every_catalogue():
    """The portal merges the catalogues into one: a message translated two ways shows one of them everywhere."""
    translations = {}
    for po_path in sorted((ROOT / "portal").glob("*/translations/ru/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as fh:
            for message in read_po(fh, locale="ru"):
                if message.id:
                    key = (message.context, message.id if isinstance(message.id, str) else message.id[0])
                    translations.setdefault(key, set()).add(str(message.string))
    assert {key: texts for key, texts in translations.items() if len(texts) > 1} == {}
