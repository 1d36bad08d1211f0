"""The fan-out: parallel sources, one source failing in every way, merging,
paging, request validation and which hosts are contacted."""

from __future__ import annotations

import json
import time

import pytest

from portal.search.errors import QueryError
from portal.search.fanout import SearchOptions, merge_records, normalise_query, search_all, select_sources
from portal.search.records import Record

from .conftest import API_ROOTS, DEFAULT_SAMPLES, DEFAULT_TOTALS, ESUMMARY_PATH, FIRST_TITLES, SEARCH_PATHS
from .conftest import UPSTREAM_SOURCES as SOURCE_NAMES
from .upstream_server import CUT, HTML, HUGE, MALFORMED, sample_bytes


def test_all_sources_answer_and_interleave(all_providers):
    result = search_all(all_providers, SearchOptions("cancer", per_page=10))

    assert {name: status.status for name, status in result.sources.items()} == dict.fromkeys(SOURCE_NAMES, "ok")
    assert [record.title for record in result.records[:5]] == [FIRST_TITLES[name] for name in SOURCE_NAMES]
    assert [record.sources for record in result.records[:5]] == [(name,) for name in SOURCE_NAMES]
    # Two per source (10 / 5), though each answer holds more.
    assert {name: status.count for name, status in result.sources.items()} == dict.fromkeys(SOURCE_NAMES, 2)
    assert len(result.records) == 10
    assert result.total == sum(DEFAULT_TOTALS.values())
    assert result.has_more is True
    body = result.as_dict()
    assert set(body) >= {"results", "sources", "page", "total"}
    assert set(body["results"][0]) >= {"title", "authors", "journal", "year", "doi", "pmid", "url", "sources"}
    assert body["sources"]["pubmed"]["status"] == "ok" and "error" not in body["sources"]["pubmed"]
    json.dumps(body)  # serialisable as is


# mode -> (route options for the failing source, expected error code)
FAILURES = {
    "timeout": ({"delay_ms": 2000}, "timeout"),
    "http_500": (
        {"status": 500, "body": b"Internal Server Error", "content_type": "text/plain"},
        "upstream_unavailable",
    ),
    "http_503": ({"status": 503, "body": b"", "content_type": "text/plain"}, "upstream_unavailable"),
    "http_429": ({"status": 429, "body": b"", "headers": {"Retry-After": "5"}}, "rate_limited"),
    "cut_connection": ({"behaviour": CUT}, "upstream_unavailable"),
    "malformed_body": ({"behaviour": MALFORMED}, "bad_response"),
    "html_page": ({"behaviour": HTML}, "bad_response"),
    "huge_body": ({"behaviour": HUGE}, "too_large"),
}


@pytest.mark.parametrize("mode", FAILURES)
@pytest.mark.parametrize("failing", SOURCE_NAMES)
def test_one_failing_source_does_not_hide_the_others(all_providers, upstream, failing, mode):
    options, code = FAILURES[mode]
    path = SEARCH_PATHS[failing]
    if "body" not in options:
        options = {**options, "body": sample_bytes(DEFAULT_SAMPLES[path])}
    upstream.add(path, **options)
    started = time.monotonic()

    # Short budgets where the failure is slowness itself; elsewhere room for a loaded machine
    # (streaming 5 MB up to the byte cap must not be mistaken for a timeout).
    source_budget, total_budget = (0.5, 1.0) if code == "timeout" else (5.0, 6.0)
    result = search_all(
        all_providers, SearchOptions("cancer", per_page=10), source_budget=source_budget, total_budget=total_budget
    )

    elapsed = time.monotonic() - started
    status = result.sources[failing]
    assert (status.status, status.count, status.error.code) == ("error", 0, code)
    assert result.as_dict()["sources"][failing]["error"]["code"] == code
    others = [name for name in SOURCE_NAMES if name != failing]
    assert all(result.sources[name].status == "ok" and result.sources[name].count > 0 for name in others)
    assert {source for record in result.records for source in record.sources} == set(others)
    assert [record.title for record in result.records[: len(others)]] == [FIRST_TITLES[name] for name in others]
    assert elapsed < total_budget + 0.3


