"""GET /api/v1/search against the replay server of upstream answers."""

import time
from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.search import services
from portal.search.models import SearchEvent
from portal.search.ratelimit import check_search_rate_limit
from tests.conftest import make_config

from .conftest import DEFAULT_SAMPLES
from .portal_search_setup import (  # noqa: F401  (fixtures)
    FIRST_TITLES,
    SEARCH_PATHS,
    SOURCE_NAMES,
    TOTAL_BUDGET,
    api,
    clinic_doctor,
    config_overrides,
    search_settings,
)
from .upstream_server import CUT, HTML, MALFORMED, sample_bytes


def test_search_answers_the_spec_shape_with_every_source(api, upstream):
    response = api.get("/api/v1/search?q=cancer")

    assert response.status_code == 200
    body = response.get_json()
    assert {name: status["status"] for name, status in body["sources"].items()} == dict.fromkeys(SOURCE_NAMES, "ok")
    assert all(body["sources"][name]["count"] > 0 for name in SEARCH_PATHS)
    assert body["sources"]["minzdrav"]["count"] == 0  # the guidelines catalogue is empty here
    assert body["page"] == 1 and isinstance(body["total"], int) and body["cached"] is False
    record = body["results"][0]
    assert set(record) >= {"title", "authors", "journal", "year", "doi", "pmid", "url", "sources"}
    assert [r["title"] for r in body["results"][:5]] == [FIRST_TITLES[name] for name in SEARCH_PATHS]
    pubmed = body["results"][0]
    assert pubmed["pmid"] == "38912345" and pubmed["links"]["pubmed"] == "https://pubmed.ncbi.nlm.nih.gov/38912345/"
    crossref = next(r for r in body["results"] if r["sources"] == ["crossref"])
    assert crossref["doi"] == "10.1186/s12887-024-04711-3"
    assert crossref["links"]["doi"] == "https://doi.org/10.1186/s12887-024-04711-3"


FAILURES = {
    "timeout": ({"delay_ms": int(TOTAL_BUDGET * 1000) + 1000}, "timeout"),
    "http_500": (
        {"status": 500, "body": b"Internal Server Error", "content_type": "text/plain"},
        "upstream_unavailable",
    ),
    "http_429": ({"status": 429, "body": b"", "headers": {"Retry-After": "30"}}, "rate_limited"),
    "cut_connection": ({"behaviour": CUT}, "upstream_unavailable"),
    "malformed_body": ({"behaviour": MALFORMED}, "bad_response"),
    "html_instead_of_json": ({"behaviour": HTML}, "bad_response"),
}


@pytest.mark.parametrize("mode", FAILURES)
@pytest.mark.parametrize("failing", ["crossref", "pubmed"])
def test_one_failing_source_shows_its_error_next_to_the_others_results(api, upstream, failing, mode):
    options, code = FAILURES[mode]
    path = SEARCH_PATHS[failing]
    if "body" not in options:
        options = {**options, "body": sample_bytes(DEFAULT_SAMPLES[path])}
    upstream.add(path, **options)

    response = api.get("/api/v1/search?q=cancer")

    assert response.status_code == 200
    body = response.get_json()
    assert body["sources"][failing]["status"] == "error"
    assert body["sources"][failing]["error"]["code"] == code
    others = [name for name in SEARCH_PATHS if name != failing]
    assert all(body["sources"][name]["status"] == "ok" and body["sources"][name]["count"] > 0 for name in others)
    assert {source for record in body["results"] for source in record["sources"]} == set(others)
    assert FIRST_TITLES[failing] not in [record["title"] for record in body["results"]]
    event = db.session.scalars(select(SearchEvent).where(SearchEvent.source == failing)).one()
    assert (event.ok, event.error_code) == (False, code)


def test_every_source_failing_is_still_an_answer_with_each_error(api, upstream):
    for path in SEARCH_PATHS.values():
        upstream.add(path, status=503, body=b"", content_type="text/plain")

    response = api.get("/api/v1/search?q=cancer")

    assert response.status_code == 200
    body = response.get_json()
    assert body["results"] == []
    assert {name: body["sources"][name]["error"]["code"] for name in SEARCH_PATHS} == dict.fromkeys(
        SEARCH_PATHS, "upstream_unavailable"
    )
    assert body["sources"]["minzdrav"]["status"] == "ok"  # the portal's own catalogue


