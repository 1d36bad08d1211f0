"""GET /api/v1/search: the linked scientific databases, searched in parallel.

A failing source never fails the request: the answer is 200 with that
source's error in ``sources``, even when every source failed (the client
sees each source's own reason, which a single 502 would hide).
"""

from typing import Annotated, Literal

from flask import jsonify
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.schema import Answer, Query, QueryBool, Time, answers, api, documented, omittable, query_int
from portal.core.db import DATABASE_INT_MAX, utcnow
from portal.search import services
from portal.search.fanout import MAX_QUERY_LENGTH
from portal.search.providers import SOURCE_NAMES, MinzdravProvider
from portal.search.providers.base import AGE_GROUPS, EARLIEST_YEAR, LATEST_YEAR
from portal.search.ratelimit import search_rate_limit

SourceName = Literal[SOURCE_NAMES]
SOURCE_ERRORS = (
    "timeout",
    "rate_limited",
    "upstream_unavailable",
    "upstream_error",
    "bad_response",
    "too_large",
    "unsupported_filter",
    "internal_error",
)


class SourceError(Answer):
    code: Literal[SOURCE_ERRORS]
    message: str = Field(description="for people, in the caller's language")
    detail: str = Field(description="what the source itself answered, in its own words (often English)")


class Catalogue(Answer):
    synced_at: Time | None
    guidelines: int
    stale: bool = Field(description="never loaded, or out of date")
    last_failure_at: Time | None = Field(description="the last sync failed (after the last success)")


class SourceStatus(Answer):
    status: Literal["ok", "error"]
    count: int = Field(description="records of this source on this page")
    total: int | None = Field(description="hits the source reported")
    latency_ms: int
    error: SourceError = omittable()
    catalogue: Catalogue = omittable(description="minzdrav only: the portal's copy of the rubricator")


class MkbCode(Answer):
    code: str
    name: str


class Guideline(Answer):
    code_version: str
    code: int
    version: int
    age_group: Literal["children", "adults", "all"] | None
    age_label: str | None
    applies_now: bool
    archived: bool
    status: int | None
    council_approved: bool | None
    published_at: Time | None
    mkb: list[MkbCode]


class SearchRecord(Answer):
    title: str
    authors: list[str]
    journal: str | None
    year: int | None
    doi: str | None
    pmid: str | None
    url: str | None
    snippet: str | None
    open_access: bool | None
    type: Literal["article", "guideline"] = omittable()
    guideline: Guideline | None = Field(None, description="a clinical guideline's own fields")
    sources: list[SourceName] = Field(description="every source that found this work (merged by DOI/PMID)")
    ids: dict[str, str]
    links: dict[str, str] = Field(
        description="doi (through the clinic's library proxy when set), pubmed, full_text (open access only)"
    )


class Search(Answer):
    results: list[SearchRecord]
    sources: dict[str, SourceStatus]
    page: int
    per_page: int
    total: int | None = Field(description="sum of the sources' hit counts (an estimate)")
    has_more: bool
    cached: bool = Field(description="served from the cache of identical searches")


class SearchQuery(Query):
    q: Annotated[
        str,
        documented(
            minLength=1,
            maxLength=MAX_QUERY_LENGTH,
            description=(f"the query (1–{MAX_QUERY_LENGTH} characters after trimming; else 400 invalid_query)"),
        ),
    ]
    sources: str = omittable(
        description=f"comma-separated source names among the clinic's linked ones "
        f"({', '.join(SOURCE_NAMES)}); default all linked; any other is 400 "
        f"unknown_source"
    )
    page: query_int(1, DATABASE_INT_MAX) = Field(1)
    year_from: query_int(EARLIEST_YEAR, LATEST_YEAR) = omittable()
    year_to: query_int(EARLIEST_YEAR, LATEST_YEAR) = omittable()
    open_access: QueryBool = False
    age_group: Literal[AGE_GROUPS] = omittable(
        description="clinical guidelines (minzdrav) written for this age group; other sources ignore it"
    )
    current_only: QueryBool = Field(
        False, description="only clinical guidelines (minzdrav) that apply now; other sources ignore it"
    )


def _in_callers_language(status):
    """A failed source's message in the caller's language; the source's own words stay, as the detail."""
    error = status.get("error")
    if error is None:
        return status
    message = str(services.source_error_message(error["code"]))
    return {**status, "error": {**error, "message": message, "detail": error["message"]}}


@bp.get("/search")
@search_rate_limit
@api.validate(resp=answers(429, HTTP_200=(Search, "Merged results with per-source status")))
def search(query: SearchQuery):
    """Search the linked scientific databases

    Queries the clinic's linked sources in parallel (each at most 8 s, the whole search at most 10 s).
    A failing source shows as that source's error; the answer is still 200. The clinical guidelines
    (minzdrav) are searched in the portal's own copy of the rubricator, kept by a daily sync; its age shows
    as sources.minzdrav.catalogue. Identical searches are cached; the query text is never stored.
    Rate-limited per user (SEARCH_RATE_LIMIT, never below 30 a minute): 429 beyond it.
    """
    outcome = services.search(
        current_user,
        q=query.q,
        sources=query.sources,
        page=query.page,
        year_from=query.year_from,
        year_to=query.year_to,
        open_access=query.open_access,
        age_group=query.age_group,
        current_only=query.current_only,
        now=utcnow(),
    )
    results = [
        {**record, "links": services.record_links(record, outcome.link_prefix)} for record in outcome.data["results"]
    ]
    sources = {name: _in_callers_language(status) for name, status in outcome.data["sources"].items()}
    if outcome.guidelines_catalogue is not None:
        guidelines = MinzdravProvider.name
        sources = {**sources, guidelines: {**sources[guidelines], "catalogue": outcome.guidelines_catalogue.as_dict()}}
    return jsonify({**outcome.data, "results": results, "sources": sources, "cached": outcome.cached})