def test_whole_search_stops_at_the_total_budget(all_providers, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/works_query.json", delay_ms=3000)
    started = time.monotonic()

    result = search_all(all_providers, SearchOptions("cancer"), source_budget=8, total_budget=0.6)

    assert time.monotonic() - started < 2.0  # crossref alone would take 3 s
    assert result.sources["crossref"].error.code == "timeout"
    assert result.sources["openalex"].status == "ok"
    assert 500 <= result.sources["crossref"].latency_ms < 900


def test_unexpected_failure_of_a_provider_is_contained(all_providers, caplog):
    class Broken:
        def search(self, *args, **kwargs):
            raise RuntimeError("bug")

    providers = {"pubmed": Broken(), "openalex": all_providers["openalex"]}

    result = search_all(providers, SearchOptions("x"), source_budget=1, total_budget=2)

    assert result.sources["pubmed"].error.code == "internal_error"
    assert result.sources["openalex"].count == 3
    assert any("failed unexpectedly" in record.getMessage() for record in caplog.records)


def test_duplicates_across_sources_are_merged(all_providers, upstream):
    crossref = json.loads(sample_bytes("crossref/works_query.json"))
    crossref["message"]["items"][0]["DOI"] = "10.1016/J.RMED.2023.107411"  # PubMed's second record, other case
    upstream.add(SEARCH_PATHS["crossref"], body=json.dumps(crossref).encode())
    openalex = json.loads(sample_bytes("openalex/works_search.json"))
    work = openalex["results"][0]
    work["doi"] = None
    work["ids"] = {"openalex": work["id"], "pmid": "https://pubmed.ncbi.nlm.nih.gov/38912345"}  # PubMed's first record
    upstream.add(SEARCH_PATHS["openalex"], body=json.dumps(openalex).encode())

    result = search_all(all_providers, SearchOptions("x", per_page=20))

    by_pmid = {record.pmid: record for record in result.records if record.pmid}
    by_doi = {record.doi: record for record in result.records if record.doi}
    spirometry = by_doi["10.1016/j.rmed.2023.107411"]
    assert spirometry.sources == ("pubmed", "crossref")
    assert spirometry.ids == {"pubmed": "37654321", "crossref": "10.1016/j.rmed.2023.107411"}
    assert (
        spirometry.title == "Spirometry reference values for Moscow schoolchildren aged 6-17 years."
    )  # PubMed comes first
    assert spirometry.snippet.startswith("Abstract Background Home spirometry")  # only Crossref had one
    adherence = by_pmid["38912345"]
    assert adherence.sources == ("pubmed", "openalex")
    assert adherence.doi == "10.1002/ppul.27011"
    assert adherence.authors == (
        "Kovalenko AS",
        "Lindqvist M",
        "Okafor CN",
        "van der Berg JH",
    )  # as many as OpenAlex lists: the earlier source wins
    assert adherence.open_access is True
    assert len(result.records) == sum(status.count for status in result.sources.values()) - 2
    assert len({record.doi for record in result.records if record.doi}) == len([r for r in result.records if r.doi])


def test_later_page_asks_every_source_for_its_own_later_page(all_providers, upstream):
    search_all(all_providers, SearchOptions("asthma", page=3, per_page=10))

    pubmed = upstream.requests_to(SEARCH_PATHS["pubmed"])[0]
    assert (pubmed.param("retstart"), pubmed.param("retmax")) == ("4", "2")
    crossref = upstream.requests_to(SEARCH_PATHS["crossref"])[0]
    assert (crossref.param("offset"), crossref.param("rows")) == ("4", "2")
    openalex = upstream.requests_to(SEARCH_PATHS["openalex"])[0]
    assert (openalex.param("page"), openalex.param("per_page")) == ("3", "2")
    europepmc_skip = upstream.requests_to(SEARCH_PATHS["europepmc"])[0]
    assert (europepmc_skip.param("resultType"), europepmc_skip.param("pageSize")) == ("idlist", "4")
    trials_skip = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])[0]
    assert (trials_skip.param("fields"), trials_skip.param("pageSize")) == ("NCTId", "4")


def test_only_the_configured_server_is_contacted(all_providers, upstream, connections):
    hostile = "http://127.0.0.2:9/x"

    result = search_all(all_providers, SearchOptions(hostile))

    assert all(status.status == "ok" for status in result.sources.values())
    assert connections and {address[:2] for address in connections} == {(upstream.host, upstream.port)}
    sent = {
        "pubmed": upstream.requests_to(SEARCH_PATHS["pubmed"])[0].param("term"),
        "europepmc": upstream.requests_to(SEARCH_PATHS["europepmc"])[0].param("query"),
        "crossref": upstream.requests_to(SEARCH_PATHS["crossref"])[0].param("query"),
        "clinicaltrials": upstream.requests_to(SEARCH_PATHS["clinicaltrials"])[0].param("query.term"),
        "openalex": upstream.requests_to(SEARCH_PATHS["openalex"])[0].param("search"),
    }
    assert sent == {**dict.fromkeys(SOURCE_NAMES, hostile), "europepmc": f"({hostile})"}
    # Every request went to a documented path under a configured API root.
    assert {request.path for request in upstream.requests} <= set(SEARCH_PATHS.values()) | {ESUMMARY_PATH}
    assert all(request.path.startswith(tuple(API_ROOTS.values())) for request in upstream.requests)


