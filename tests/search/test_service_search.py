"""The search service: usage statistics, privacy of queries, the cache key, link prefixes."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text

from portal.core import transaction
from portal.core.db import utcnow
from portal.core.errors import Invalid
from portal.extensions import cache, db
from portal.search import services
from portal.search.fanout import SearchOptions
from portal.search.models import SearchEvent

from .portal_search_setup import SEARCH_PATHS, clinic_doctor, config_overrides, search_settings  # noqa: F401  (fixtures)

SECRET_QUERY = "Сидоров Пётр 12.03.2015 полис 7700123456789012"


def _event(clinic, source, at, *, ok=True, latency_ms=100, cached=False):
    db.session.add(
        SearchEvent(
            clinic_id=clinic.id,
            source=source,
            at=at,
            ok=ok,
            latency_ms=latency_ms,
            cached=cached,
            error_code=None if ok else "timeout",
        )
    )


def test_usage_statistics_per_source_and_month_in_the_clinic_zone(make_clinic):
    clinic = make_clinic(timezone="Europe/Moscow")
    other = make_clinic()
    october = datetime(2026, 10, 10, 9, tzinfo=UTC)
    for latency in (100, 300, 200, 1000):
        _event(clinic, "pubmed", october, latency_ms=latency)
    _event(clinic, "pubmed", october, ok=False, latency_ms=8000)
    _event(clinic, "pubmed", october, cached=True, latency_ms=1)
    _event(clinic, "crossref", october, latency_ms=50)
    # 31 Oct 22:30 UTC is already November in Moscow.
    _event(clinic, "pubmed", datetime(2026, 10, 31, 22, 30, tzinfo=UTC), latency_ms=70)
    _event(other, "pubmed", october)
    db.session.commit()

    rows = services.usage_statistics(
        clinic, since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC)
    )

    assert [(r.month, r.source, r.searches, r.cached, r.errors, r.median_latency_ms) for r in rows] == [
        ("2026-11", "pubmed", 1, 0, 0, 70),
        ("2026-10", "pubmed", 6, 1, 1, 300),  # median of 100, 200, 300, 1000, 8000; the cached hit excluded
        ("2026-10", "crossref", 1, 0, 0, 50),
    ]


def test_cached_hits_are_counted_per_source_and_month(clinic_doctor, upstream):
    october, later_in_october = (datetime(2026, 10, day, 9, tzinfo=UTC) for day in (10, 20))
    november = datetime(2026, 11, 5, 9, tzinfo=UTC)
    first = services.search(clinic_doctor, q="asthma", sources="crossref,europepmc", now=october)
    calls = len(upstream.requests)
    repeats = [
        services.search(clinic_doctor, q=" asthma ", sources="europepmc,crossref", now=at)
        for at in (later_in_october, later_in_october, november)
    ]

    assert first.cached is False and all(outcome.cached for outcome in repeats)
    assert len(upstream.requests) == calls  # the repeats never reached an upstream
    rows = services.usage_statistics(
        clinic_doctor.clinic, since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [(r.month, r.source, r.searches, r.cached, r.errors) for r in rows] == [
        ("2026-11", "europepmc", 1, 1, 0),
        ("2026-11", "crossref", 1, 1, 0),
        ("2026-10", "europepmc", 3, 2, 0),
        ("2026-10", "crossref", 3, 2, 0),
    ]
    latencies = {(r.month, r.source): r.median_latency_ms for r in rows}
    assert latencies[("2026-11", "crossref")] is None  # only cached answers: no upstream latency
    assert latencies[("2026-10", "crossref")] == first.data["sources"]["crossref"]["latency_ms"]


def test_usage_rows_outlive_a_request_that_fails_after_searching(clinic_doctor, upstream):
    services.search(clinic_doctor, q="asthma", sources="crossref", now=utcnow())
    services.search(clinic_doctor, q="asthma", sources="crossref", now=utcnow())  # cached
    transaction.roll_back()  # the request's own changes go; the searches still happened

    events = db.session.execute(select(SearchEvent.source, SearchEvent.cached, SearchEvent.ok)).all()
    assert sorted(events) == [("crossref", False, True), ("crossref", True, True)]


def test_stored_search_settings_read_linked_sources_and_prefix_together(make_user):
    from portal.search.models import ClinicSearchSettings, UnlinkedSource

    doctor, other = make_user("doctor"), make_user("doctor")
    assert services.stored_search_settings(doctor.clinic_id) == (services.SOURCE_NAMES, None)
    assert services.search_settings(None) == (services.SOURCE_NAMES, None)
    db.session.add_all(
        [
            UnlinkedSource(clinic_id=doctor.clinic_id, source="crossref"),
            UnlinkedSource(clinic_id=doctor.clinic_id, source="pubmed"),
            ClinicSearchSettings(clinic_id=doctor.clinic_id, link_prefix="https://proxy.example/"),
        ]
    )
    db.session.commit()

    linked, prefix = services.stored_search_settings(doctor.clinic_id)
    assert linked == tuple(name for name in services.SOURCE_NAMES if name not in {"crossref", "pubmed"})
    assert prefix == "https://proxy.example/"
    assert services.search_settings(doctor.clinic_id) == (linked, prefix)
    assert services.stored_search_settings(other.clinic_id) == (services.SOURCE_NAMES, None)


def test_no_query_text_is_stored_anywhere_in_the_database(app, clinic_doctor, upstream):
    db.session.commit()
    inspector = inspect(db.engine)
    text_columns = [
        (table, column["name"])
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if any(kind in str(column["type"]).upper() for kind in ("CHAR", "TEXT", "JSON"))
    ]
    services.search(clinic_doctor, q=SECRET_QUERY, now=utcnow())
    services.search(clinic_doctor, q=SECRET_QUERY, now=utcnow())  # a cached repeat
    db.session.commit()

    assert db.session.scalar(select(db.func.count()).select_from(SearchEvent)) == 2 * len(services.SOURCE_NAMES)
    assert ("search_events", "source") in text_columns and ("audit_log", "details") in text_columns
    for table, column in text_columns:
        for fragment in (SECRET_QUERY, "Сидоров", "7700123456789012"):
            found = db.session.execute(
                text(f'SELECT COUNT(*) FROM {table} WHERE CAST("{column}" AS TEXT) LIKE :pattern'),
                {"pattern": f"%{fragment}%"},
            ).scalar()
            assert found == 0, f"{table}.{column} holds the query"


def test_the_cache_keeps_neither_the_query_in_its_key_nor_in_its_value(app, clinic_doctor, upstream):
    services.search(clinic_doctor, q=SECRET_QUERY, sources="crossref", now=utcnow())
    key = services.cache_key(SearchOptions(SECRET_QUERY), ("crossref",))

    assert "Сидоров" not in key and key.startswith("search:v1:")
    assert cache.get(key) is not None
    assert "Сидоров" not in repr(cache.get(key))


def test_same_search_with_other_spacing_shares_a_cache_key():
    assert services.cache_key(SearchOptions("a  b"), ("pubmed", "crossref")) != services.cache_key(
        SearchOptions("a b", page=2), ("crossref", "pubmed")
    )
    assert services.cache_key(SearchOptions("a b"), ("pubmed", "crossref")) == services.cache_key(
        SearchOptions("a b"), ("crossref", "pubmed")
    )


@pytest.mark.parametrize(
    "prefix, expected",
    [
        (None, "https://doi.org/10.1000/xyz-1"),
        ("https://proxy.example/login?url=", "https://proxy.example/login?url=https%3A%2F%2Fdoi.org%2F10.1000%2Fxyz-1"),
        ("https://doi-org.proxy.example/", "https://doi-org.proxy.example/https://doi.org/10.1000/xyz-1"),
    ],
)
def test_doi_links_through_the_library_proxy(prefix, expected):
    assert services.record_links({"doi": "10.1000/xyz-1"}, prefix)["doi"] == expected


def test_a_doi_with_markup_characters_stays_one_encoded_link():
    assert services.record_links({"doi": '10.1000/a"b<c>'})["doi"] == "https://doi.org/10.1000/a%22b%3Cc%3E"


def test_only_open_records_get_a_full_text_link():
    assert "full_text" not in services.record_links({"url": "https://example.org/a", "open_access": None})
    assert (
        services.record_links({"url": "https://example.org/a", "open_access": True})["full_text"]
        == "https://example.org/a"
    )


@pytest.mark.parametrize("prefix", ["javascript:alert(1)", "ftp://proxy.example/", "proxy.example"])
def test_a_link_prefix_must_be_a_web_address(make_user, prefix):
    admin = make_user("admin")
    with pytest.raises(Invalid) as error:
        services.set_link_prefix(admin, admin.clinic, prefix, now=utcnow())
    assert error.value.field == "link_prefix"


def test_the_last_linked_source_cannot_be_unlinked(make_user):
    admin = make_user("admin")
    with pytest.raises(Invalid) as error:
        services.set_linked_sources(admin, admin.clinic, [], now=utcnow())
    assert error.value.code == "no_source"
    assert services.stored_search_settings(admin.clinic_id)[0] == services.SOURCE_NAMES
