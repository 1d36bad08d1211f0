"""Russian word forms and ICD-10 codes for the catalogue search.

Both databases stem with Snowball's Russian stemmer: PostgreSQL through its
``russian`` configuration, SQLite through PyStemmer over the words indexed by
FTS5. Snowball takes the final -ит of many nouns for a verb ending: it stems
«рахит» to «рах» but «рахита» to «рахит», «бронхиолит» to «бронхиол» but
«бронхиолита» to «бронхиолит», so a word would not find its own other cases —
and medicine is full of such nouns. Stemming a stem once more brings every case
to one form («рахит» → «рах»), so the catalogue indexes each word with its
stem and the stem of its stem, and a query word matches either of its own.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import Stemmer

_WORD = re.compile(r"\w+")
# An ICD-10 category (J21) or subcategory (J21.9, also typed J21,9), at least three characters.
_MKB_CODE = re.compile(r"^([A-Z])(\d{2})(?:[.,](\d{1,2}))?$")
# Cyrillic letters that look like Latin ones: «Е55» typed on a Russian keyboard is E55.
_LATIN_LOOKALIKES = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")
_PUNCTUATION = "()[]{}<>«»\"'“”„,;:!?."

STOP_WORDS = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("russian_stop_words.txt")).read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)

# PyStemmer's stemmers keep state between calls: one per thread.
_local = threading.local()


def _stem(word: str) -> str:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("russian")
    return stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """The words of ``text``, lower-case, «ё» read as «е» (as the stemmer does)."""
    return _WORD.findall(text.lower().replace("ё", "е"))


def forms(word: str) -> tuple[str, ...]:
    """The indexed forms of one lower-case word: its stem and its stem's stem."""
    stem = _stem(word)
    twice = _stem(stem)
    return (stem,) if twice == stem else (stem, twice)


def search_text(*parts: str) -> str:
    """What the catalogue indexes for one guideline: its words as written, then their forms.

    PostgreSQL stems the whole text again with its ``russian`` configuration,
    which changes nothing that matters: the forms are already stems.
    """
    natural = " ".join(part for part in parts if part)
    indexed = sorted({form for word in words(natural) for form in forms(word)})
    return natural + "\n" + " ".join(indexed)


@dataclass(frozen=True)
class CatalogueQuery:
    """A query split into ICD-10 codes (normalised, e.g. "J21.9") and the other words
    (lower-case, without stop words); either may be empty."""

    codes: tuple[str, ...]
    words: tuple[str, ...]

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word, in either of its forms (words are \\w only)."""
        return " AND ".join("(" + " OR ".join(f'"{form}"' for form in forms(word)) + ")" for word in self.words)

    def tsquery(self) -> str:
        """A ``to_tsquery('russian', …)`` text: every word, as written or as its stem, which
        PostgreSQL stems to the same two forms."""
        return " & ".join(f"('{word}' | '{_stem(word)}')" for word in self.words)


def parse_query(text: str) -> CatalogueQuery:
    codes: list[str] = []
    found: list[str] = []
    for token in text.split():
        code = mkb_code(token)
        if code is not None:
            codes.append(code)
        else:
            found.extend(word for word in words(token) if word not in STOP_WORDS)
    return CatalogueQuery(tuple(dict.fromkeys(codes)), tuple(dict.fromkeys(found)))


def mkb_code(token: str) -> str | None:
    """``token`` as an ICD-10 code ("e55" → "E55", "J21,9" → "J21.9"), or None."""
    match = _MKB_CODE.match(token.strip(_PUNCTUATION).upper().translate(_LATIN_LOOKALIKES))
    if match is None:
        return None
    letter, category, subcategory = match.groups()
    return f"{letter}{category}" + (f".{subcategory}" if subcategory else "")
