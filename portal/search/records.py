"""The normalised shapes every provider returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


def plain_dict(record) -> dict:
    """A record dataclass as JSON-ready data: tuples become lists, mappings dicts."""

    def plain(value):
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, Mapping):
            return dict(value)
        return value

    return {f.name: plain(getattr(record, f.name)) for f in fields(record)}


@dataclass(frozen=True, slots=True)
class Record:
    """One search hit from one source, in plain text.

    Records are immutable so that pages can be cached and shared between
    threads. ``authors`` is a tuple of "Surname Initials" strings; ``doi`` is
    lowercase without a resolver prefix; ``url`` is an http(s) address where a
    reader can open the record (never another scheme: it ends up in an href).
    ``type`` says what kind of work it is ("article" unless a source knows
    better; "guideline" for the clinical guidelines, whose own fields are in
    ``guideline``).
    """

    source: str
    id: str
    title: str
    authors: tuple[str, ...] = ()
    journal: str | None = None
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    snippet: str | None = None
    open_access: bool | None = None
    type: str = "article"
    guideline: Mapping | None = None

    def as_dict(self) -> dict:
        return plain_dict(self)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of one source's results; ``total`` is None when it did not say."""

    records: tuple[Record, ...]
    total: int | None