def test_a_failed_source_is_not_cached(api, upstream):
    upstream.add(SEARCH_PATHS["crossref"], status=500, body=b"", content_type="text/plain", times=1)

    first = api.get("/api/v1/search?q=cancer").get_json()
    second = api.get("/api/v1/search?q=cancer").get_json()

    assert first["sources"]["crossref"]["status"] == "error"
    assert second["sources"]["crossref"]["status"] == "ok" and second["cached"] is False


@pytest.mark.parametrize("sources", ["medline", "pubmed,scholar", "http://evil.example/x", "../pubmed"])
def test_a_source_that_does_not_exist_is_refused_without_contacting_anything(api, upstream, sources):
    response = api.get("/api/v1/search?q=cancer&sources=" + quote(sources, safe=""))

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_source"
    assert upstream.requests == []


def test_a_source_not_linked_for_the_clinic_is_refused(api, upstream, clinic_doctor):
    from portal.search.models import UnlinkedSource

    db.session.add(UnlinkedSource(clinic_id=clinic_doctor.clinic_id, source="crossref"))
    db.session.commit()

    refused = api.get("/api/v1/search?q=cancer&sources=pubmed,crossref")
    default = api.get("/api/v1/search?q=cancer")

    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unknown_source"
    assert set(default.get_json()["sources"]) == set(SOURCE_NAMES) - {"crossref"}
    assert upstream.requests_to(SEARCH_PATHS["crossref"]) == []


def test_a_url_in_the_query_is_searched_as_text_and_never_fetched(api, upstream, connections):
    target = "http://169.254.169.254/latest/meta-data/"
    response = api.get("/api/v1/search?sources=pubmed,crossref&q=" + quote(target, safe=""))

    assert response.status_code == 200
    assert {("127.0.0.1", upstream.port)} == {address[:2] for address in connections}
    assert {request.path for request in upstream.requests} <= set(SEARCH_PATHS.values()) | {
        "/entrez/eutils/esummary.fcgi"
    }
    assert upstream.requests_to(SEARCH_PATHS["pubmed"])[0].param("term") == target
    assert upstream.requests_to(SEARCH_PATHS["crossref"])[0].param("query") == target


@pytest.mark.parametrize(
    "query", ["page=http://evil.example/", "year_from=http://evil.example/", "open_access=http://evil.example/"]
)
def test_a_url_in_another_parameter_is_refused(api, upstream, query):
    response = api.get("/api/v1/search?q=cancer&" + query)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"
    assert upstream.requests == []


@pytest.mark.parametrize(
    "query, code",
    [
        ("q=" + "a" * 501, "invalid_query"),
        ("q=", "invalid_query"),
        ("q=%20%20%20", "invalid_query"),
        ("", "missing_parameter"),
    ],
)
def test_a_query_that_is_too_long_empty_or_missing_is_refused(api, upstream, query, code):
    response = api.get("/api/v1/search?" + query)

    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": code,
        "message": response.get_json()["error"]["message"],
        "field": "q",
    }
    assert upstream.requests == []


def test_a_query_of_500_characters_is_searched(api, upstream):
    response = api.get("/api/v1/search?sources=crossref&q=" + "a" * 500)

    assert response.status_code == 200
    assert upstream.requests_to(SEARCH_PATHS["crossref"])[0].param("query") == "a" * 500


def test_an_identical_search_is_answered_from_the_cache(api, upstream):
    first = api.get("/api/v1/search?q=cancer%20risk&sources=pubmed,crossref")
    requests_after_first = len(upstream.requests)
    # The same search, spelled with other spacing and source order.
    second = api.get("/api/v1/search?q=%20cancer%20%20risk&sources=crossref,pubmed")

    assert requests_after_first == 3  # esearch, esummary, crossref
    assert len(upstream.requests) == requests_after_first
    assert second.get_json()["cached"] is True
    assert second.get_json()["results"] == first.get_json()["results"]
    events = db.session.execute(select(SearchEvent.source, SearchEvent.cached)).all()
    assert sorted(events) == [("crossref", False), ("crossref", True), ("pubmed", False), ("pubmed", True)]


def test_a_cached_answer_still_gets_the_clinic_link_prefix_and_linked_sources(api, upstream, clinic_doctor, make_user):
    admin = make_user("admin", clinic=clinic_doctor.clinic)
    first = api.get("/api/v1/search?q=ecology&sources=crossref").get_json()
    services.set_link_prefix(admin, admin.clinic, "https://proxy.library.example/login?url=", now=utcnow())
    services.set_linked_sources(
        admin, admin.clinic, [name for name in services.SOURCE_NAMES if name != "pubmed"], now=utcnow()
    )
    db.session.commit()

    second = api.get("/api/v1/search?q=ecology&sources=crossref").get_json()
    refused = api.get("/api/v1/search?q=ecology&sources=crossref,pubmed")

    assert first["cached"] is False and second["cached"] is True
    doi = "https%3A%2F%2Fdoi.org%2F10.1186%2Fs12887-024-04711-3"
    assert [r["links"].get("doi") for r in first["results"]][0] == "https://doi.org/10.1186/s12887-024-04711-3"
    assert [r["links"].get("doi") for r in second["results"]][0] == "https://proxy.library.example/login?url=" + doi
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unknown_source"