def test_sources_are_searched_in_parallel(all_providers, upstream):
    for name in ("europepmc", "crossref", "clinicaltrials", "openalex"):
        upstream.add(SEARCH_PATHS[name], DEFAULT_SAMPLES[SEARCH_PATHS[name]], delay_ms=400)
    started = time.monotonic()

    result = search_all(all_providers, SearchOptions("x"))

    assert all(status.status == "ok" for status in result.sources.values())
    assert time.monotonic() - started < 1.4  # one-at-a-time would take 1.6 s


# --- merging -------------------------------------------------------------------


def record(source, id, **fields):
    return Record(source=source, id=id, title=fields.pop("title", f"{source} {id}"), **fields)


def test_merge_prefers_earlier_sources_and_richer_fields():
    merged = merge_records(
        [
            ("pubmed", [record("pubmed", "1", pmid="1", doi="10.1/a", authors=("A B",), year=2020, open_access=None)]),
            (
                "europepmc",
                [
                    record(
                        "europepmc",
                        "MED/1",
                        pmid="1",
                        authors=("A B", "C D"),
                        snippet="longer text",
                        year=2021,
                        open_access=False,
                    )
                ],
            ),
            ("openalex", [record("openalex", "W1", doi="10.1/a", snippet="short", open_access=True, journal="J")]),
        ]
    )

    [only] = merged
    assert only.title == "pubmed 1"
    assert only.sources == ("pubmed", "europepmc", "openalex")
    assert only.authors == ("A B", "C D")
    assert (only.year, only.journal, only.snippet, only.open_access) == (2020, "J", "longer text", True)


def test_merge_interleaves_by_rank_and_keeps_first_position():
    merged = merge_records(
        [
            ("pubmed", [record("pubmed", "p1"), record("pubmed", "p2", doi="10.1/x")]),
            ("crossref", [record("crossref", "10.1/x", doi="10.1/x"), record("crossref", "c2")]),
        ]
    )

    # The work sits where Crossref first showed it, but PubMed, earlier in
    # the source order, supplies its fields.
    assert [m.title for m in merged] == ["pubmed p1", "pubmed p2", "crossref c2"]
    assert merged[1].sources == ("pubmed", "crossref")


def test_one_pmid_with_two_dois_stays_two_works():
    merged = merge_records(
        [
            ("pubmed", [record("pubmed", "1", pmid="1", doi="10.1/chapter")]),
            ("crossref", [record("crossref", "10.1/book", pmid="1", doi="10.1/book")]),
            ("openalex", [record("openalex", "W1", pmid="1")]),
        ]
    )

    assert [m.doi for m in merged] == ["10.1/chapter", "10.1/book"]
    assert merged[0].sources == ("pubmed", "openalex")


def test_records_without_identifiers_are_never_merged():
    merged = merge_records([("a", [record("a", "1", title="Same")]), ("b", [record("b", "1", title="Same")])])

    assert len(merged) == 2


# --- validation ----------------------------------------------------------------


@pytest.mark.parametrize("q", [None, "", "   ", "\x00\t", "x" * 501, 42])
def test_invalid_queries(q):
    with pytest.raises(QueryError) as caught:
        normalise_query(q)
    assert caught.value.code == "invalid_query"


def test_query_is_stripped_and_cleaned_and_500_characters_are_allowed():
    assert normalise_query("  asthma\x00 children \n") == "asthma  children"
    assert normalise_query("  " + "x" * 500 + " ") == "x" * 500


def test_sources_default_to_every_linked_one_in_canonical_order():
    assert select_sources(None, ["openalex", "pubmed"]) == ("pubmed", "openalex")
    assert select_sources("", SOURCE_NAMES) == SOURCE_NAMES
    assert select_sources("openalex, pubmed,pubmed", SOURCE_NAMES) == ("pubmed", "openalex")
    assert select_sources(["crossref"], SOURCE_NAMES) == ("crossref",)


@pytest.mark.parametrize(
    ("requested", "linked"),
    [("scopus", SOURCE_NAMES), ("pubmed,scopus", SOURCE_NAMES), ("crossref", ["pubmed"]), (None, [])],
)
def test_unknown_or_unlinked_sources_are_refused(requested, linked):
    with pytest.raises(QueryError) as caught:
        select_sources(requested, linked)
    assert caught.value.code == "unknown_source"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page": 0},
        {"per_page": 51},
        {"page": 51, "per_page": 20},
        {"year_from": 1700},
        {"year_from": 2020, "year_to": 2019},
        {"page": "2"},
    ],
)
def test_invalid_options(kwargs):
    with pytest.raises(QueryError) as caught:
        SearchOptions("x", **kwargs)
    assert caught.value.code == "invalid_parameter"


def test_last_reachable_page_reports_no_more(all_providers):
    result = search_all(all_providers, SearchOptions("x", page=50, per_page=20))

    # The sources have millions more, but page 51 would be beyond the window.
    assert result.total > 1000
    assert result.has_more is False
