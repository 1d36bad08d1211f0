"""Query several sources in parallel and merge their answers.

Pure of Flask: the caller validates the request with ``SearchOptions`` and
``select_sources``, builds the providers from configuration and calls
``search_all``. Each source works against its own deadline (8 s by default),
the whole search answers within 10 s, and a failing source shows as that
source's error while the others' results still show.

A provider that searches the portal's own database (the clinical-guidelines
catalogue) runs in the calling thread, which holds the request's database
session, while the upstream ones run in the pool.

Paging: with ``n`` sources and ``per_page`` results wanted, page ``p`` asks
every source for its own page ``p`` of ``ceil(per_page / n)`` records and
interleaves them. Every record of every source thus belongs to exactly one
merged page; a record found by two sources on different pages shows twice.
"""

from __future__ import annotations

import logging
import math
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from .errors import QueryError, UpstreamError
from .providers import SOURCE_NAMES, Provider
from .providers.base import AGE_GROUPS, check_paging, check_years
from .records import Record, SearchPage, plain_dict

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 500
MAX_PER_PAGE = 50
# Deeper than this the upstreams' plain paging stops working.
MAX_RESULT_WINDOW = 1000
DEFAULT_PER_PAGE = 20
DEFAULT_SOURCE_BUDGET = 8.0
DEFAULT_TOTAL_BUDGET = 10.0
# A source that is at its own deadline gets this long to report its own
# (more precise) error before the fan-out stops waiting for it.
REPORT_GRACE_SECONDS = 0.2

# Threads only wait on sockets; sized for several concurrent searches of five
# sources each. A task that waits for a free thread still counts against its
# deadline, so saturation shows as timeouts, never as a slow answer.
_shared_executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="search-fanout")


def normalise_query(q: object) -> str:
    """``q`` without control characters and outer spaces, 1–500 characters."""
    if not isinstance(q, str):
        raise QueryError("invalid_query", "the query is missing")
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in q).strip()
    if not cleaned:
        raise QueryError("invalid_query", "the query is empty")
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise QueryError("invalid_query", f"the query is longer than {MAX_QUERY_LENGTH} characters")
    return cleaned


def select_sources(requested: str | Iterable[str] | None, linked: Iterable[str]) -> tuple[str, ...]:
    """The sources to search, in canonical order.

    ``requested`` is the ``sources=`` value ("pubmed,crossref" or a list);
    empty means every linked source. Naming a source that does not exist or
    is not linked for the clinic is an ``unknown_source`` error.
    """
    linked_set = set(linked)
    if requested is None:
        names: list[str] = []
    elif isinstance(requested, str):
        names = [name.strip() for name in requested.split(",") if name.strip()]
    else:
        names = [str(name).strip() for name in requested if str(name).strip()]
    if not names:
        chosen = [name for name in SOURCE_NAMES if name in linked_set]
        if not chosen:
            raise QueryError("unknown_source", "no search source is linked")
        return tuple(chosen)
    unknown = sorted({name for name in names if name not in SOURCE_NAMES or name not in linked_set})
    if unknown:
        raise QueryError("unknown_source", f"unknown or unlinked source: {', '.join(unknown)}")
    return tuple(name for name in SOURCE_NAMES if name in names)


@dataclass(frozen=True)
class SearchOptions:
    """A validated search; construction raises ``QueryError``."""

    query: str
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    year_from: int | None = None
    year_to: int | None = None
    open_access_only: bool = False
    # Filters of the clinical guidelines only (other sources have no such fields).
    age_group: str | None = None
    current_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "query", normalise_query(self.query))
        check_paging(self.page, self.per_page, max_per_page=MAX_PER_PAGE, max_offset=MAX_RESULT_WINDOW - 1)
        check_years(self.year_from, self.year_to)
        if self.age_group is not None and self.age_group not in AGE_GROUPS:
            raise QueryError("invalid_parameter", f"age_group must be one of {', '.join(AGE_GROUPS)}")
        object.__setattr__(self, "open_access_only", bool(self.open_access_only))
        object.__setattr__(self, "current_only", bool(self.current_only))


