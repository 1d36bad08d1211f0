"""GET /api/v1/search: the linked scientific databases, searched in parallel.

A failing source never fails the request: the answer is 200 with that
source's error in ``sources``, even when every source failed (the client
sees each source's own reason, which a single 502 would hide).
"""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import int_arg
from portal.api.openapi import errors, json_response
from portal.core.db import utcnow
from portal.core.errors import Invalid
from portal.search import services
from portal.search.fanout import MAX_QUERY_LENGTH
from portal.search.providers import SOURCE_NAMES, MinzdravProvider
from portal.search.providers.base import AGE_GROUPS, EARLIEST_YEAR, LATEST_YEAR
from portal.search.ratelimit import search_rate_limit

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"", "0", "false", "no", "off"}


def _flag_arg(name):
    raw = request.args.get(name, "").strip().lower()
    if raw not in TRUE_VALUES | FALSE_VALUES:
        raise Invalid(_("The parameter %(name)s must be true or false.", name=name),
                      code="invalid_parameter", field=name)
    return raw in TRUE_VALUES


@bp.get("/search")
@search_rate_limit
def search():
    outcome = services.search(
        current_user,
        q=request.args.get("q"),
        sources=request.args.get("sources"),
        page=int_arg("page", 1, minimum=1),
        year_from=int_arg("year_from", minimum=EARLIEST_YEAR, maximum=LATEST_YEAR),
        year_to=int_arg("year_to", minimum=EARLIEST_YEAR, maximum=LATEST_YEAR),
        open_access=_flag_arg("open_access"),
        age_group=request.args.get("age_group") or None,
        current_only=_flag_arg("current_only"),
        now=utcnow(),
    )
    # The usage rows are already committed by the service; nothing else was written.
    results = [{**record, "links": services.record_links(record, outcome.link_prefix)}
               for record in outcome.data["results"]]
    sources = outcome.data["sources"]
    if outcome.guidelines_catalogue is not None:
        guidelines = MinzdravProvider.name
        sources = {**sources, guidelines: {**sources[guidelines], "catalogue": outcome.guidelines_catalogue.as_dict()}}
    return jsonify({**outcome.data, "results": results, "sources": sources, "cached": outcome.cached})


_SOURCE_STATUS = {
    "type": "object", "required": ["status", "count"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "error"]},
        "count": {"type": "integer", "description": "records of this source on this page"},
        "total": {"type": ["integer", "null"], "description": "hits the source reported"},
        "latency_ms": {"type": "integer"},
        "catalogue": {"type": "object", "description": "minzdrav only: the portal's copy of the rubricator",
                      "properties": {"synced_at": {"type": ["string", "null"], "format": "date-time"},
                                     "guidelines": {"type": "integer"},
                                     "stale": {"type": "boolean", "description": "never loaded, or out of date"},
                                     "last_failure_at": {"type": ["string", "null"], "format": "date-time",
                                                         "description": "the last sync failed (after the "
                                                                        "last success)"}}},
        "error": {"type": "object", "properties": {
            "code": {"type": "string", "enum": ["timeout", "rate_limited", "upstream_unavailable", "upstream_error",
                                                "bad_response", "too_large", "unsupported_filter", "internal_error"]},
            "message": {"type": "string"}}},
    },
}

SCHEMAS = {
    "SearchRecord": {
        "type": "object", "required": ["title", "authors", "journal", "year", "doi", "pmid", "url", "sources"],
        "properties": {
            "title": {"type": "string"}, "authors": {"type": "array", "items": {"type": "string"}},
            "journal": {"type": ["string", "null"]}, "year": {"type": ["integer", "null"]},
            "doi": {"type": ["string", "null"]}, "pmid": {"type": ["string", "null"]},
            "url": {"type": ["string", "null"]}, "snippet": {"type": ["string", "null"]},
            "open_access": {"type": ["boolean", "null"]},
            "type": {"type": "string", "enum": ["article", "guideline"]},
            "guideline": {"type": ["object", "null"], "description": "a clinical guideline's own fields",
                          "properties": {
                              "code_version": {"type": "string"}, "code": {"type": "integer"},
                              "version": {"type": "integer"},
                              "age_group": {"type": ["string", "null"], "enum": ["children", "adults", "all", None]},
                              "age_label": {"type": ["string", "null"]}, "applies_now": {"type": "boolean"},
                              "archived": {"type": "boolean"}, "status": {"type": ["integer", "null"]},
                              "council_approved": {"type": ["boolean", "null"]},
                              "published_at": {"type": ["string", "null"], "format": "date-time"},
                              "mkb": {"type": "array", "items": {"type": "object", "properties": {
                                  "code": {"type": "string"}, "name": {"type": "string"}}}}}},
            "sources": {"type": "array", "items": {"type": "string", "enum": list(SOURCE_NAMES)},
                        "description": "every source that found this work (merged by DOI/PMID)"},
            "ids": {"type": "object", "additionalProperties": {"type": "string"}},
            "links": {"type": "object", "description": "doi (through the clinic's library proxy when set), "
                                                       "pubmed, full_text (open access only)",
                      "additionalProperties": {"type": "string"}},
        },
    },
    "Search": {
        "type": "object", "required": ["results", "sources", "page"],
        "properties": {
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchRecord"}},
            "sources": {"type": "object", "additionalProperties": _SOURCE_STATUS},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": ["integer", "null"], "description": "sum of the sources' hit counts (an estimate)"},
            "has_more": {"type": "boolean"},
            "cached": {"type": "boolean", "description": "served from the cache of identical searches"},
        },
    },
}

PATHS = {
    "/search": {"get": {
        "summary": "Search the linked scientific databases",
        "description": "Queries the clinic's linked sources in parallel (each at most 8 s, the whole search "
                       "at most 10 s). A failing source shows as that source's error; the answer is still 200. "
                       "The clinical guidelines (minzdrav) are searched in the portal's own copy of the "
                       "rubricator, kept by a daily sync; its age shows as sources.minzdrav.catalogue. "
                       "Identical searches are cached; the query text is never stored. Rate-limited per user "
                       "(SEARCH_RATE_LIMIT, never below 30 a minute): 429 beyond it.",
        "operationId": "search",
        "parameters": [
            {"name": "q", "in": "query", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH},
             "description": "the query (1–500 characters after trimming; else 400 invalid_query)"},
            {"name": "sources", "in": "query", "schema": {"type": "string"},
             "description": "comma-separated source names among the clinic's linked ones "
                            f"({', '.join(SOURCE_NAMES)}); default all linked; any other is 400 unknown_source"},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
            {"name": "year_from", "in": "query", "schema": {"type": "integer"}},
            {"name": "year_to", "in": "query", "schema": {"type": "integer"}},
            {"name": "open_access", "in": "query", "schema": {"type": "boolean", "default": False}},
            {"name": "age_group", "in": "query", "schema": {"type": "string", "enum": list(AGE_GROUPS)},
             "description": "clinical guidelines (minzdrav) written for this age group; other sources ignore it"},
            {"name": "current_only", "in": "query", "schema": {"type": "boolean", "default": False},
             "description": "only clinical guidelines (minzdrav) that apply now; other sources ignore it"},
        ],
        "responses": {"200": json_response("Merged results with per-source status", "Search"),
                      **errors(400, 401, 429)},
    }},
}
