"""Turning untrusted upstream text into plain, bounded values.

Upstream titles and abstracts carry HTML and JATS markup and entities. We
reduce them to plain text here; escaping for output is the templates' job, so
nothing in this module produces markup.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import urlsplit

SNIPPET_LENGTH = 300

_BLOCK_TAGS = frozenset(
    {
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "jats:p",
        "jats:title",
        "jats:sec",
        "jats:list-item",
        "jats:abstract",
    }
)
_INVISIBLE_TAGS = frozenset({"script", "style", "template", "head"})
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")
_NAME_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "du",
        "dos",
        "das",
        "le",
        "la",
        "ten",
        "ter",
        "bin",
        "al",
    }
)
NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            # Without a separator, "<p>a</p><p>b</p>" would read "ab".
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def plain_text(value: object) -> str:
    """Markup-free, whitespace-collapsed text; "" for anything but a string."""
    if not isinstance(value, str) or not value:
        return ""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts)
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(text.split())


def shorten(text: str, limit: int = SNIPPET_LENGTH) -> str:
    """Cut at a word boundary so a snippet never ends mid-word."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:.") + "…"


def snippet(value: object) -> str | None:
    return shorten(plain_text(value)) or None


def optional_text(value: object) -> str | None:
    return plain_text(value) or None


def normalise_doi(value: object) -> str | None:
    """DOIs are case-insensitive, so the lowercase bare form is the dedup key."""
    if not isinstance(value, str):
        return None
    doi = value.strip()
    lowered = doi.lower()
    for prefix in _DOI_PREFIXES:
        if lowered.startswith(prefix):
            doi = doi[len(prefix) :]
            break
    doi = doi.strip().lower()
    return doi if doi.startswith("10.") and "/" in doi and not any(ch.isspace() for ch in doi) else None


def normalise_pmid(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    pmid = value.strip().rstrip("/").rsplit("/", 1)[-1]
    return pmid if pmid.isascii() and pmid.isdigit() and 0 < len(pmid) <= 10 else None


def parse_year(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1500 <= value <= 2999 else None
    if isinstance(value, str):
        match = _YEAR.search(value)
        return int(match.group(1)) if match else None
    return None


def safe_url(value: object) -> str | None:
    """Only absolute http(s) links: anything else (javascript:, data:) is dropped."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        return None
    return url


def initials(given: str) -> str:
    """ "Andres M." -> "AM", "Jean-Pierre" -> "JP" (the PubMed convention)."""
    return "".join(part[0].upper() for part in re.split(r"[\s.\-‐]+", given) if part and part[0].isalpha())


def surname_initials(family: str, given: str | None) -> str:
    family = plain_text(family)
    given_initials = initials(plain_text(given)) if given else ""
    return f"{family} {given_initials}".strip()


def name_to_surname_initials(display_name: object) -> str | None:
    """Turn "Andres M. Bran" or "Bran, Andres M" into "Bran AM".

    Lower-case particles stay with the surname ("Ludo van der Meer" ->
    "van der Meer L") and a generational suffix goes last, as PubMed writes it.
    """
    name = plain_text(display_name)
    if not name:
        return None
    if "," in name:
        family, _, given = name.partition(",")
        return surname_initials(family, given) or None
    tokens = name.split()
    suffix = ""
    if len(tokens) > 2 and tokens[-1].lower() in NAME_SUFFIXES:
        suffix = tokens.pop().rstrip(".")
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1].lower() in _NAME_PARTICLES:
        start -= 1
    result = surname_initials(" ".join(tokens[start:]), " ".join(tokens[:start]))
    return f"{result} {suffix}".strip()