@dataclass(frozen=True)
class SourceStatus:
    """How one source fared: ``count`` records on this page, ``total`` hits
    it reported (None when unknown), ``latency_ms`` from the search start."""

    status: str
    count: int
    latency_ms: int
    total: int | None = None
    error: UpstreamError | None = None

    def as_dict(self) -> dict:
        result = {"status": self.status, "count": self.count, "latency_ms": self.latency_ms, "total": self.total}
        if self.error is not None:
            result["error"] = self.error.as_dict()
        return result


@dataclass(frozen=True)
class MergedRecord:
    """One work, possibly found by several sources (``sources`` in priority
    order, ``ids`` their local ids)."""

    title: str
    authors: tuple[str, ...]
    journal: str | None
    year: int | None
    doi: str | None
    pmid: str | None
    url: str | None
    snippet: str | None
    open_access: bool | None
    sources: tuple[str, ...]
    ids: Mapping[str, str]
    type: str = "article"
    guideline: Mapping | None = None

    def as_dict(self) -> dict:
        return plain_dict(self)


@dataclass(frozen=True)
class SearchResult:
    """``total`` sums the sources' hit counts (an estimate: works found by
    several sources count once per source); None when no source gave one."""

    records: tuple[MergedRecord, ...]
    sources: Mapping[str, SourceStatus]
    page: int
    per_page: int
    total: int | None
    has_more: bool

    def as_dict(self) -> dict:
        """The Search JSON shape of the API."""
        return {
            "results": [record.as_dict() for record in self.records],
            "sources": {name: status.as_dict() for name, status in self.sources.items()},
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "has_more": self.has_more,
        }


@dataclass
class _Entry:
    """The records of one work, with the source priority of each."""

    doi: str | None = None
    found: list[tuple[int, Record]] = field(default_factory=list)

    def add(self, priority: int, record: Record) -> None:
        self.doi = self.doi or record.doi
        self.found.append((priority, record))

    def freeze(self) -> MergedRecord:
        """Richest fields win: the longest author list and snippet, any
        "open" flag; otherwise the first value in source priority order."""
        records = [record for _, record in sorted(self.found, key=lambda item: item[0])]

        def first(attribute: str):
            return next((value for value in (getattr(r, attribute) for r in records) if value), None)

        flags = {record.open_access for record in records}
        ids: dict[str, str] = {}
        for record in records:
            ids.setdefault(record.source, record.id)
        return MergedRecord(
            title=first("title") or "",
            authors=max((record.authors for record in records), key=len),
            journal=first("journal"),
            year=first("year"),
            doi=first("doi"),
            pmid=first("pmid"),
            url=first("url"),
            snippet=max((record.snippet or "" for record in records), key=len) or None,
            open_access=True if True in flags else False if False in flags else None,
            sources=tuple(ids),
            ids=ids,
            type=next((record.type for record in records if record.type != "article"), "article"),
            guideline=first("guideline"),
        )


def merge_records(pages: Sequence[tuple[str, Sequence[Record]]]) -> list[MergedRecord]:
    """Interleave the sources' records (first of each, then second of each…)
    and fold duplicates together: the same DOI, or the same PMID when the DOIs
    do not disagree. A work keeps the position where it first appears; its
    fields favour the sources earlier in ``pages`` (see ``_Entry.freeze``)."""
    entries: list[_Entry] = []
    by_doi: dict[str, _Entry] = {}
    by_pmid: dict[str, _Entry] = {}
    depth = max((len(records) for _, records in pages), default=0)
    for rank in range(depth):
        for priority, (_, records) in enumerate(pages):
            if rank >= len(records):
                continue
            record = records[rank]
            entry = by_doi.get(record.doi) if record.doi else None
            if entry is None and record.pmid:
                entry = by_pmid.get(record.pmid)
                if entry is not None and record.doi and entry.doi and record.doi != entry.doi:
                    entry = None  # one PMID, two DOIs: trust the DOIs
            if entry is None:
                entry = _Entry()
                entries.append(entry)
            entry.add(priority, record)
            if record.doi:
                by_doi.setdefault(record.doi, entry)
            if record.pmid:
                by_pmid.setdefault(record.pmid, entry)
    return [entry.freeze() for entry in entries]