SETTINGS_LIFETIME = 3


@pytest.mark.parametrize("search_settings", [{"SEARCH_SETTINGS_CACHE_SECONDS": SETTINGS_LIFETIME}])
def test_a_change_made_by_another_server_reaches_searches_within_the_settings_lifetime(
    api, upstream, clinic_doctor, make_user, database_url, search_settings
):
    from portal import create_app

    admin_id = make_user("admin", clinic=clinic_doctor.clinic).id
    other_server = create_app(make_config(database_url))
    assert api.get("/api/v1/search?q=ecology&sources=pubmed").status_code == 200
    kept_since = time.monotonic()
    db.session.commit()  # SQLite: release the test's write lock before the other server writes
    with other_server.app_context():
        other_admin = db.session.get(User, admin_id)
        services.set_linked_sources(other_admin, other_admin.clinic, ["crossref"], now=utcnow())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    kept = api.get("/api/v1/search?q=ecology&sources=pubmed")
    kept_for = time.monotonic() - kept_since
    time.sleep(max(0, SETTINGS_LIFETIME + 0.2 - kept_for))
    refused = api.get("/api/v1/search?q=ecology&sources=pubmed")

    assert kept_for < SETTINGS_LIFETIME  # else the machine was too slow to tell anything
    assert kept.status_code == 200
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unknown_source"


def test_other_pages_and_filters_are_not_served_from_the_cache(api, upstream):
    api.get("/api/v1/search?q=cancer&sources=crossref")
    api.get("/api/v1/search?q=cancer&sources=crossref&page=2")
    api.get("/api/v1/search?q=cancer&sources=crossref&year_from=2000")

    assert len(upstream.requests_to(SEARCH_PATHS["crossref"])) == 3


@pytest.mark.parametrize("search_settings", [{"SEARCH_RATE_LIMIT": "30 per minute"}])
def test_searches_beyond_the_rate_limit_answer_429_in_the_error_shape(
    api, upstream, make_user, api_as, search_settings
):
    answers = [api.get("/api/v1/search?q=cancer&sources=crossref").status_code for _ in range(30)]
    refused = api.get("/api/v1/search?q=cancer&sources=crossref")
    colleague = api_as(make_user("doctor")).get("/api/v1/search?q=cancer&sources=crossref")

    assert answers == [200] * 30
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert colleague.status_code == 200  # the limit is per user, not per address


@pytest.mark.parametrize("limit", ["100 per hour", "29 per minute", "60 per minute;1000 per day"])
def test_a_rate_limit_below_30_a_minute_is_refused_at_start(limit):
    with pytest.raises(ValueError):
        check_search_rate_limit(limit)


def test_search_needs_a_signed_in_caller(client, upstream):
    response = client.get("/api/v1/search?q=cancer")

    assert response.status_code == 401
    assert upstream.requests == []


def test_the_openapi_document_describes_the_search(client):
    document = client.get("/api/v1/openapi.json").get_json()

    operation = document["paths"]["/search"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"q", "sources", "page"}
    # The spec's shape must be there (extra fields are fine).
    assert set(document["components"]["schemas"]["Search"]["required"]) >= {"results", "sources", "page"}


def test_providers_are_built_once_per_app(app):
    assert services.providers() is services.providers()


def test_a_failed_sources_message_is_in_the_callers_language_with_its_own_words_beside(api, upstream):
    upstream.add(SEARCH_PATHS["crossref"], status=503, body=b"", content_type="text/plain")

    russian = api.get("/api/v1/search?q=cancer&sources=crossref").get_json()["sources"]["crossref"]["error"]
    english = api.get("/api/v1/search?q=cancer&sources=crossref&lang=en").get_json()["sources"]["crossref"]["error"]

    assert russian["code"] == english["code"] == "upstream_unavailable"
    assert russian["message"] == "База данных сейчас недоступна."
    assert english["message"] == "The database cannot be reached right now."
    assert russian["detail"] == english["detail"] and russian["detail"]