def search_all(
    providers: Mapping[str, Provider],
    options: SearchOptions,
    *,
    executor: Executor | None = None,
    source_budget: float = DEFAULT_SOURCE_BUDGET,
    total_budget: float = DEFAULT_TOTAL_BUDGET,
) -> SearchResult:
    """Search every provider in parallel; never raises for a source's failure.

    ``providers`` maps source names to providers, in the order results
    interleave. Returns within ``min(source_budget + 0.2 s, total_budget)``.
    """
    if not providers:
        raise ValueError("no providers to search")
    started = time.monotonic()
    total_deadline = started + total_budget
    source_deadline = min(started + source_budget, total_deadline)
    size = math.ceil(options.per_page / len(providers))
    pool = executor or _shared_executor

    finished_at: dict[str, float] = {}

    def run(name: str, provider: Provider) -> SearchPage:
        try:
            return provider.search(
                options.query,
                options.page,
                size,
                options.year_from,
                options.year_to,
                options.open_access_only,
                deadline=source_deadline,
                age_group=options.age_group,
                current_only=options.current_only,
            )
        finally:
            finished_at[name] = time.monotonic()

    def run_here(name: str, provider: Provider) -> Future:
        future: Future = Future()
        try:
            future.set_result(run(name, provider))
        except Exception as exc:  # reported below like a pooled source's failure
            future.set_exception(exc)
        return future

    local = {name for name, provider in providers.items() if getattr(provider, "runs_locally", False)}
    futures: dict[str, Future] = {
        name: pool.submit(run, name, provider) for name, provider in providers.items() if name not in local
    }
    futures.update((name, run_here(name, providers[name])) for name in local)
    futures = {name: futures[name] for name in providers}  # back in interleaving order
    wait(
        futures.values(),
        timeout=max(0.0, min(source_deadline + REPORT_GRACE_SECONDS, total_deadline) - time.monotonic()),
    )

    statuses: dict[str, SourceStatus] = {}
    pages: list[tuple[str, Sequence[Record]]] = []
    for name, future in futures.items():
        latency_ms = round((finished_at.get(name, time.monotonic()) - started) * 1000)
        if not future.done():
            future.cancel()
            error = UpstreamError("timeout", f"no answer within {min(source_budget, total_budget):g} s")
        else:
            try:
                page = future.result()
            except UpstreamError as exc:
                error = exc
            except Exception:
                logger.exception("search source %s failed unexpectedly", name)
                error = UpstreamError("internal_error", "unexpected failure while searching this source")
            else:
                # An upstream that ignores the page size must not flood the page.
                records = page.records[:size]
                statuses[name] = SourceStatus("ok", len(records), latency_ms, page.total)
                pages.append((name, records))
                continue
        logger.warning("search source %s: %s (%s)", name, error.code, error.message)
        statuses[name] = SourceStatus("error", 0, latency_ms, error=error)

    known_totals = [status.total for status in statuses.values() if status.total is not None]
    has_more = any(
        status.status == "ok"
        and (status.total > options.page * size if status.total is not None else status.count == size)
        for status in statuses.values()
    )
    return SearchResult(
        records=tuple(merge_records(pages)),
        sources=statuses,
        page=options.page,
        per_page=options.per_page,
        total=sum(known_totals) if known_totals else None,
        has_more=has_more and options.page * options.per_page < MAX_RESULT_WINDOW,
    )
