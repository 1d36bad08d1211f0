"""The clinical guidelines (source ``minzdrav``): the catalogue synced from the rubricator's list
call, replayed by the local server in the rubricator's format (tests/search/samples/minzdrav,
invented guidelines), and searched in the portal's database in Russian and by ICD-10 code."""

import copy
import io
import json
import threading
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import select

from portal.core.db import utcnow
from portal.extensions import db
from portal.search import services
from portal.search.guidelines import catalogue, sync
from portal.search.guidelines.models import Guideline, GuidelineSyncState
from portal.search.guidelines.upstream import SyncFailed
from portal.search.models import SavedReference, SearchEvent
from portal.search.providers import SOURCE_NAMES
from tests.conftest import csrf_token_from

from .conftest import MINZDRAV_LIST_PATH, MINZDRAV_ROOT
from .portal_search_setup import SOURCE_BUDGET, TOTAL_BUDGET
from .upstream_server import LOCAL_SAMPLES, UpstreamServer, recorded_sample_bytes, shared_samples_dir

LIST_QUERY = {"op": "GetJsonClinrecsFilterV2"}
PAGE_SIZE = 3
PAUSE = 0.05
RUBRICATOR_PAGE = "https://cr.minzdrav.gov.ru/view-cr/{}"
MSK = timezone(timedelta(hours=3))


def sample(name):
    return json.loads((LOCAL_SAMPLES / "minzdrav" / name).read_text("utf-8"))


@pytest.fixture
def rubricator():
    """The replay server; every source's base URL points at it, so any call a search made would show."""
    server = UpstreamServer().start()
    yield server
    server.stop()


@pytest.fixture
def config_overrides(rubricator):
    return {
        "UPSTREAM_BASE_URLS": {
            **{name: rubricator.url + "/" + name for name in SOURCE_NAMES},
            "minzdrav": rubricator.url + MINZDRAV_ROOT,
        },
        "PORTAL_CONTACT_EMAIL": "library@example.org",
        "GUIDELINES_SYNC_PAGE_SIZE": PAGE_SIZE,
        "GUIDELINES_SYNC_PAUSE_SECONDS": PAUSE,
        "GUIDELINES_SYNC_PAGE_TIMEOUT_SECONDS": 3.0,
        "SEARCH_SOURCE_BUDGET_SECONDS": SOURCE_BUDGET,
        "SEARCH_TOTAL_BUDGET_SECONDS": TOTAL_BUDGET,
    }


def serve_pages(rubricator, *pages, **options):
    """Answer the list call's page 1, 2, … with these bodies (a sample name or decoded JSON)."""
    for number, page in enumerate(pages, start=1):
        body = (
            (LOCAL_SAMPLES / "minzdrav" / page).read_bytes()
            if isinstance(page, str)
            else json.dumps(page, ensure_ascii=False).encode()
        )
        rubricator.add(MINZDRAV_LIST_PATH, body=body, query=LIST_QUERY, json_body={"currentPage": number}, **options)


@pytest.fixture
def synced(app, rubricator):
    """The catalogue synced from the two fixture pages (five guidelines)."""
    serve_pages(rubricator, "list_page1.json", "list_page2.json")
    change = sync.sync_now(utcnow())
    rubricator.requests.clear()
    return change


@pytest.fixture
def doctor(make_user):
    return make_user("doctor")


def found(doctor, q, **options):
    """The code-versions a guidelines-only search finds, in order."""
    outcome = services.search(doctor, q=q, sources="minzdrav", now=utcnow(), **options)
    assert outcome.data["sources"]["minzdrav"]["status"] == "ok"
    return [record["guideline"]["code_version"] for record in outcome.data["results"]]


def guideline(code_version):
    return db.session.scalar(select(Guideline).where(Guideline.code_version == code_version))


def state():
    db.session.expire_all()
    return db.session.get(GuidelineSyncState, 1)


# --- the sync ------------------------------------------------------------------------------


def test_the_sync_pages_through_the_list_politely_and_keeps_every_field(app, rubricator):
    serve_pages(rubricator, "list_page1.json", "list_page2.json")
    now = utcnow()

    change = sync.sync_now(now)

    requests = rubricator.requests_to(MINZDRAV_LIST_PATH)
    assert [
        (request.method, request.param("op"), request.json()["currentPage"], request.json()["pageSize"])
        for request in requests
    ] == [("POST", "GetJsonClinrecsFilterV2", 1, PAGE_SIZE), ("POST", "GetJsonClinrecsFilterV2", 2, PAGE_SIZE)]
    assert requests[1].at - requests[0].at >= PAUSE
    assert {request.headers["User-Agent"] for request in requests} == {
        "GrowthRoomPortal/1.0 (mailto:library@example.org)"
    }
    assert (change.listed, change.added, change.removed, change.complete) == (5, 5, 0, True)
    rickets = guideline("1059_2")
    assert (rickets.title, rickets.code, rickets.version, rickets.rubricator_id) == (
        "Недостаточность витамина D. Рахит.",
        1059,
        2,
        9205,
    )
    assert (rickets.age_category, rickets.age_label, rickets.status, rickets.applies_now, rickets.council_approved) == (
        2,
        "Дети",
        0,
        True,
        True,
    )
    assert rickets.developers == ["Союз педиатров России", "Российская ассоциация эндокринологов"]
    assert rickets.published_at == datetime(2026, 10, 14, 12, 5, 41, tzinfo=MSK)
    assert [(code.code, code.name) for code in rickets.mkb_codes] == [
        ("E55", "Недостаточность витамина D"),
        ("E55.0", "Рахит активный"),
    ]
    assert guideline("1059_1").applies_now is False and guideline("1059_1").status == 4
    assert (state().last_success_at, state().guideline_count, state().last_origin) == (now, 5, "upstream")


def test_a_guideline_gone_from_a_complete_list_is_marked_and_comes_back_when_listed_again(synced, rubricator, doctor):
    shorter = sample("list_page1.json")
    shorter["TotalRecords"] = 3
    serve_pages(rubricator, shorter)

    change = sync.sync_now(utcnow())

    assert (change.listed, change.removed, change.complete) == (3, 2, True)
    assert guideline("714_2").removed_at is not None and guideline("1059_1").removed_at is not None
    assert found(doctor, "пневмония") == [] and found(doctor, "рахит") == ["1059_2"]
    assert state().guideline_count == 3

    serve_pages(rubricator, "list_page1.json", "list_page2.json")
    sync.sync_now(utcnow())

    assert guideline("714_2").removed_at is None and found(doctor, "пневмония") == ["714_2"]


def test_a_list_that_ends_short_of_its_own_count_marks_nothing_as_gone(synced, rubricator):
    serve_pages(rubricator, "list_page1.json", {"Data": [], "TotalRecords": 5})

    change = sync.sync_now(utcnow())

    assert (change.listed, change.removed, change.complete) == (3, 0, False)
    assert guideline("714_2").removed_at is None


FAILURES = {
    "refused_451": (
        {
            "body": (LOCAL_SAMPLES / "minzdrav" / "refusal_451.html").read_bytes(),
            "status": 451,
            "content_type": "text/html; charset=utf-8",
        },
        "refused the portal's request (HTTP 451)",
    ),
    "changed_shape": (
        {"body": (LOCAL_SAMPLES / "minzdrav" / "list_changed_shape.json").read_bytes()},
        "changed shape: guideline 1 of the answer: CodeVersion is missing",
    ),
    "html_page": (
        {
            "body": (LOCAL_SAMPLES / "minzdrav" / "refusal_451.html").read_bytes(),
            "content_type": "text/html; charset=utf-8",
        },
        "an HTML page came where JSON was expected",
    ),
    "empty_list": ({"body": b'{"Data": [], "TotalRecords": 0}'}, "listed no guidelines"),
    "unavailable": ({"status": 503, "body": b"", "content_type": "text/plain"}, "answered HTTP 503"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_sync_says_why_and_keeps_the_last_good_catalogue(synced, rubricator, doctor, failure):
    options, message = FAILURES[failure]
    rubricator.add(MINZDRAV_LIST_PATH, query=LIST_QUERY, **options)
    before = state().last_success_at
    later = utcnow() + timedelta(days=1)

    with pytest.raises(SyncFailed) as raised:
        sync.sync_now(later)

    assert message in raised.value.message
    assert found(doctor, "рахита") == ["1059_2", "1059_1"]
    assert db.session.scalar(select(db.func.count()).select_from(Guideline).where(Guideline.removed_at.is_(None))) == 5
    assert (state().last_success_at, state().last_failure_at, state().running_until) == (before, later, None)
    assert message in state().last_error


def test_a_catalogue_loaded_on_another_server_reaches_its_searches_within_the_kept_time(
    synced, app, make_app, config_overrides, rubricator, doctor, time_machine
):
    from portal.auth.models import User

    time_machine.move_to(utcnow(), tick=False)
    assert found(doctor, "рахит") == ["1059_2", "1059_1"]  # this server now keeps the catalogue's load time
    shorter = sample("list_page1.json")
    shorter["TotalRecords"] = 3
    serve_pages(rubricator, shorter)
    doctor_id = doctor.id
    db.session.commit()  # SQLite: release the test's write lock before the other server writes
    with make_app(**config_overrides).app_context():
        doctor_there = db.session.get(User, doctor_id)
        assert found(doctor_there, "рахит") == ["1059_2", "1059_1"]  # the loading server keeps it too
        time_machine.shift(timedelta(seconds=1))
        sync.sync_now(utcnow())
        db.session.commit()
        on_the_loading_server = found(doctor_there, "рахит")
        db.session.remove()

    within_the_kept_time = found(doctor, "рахит")
    time_machine.shift(timedelta(seconds=app.config["GUIDELINES_STATUS_CACHE_SECONDS"]))
    after_it = found(doctor, "рахит")

    assert on_the_loading_server == ["1059_2"]
    assert within_the_kept_time == ["1059_2", "1059_1"]
    assert after_it == ["1059_2"]


def test_the_command_reports_a_refusal_and_exits_with_failure(app, rubricator):
    rubricator.add(
        MINZDRAV_LIST_PATH,
        query=LIST_QUERY,
        status=451,
        content_type="text/html",
        body=(LOCAL_SAMPLES / "minzdrav" / "refusal_451.html").read_bytes(),
    )

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines"])

    assert result.exit_code == 1
    assert "kept as it was" in result.output and "HTTP 451" in result.output and "--from-file" in result.output


def test_the_command_syncs_and_reports_what_changed(app, rubricator):
    serve_pages(rubricator, "list_page1.json", "list_page2.json")

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines"])

    assert result.exit_code == 0, result.output
    assert "5 guideline(s) listed: 5 new, 0 changed, 0 no longer listed." in result.output


def test_the_scheduled_sync_runs_once_a_day_and_retries_a_failure_after_an_hour(app, rubricator):
    start = utcnow()
    serve_pages(rubricator, "list_page1.json", "list_page2.json")

    assert sync.run_scheduled_sync(start).listed == 5
    assert sync.run_scheduled_sync(start + timedelta(hours=23)) is None
    assert len(rubricator.requests) == 2

    rubricator.add(MINZDRAV_LIST_PATH, query=LIST_QUERY, status=500, body=b"", content_type="text/plain")
    with pytest.raises(SyncFailed):
        sync.run_scheduled_sync(start + timedelta(hours=24))
    assert sync.run_scheduled_sync(start + timedelta(hours=24, minutes=30)) is None
    assert len(rubricator.requests) == 3
    with pytest.raises(SyncFailed):
        sync.run_scheduled_sync(start + timedelta(hours=25, minutes=1))
    assert len(rubricator.requests) == 4


def test_a_running_sync_holds_the_lease_against_every_other(app, rubricator):
    now = utcnow()
    assert catalogue.claim_sync(now=now, lease=sync.LEASE)  # another machine, still paging
    db.session.commit()

    with pytest.raises(SyncFailed, match="another sync"):
        sync.sync_now(now + timedelta(minutes=5))
    assert sync.run_scheduled_sync(now + timedelta(minutes=5)) is None
    assert rubricator.requests == []


def test_a_saved_list_loaded_meanwhile_leaves_the_running_sync_its_lease(app, rubricator, tmp_path):
    now = utcnow()
    assert catalogue.claim_sync(now=now, lease=sync.LEASE)
    db.session.commit()
    path = tmp_path / "list.json"
    path.write_bytes(saved_list())

    loaded = app.test_cli_runner().invoke(args=["portal", "sync-guidelines", "--from-file", str(path)])

    assert loaded.exit_code == 0, loaded.output
    assert state().running_until == now + sync.LEASE
    with pytest.raises(SyncFailed, match="another sync"):
        sync.sync_now(now + timedelta(minutes=5))


def test_of_several_machines_starting_the_scheduled_sync_at_once_one_syncs(app, rubricator):
    serve_pages(rubricator, "list_page1.json", "list_page2.json", delay_ms=200)
    now = utcnow()
    db.session.commit()
    outcomes, errors = [], []

    def machine():
        try:
            with app.app_context():
                outcomes.append(sync.run_scheduled_sync(now))
        except Exception as exc:  # a thread's failure must fail the test, not vanish
            errors.append(exc)

    threads = [threading.Thread(target=machine) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(outcome is not None for outcome in outcomes) == [False, False, True]
    assert [request.json()["currentPage"] for request in rubricator.requests] == [1, 2]


# --- searching -----------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["рахит", "рахита", "Рахиту", "РАХИТОМ", "о рахите"])
def test_any_grammatical_form_finds_the_current_guideline_first(synced, doctor, q):
    assert found(doctor, q) == ["1059_2", "1059_1"]


@pytest.mark.parametrize("q", ["бронхиолит", "бронхиолита", "острым бронхиолитом", "бронхиолит у детей"])
def test_nouns_in_it_are_found_in_every_case(synced, doctor, q):
    assert found(doctor, q) == ["360_3"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("E55", ["1059_2", "1110_1", "1059_1"]),  # the guideline of exactly E55 before the one of E55.9
        ("е55", ["1059_2", "1110_1", "1059_1"]),  # typed with a Cyrillic «е»
        ("E55.9", ["1110_1", "1059_2", "1059_1"]),  # E55.9 itself, then the guidelines of all of E55
        ("J21", ["360_3"]),
        ("J21.9", ["360_3"]),
        ("J18.1", ["714_2"]),
        ("J21 E55.0", ["1059_2", "360_3", "1059_1"]),  # either code; E55.0 also finds the guideline of all of E55
        ("K35", []),
    ],
)
def test_icd10_codes_and_their_prefixes_find_their_guidelines(synced, doctor, q, expected):
    assert found(doctor, q) == expected


def test_words_and_a_code_together_must_both_match(synced, doctor):
    assert found(doctor, "рахит E55") == ["1059_2", "1059_1"]
    assert found(doctor, "пневмония E55") == []


def test_filters_by_age_group_and_by_applying_now(synced, doctor):
    assert found(doctor, "витамина D", age_group="children") == ["1059_2", "1059_1"]
    assert found(doctor, "витамина D", age_group="adults") == ["1110_1"]
    assert found(doctor, "витамина D", age_group="children", current_only=True) == ["1059_2"]
    assert found(doctor, "пневмония", age_group="children") == ["714_2"]  # written for both
    assert found(doctor, "E55", current_only=True) == ["1059_2", "1110_1"]
    assert found(doctor, "рахит", year_to=2025) == ["1059_1"]


def test_an_unknown_age_group_is_a_clear_400(synced, api_as, doctor):
    response = api_as(doctor).get("/api/v1/search?q=рахит&sources=minzdrav&age_group=teenagers")

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_the_api_answers_guidelines_with_their_own_fields_and_the_catalogue_age(synced, api_as, doctor, rubricator):
    body = api_as(doctor).get("/api/v1/search?q=рахита&sources=minzdrav").get_json()

    first = body["results"][0]
    assert (first["title"], first["year"], first["url"], first["type"], first["sources"]) == (
        "Недостаточность витамина D. Рахит.",
        2026,
        RUBRICATOR_PAGE.format("1059_2"),
        "guideline",
        ["minzdrav"],
    )
    assert first["authors"] == ["Союз педиатров России", "Российская ассоциация эндокринологов"]
    assert first["guideline"] | {"published_at": None} == {
        "code_version": "1059_2",
        "code": 1059,
        "version": 2,
        "age_group": "children",
        "age_label": "Дети",
        "applies_now": True,
        "archived": False,
        "status": 0,
        "council_approved": True,
        "published_at": None,
        "mkb": [{"code": "E55", "name": "Недостаточность витамина D"}, {"code": "E55.0", "name": "Рахит активный"}],
    }
    assert datetime.fromisoformat(first["guideline"]["published_at"]) == datetime(2026, 10, 14, 12, 5, 41, tzinfo=MSK)
    assert body["results"][1]["guideline"]["archived"] is True
    assert body["sources"]["minzdrav"]["catalogue"]["guidelines"] == 5
    assert body["sources"]["minzdrav"]["catalogue"]["stale"] is False
    assert rubricator.requests == []  # nothing fetched while searching


def test_a_default_search_includes_the_guidelines_and_fetches_nothing_from_the_rubricator(
    synced, api_as, doctor, rubricator
):
    body = api_as(doctor).get("/api/v1/search?q=рахит").get_json()

    assert set(body["sources"]) == set(SOURCE_NAMES)
    assert body["results"][0]["guideline"]["code_version"] == "1059_2"
    assert MINZDRAV_LIST_PATH not in {request.path for request in rubricator.requests}


def test_a_clinic_admin_can_unlink_the_guidelines(synced, make_user, api_as):
    admin = make_user("admin")
    doctor = make_user("doctor", clinic=admin.clinic)
    services.set_linked_sources(
        admin, admin.clinic, [name for name in SOURCE_NAMES if name != "minzdrav"], now=utcnow()
    )
    db.session.commit()

    unlinked = api_as(doctor).get("/api/v1/search?q=рахит&sources=minzdrav")
    other_clinic = api_as(make_user("doctor")).get("/api/v1/search?q=рахит&sources=minzdrav")

    assert unlinked.status_code == 400 and unlinked.get_json()["error"]["code"] == "unknown_source"
    assert other_clinic.status_code == 200 and other_clinic.get_json()["results"][0]["title"].endswith("Рахит.")


def test_guideline_searches_count_in_the_usage_statistics(synced, doctor, client, auth, make_user):
    services.search(doctor, q="рахит", sources="minzdrav", now=utcnow())
    admin = make_user("admin", clinic=doctor.clinic)
    auth.login(admin)

    html = client.get("/search/admin/usage").get_data(as_text=True)

    event = db.session.scalars(select(SearchEvent)).one()
    assert (event.source, event.ok, event.clinic_id) == ("minzdrav", True, doctor.clinic_id)
    assert 'data-source="minzdrav"' in html and "Клинические рекомендации" in html


# --- the search page -----------------------------------------------------------------------


@pytest.fixture
def doctor_client(client, auth, doctor):
    auth.login(doctor)
    return client


def catalogue_notice(html):
    start = html.index('id="guidelines-catalogue"')
    return html[html.rindex("<div", 0, start) : html.index("</div>", start)]


def test_the_search_page_shows_the_guideline_first_with_its_details(synced, doctor_client, rubricator):
    html = unescape(doctor_client.get("/search?q=рахита").get_data(as_text=True))

    first = html.index('class="card mb-2 search-result"')
    assert html.index("Недостаточность витамина D. Рахит.", first) < html.index('data-code-version="1059_1"')
    details = html[html.index('data-code-version="1059_2"') :]
    details = details[: details.index("</div>")]
    assert "1059" in details and "2026" in details and "Дети" in details and "E55.0" in details
    assert 'text-bg-success">применяется' in details
    assert f'href="{RUBRICATOR_PAGE.format("1059_2")}"' in html
    assert 'data-stale="false"' in catalogue_notice(html)
    assert MINZDRAV_LIST_PATH not in {request.path for request in rubricator.requests}


def test_the_search_page_says_when_the_catalogue_is_out_of_date(synced, doctor_client):
    row = state()
    row.last_success_at = utcnow() - timedelta(days=5)
    db.session.commit()

    notice = catalogue_notice(unescape(doctor_client.get("/search").get_data(as_text=True)))

    assert 'data-stale="true"' in notice and "alert-warning" in notice and "устарел" in notice


def test_the_search_page_says_when_the_catalogue_was_never_loaded_or_its_update_failed(app, doctor_client, rubricator):
    never = catalogue_notice(unescape(doctor_client.get("/search").get_data(as_text=True)))
    rubricator.add(MINZDRAV_LIST_PATH, query=LIST_QUERY, status=451, body=b"", content_type="text/html")
    with pytest.raises(SyncFailed):
        sync.sync_now(utcnow())
    failed = catalogue_notice(unescape(doctor_client.get("/search").get_data(as_text=True)))

    assert 'data-stale="true"' in never and "не загружена" in never
    assert "не удалось" in failed.lower()


def test_the_search_page_shows_an_unknown_age_group_next_to_the_filters(synced, doctor_client):
    html = unescape(doctor_client.get("/search?q=рахит&age_group=teenagers").get_data(as_text=True))

    assert '<div class="text-danger small">Рекомендации для:' in html
    assert 'class="card mb-2 search-result"' not in html


# --- the reading list ----------------------------------------------------------------------


def test_a_guideline_on_the_reading_list_is_kept_as_the_catalogue_says_and_exported_as_a_report(
    synced, doctor_client, doctor
):
    page = doctor_client.get("/search?q=рахит").get_data(as_text=True)
    saved = doctor_client.post(
        "/search/reading-list",
        data={
            "csrf_token": csrf_token_from(page),
            "title": "Something else",
            "authors": "[]",
            "source": "minzdrav",
            "source_id": "1059_2",
            "next": "/search?q=рахит",
        },
    )

    ris = doctor_client.get("/search/reading-list.ris").get_data(as_text=True)
    bibtex = doctor_client.get("/search/reading-list.bib").get_data(as_text=True)

    assert saved.status_code == 302
    reference = db.session.scalars(select(SavedReference)).one()
    assert (reference.kind, reference.title, reference.report_number, reference.year) == (
        "guideline",
        "Недостаточность витамина D. Рахит.",
        "1059_2",
        2026,
    )
    assert ris.split("\r\n")[:7] == [
        "TY  - RPRT",
        "TI  - Недостаточность витамина D. Рахит.",
        "AU  - Союз педиатров России",
        "AU  - Российская ассоциация эндокринологов",
        "PB  - Министерство здравоохранения Российской Федерации",
        "M3  - Клинические рекомендации",
        "SN  - 1059_2",
    ]
    assert f"UR  - {RUBRICATOR_PAGE.format('1059_2')}" in ris and "PY  - 2026" in ris
    assert bibtex.startswith("@techreport{ref")
    assert "author = {{Союз педиатров России} and {Российская ассоциация эндокринологов}}" in bibtex
    assert "number = {1059\\_2}" in bibtex and "institution = {Министерство здравоохранения" in bibtex


def test_a_guideline_not_in_the_catalogue_is_not_saved(synced, doctor_client):
    page = doctor_client.get("/search").get_data(as_text=True)
    doctor_client.post(
        "/search/reading-list",
        data={
            "csrf_token": csrf_token_from(page),
            "title": "Forged",
            "authors": "[]",
            "source": "minzdrav",
            "source_id": "9999_1",
        },
    )

    assert db.session.scalars(select(SavedReference)).all() == []


# --- loading a saved list ------------------------------------------------------------------


def saved_list(**changes):
    """The two fixture pages saved as one list, in the recorded capture's shape."""
    items = sample("list_page1.json")["Data"] + sample("list_page2.json")["Data"]
    return json.dumps({"total_count": len(items), "items": items, **changes}, ensure_ascii=False).encode()


def test_the_command_loads_a_saved_list_file(app, tmp_path, doctor):
    path = tmp_path / "list.json"
    path.write_bytes(saved_list())

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines", "--from-file", str(path)])

    assert result.exit_code == 0, result.output
    assert "5 guideline(s) listed: 5 new" in result.output
    assert found(doctor, "рахита") == ["1059_2", "1059_1"]
    assert state().last_origin == "file"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>not json</html>", None),
        (json.dumps({"Data": {"rows": []}}).encode(), "the list of guidelines is not a JSON array"),
        (json.dumps({"items": [{"Name": "Рахит", "Mkbs": []}]}).encode(), "CodeVersion is missing"),
        (json.dumps({"total_count": 0, "items": []}).encode(), None),
    ],
)
def test_the_command_refuses_a_file_that_is_not_a_list_and_keeps_the_catalogue(
    synced, app, tmp_path, doctor, content, problem
):
    path = tmp_path / "list.json"
    path.write_bytes(content)

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines", "--from-file", str(path)])

    assert result.exit_code == 1 and "kept as it was" in result.output
    assert problem is None or problem in result.output
    assert found(doctor, "рахита") == ["1059_2", "1059_1"]


@pytest.fixture
def superadmin_client(client, auth, make_user):
    auth.login(make_user("superadmin"))
    return client


def test_a_superadmin_uploads_a_saved_list_on_the_sources_page(app, superadmin_client, make_clinic, doctor):
    clinic = make_clinic()
    page = superadmin_client.get(f"/search/admin?clinic_id={clinic.id}").get_data(as_text=True)

    response = superadmin_client.post(
        f"/search/admin/guidelines?clinic_id={clinic.id}",
        data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(saved_list()), "list.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert found(doctor, "бронхиолита") == ["360_3"]
    after = unescape(superadmin_client.get(f"/search/admin?clinic_id={clinic.id}").get_data(as_text=True))
    assert "5" in catalogue_notice(after)


def test_an_upload_that_is_not_a_list_is_refused_next_to_the_field(synced, superadmin_client, make_clinic, doctor):
    clinic = make_clinic()
    page = superadmin_client.get(f"/search/admin?clinic_id={clinic.id}").get_data(as_text=True)
    broken = json.loads(saved_list())
    del broken["items"][0]["CodeVersion"]

    response = superadmin_client.post(
        f"/search/admin/guidelines?clinic_id={clinic.id}",
        data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(json.dumps(broken).encode()), "list.json")},
        content_type="multipart/form-data",
    )

    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "CodeVersion is missing" in html[html.index('id="guidelines-form"') :]
    assert found(doctor, "рахита") == ["1059_2", "1059_1"]


def test_a_clinic_admin_sees_the_catalogue_but_cannot_replace_it(synced, client, auth, make_user):
    admin = make_user("admin")
    auth.login(admin)
    page = client.get("/search/admin").get_data(as_text=True)

    response = client.post(
        "/search/admin/guidelines",
        data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(saved_list()), "list.json")},
        content_type="multipart/form-data",
    )

    assert 'id="guidelines-catalogue"' in page and 'id="guidelines-form"' not in page
    assert response.status_code == 404


def test_a_partial_saved_list_adds_but_marks_nothing_as_gone(synced, app, tmp_path):
    items = sample("list_page1.json")["Data"]
    path = tmp_path / "list.json"
    path.write_bytes(json.dumps({"Data": copy.deepcopy(items), "TotalRecords": 5}, ensure_ascii=False).encode())

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines", "--from-file", str(path)])

    assert "the list is partial" in result.output
    assert guideline("714_2").removed_at is None


# --- fidelity: the recorded list items --------------------------------------------------------

RECORDED_LIST = "minzdrav/getjsonclinrecsfilterv2_items_first13_rewrapped.json"


@pytest.fixture
def recorded_items(recorded_samples):
    """Real items of the list call (13 of the 120 of one capture), saved as {"total_count", "items"}."""
    return json.loads(recorded_sample_bytes(RECORDED_LIST))["items"]


def assert_catalogue_holds(items):
    """Every recorded item is kept with its values as the rubricator gave them."""
    for item in items:
        kept = guideline(item["CodeVersion"])
        assert (kept.code, kept.version, kept.rubricator_id) == (item["Code"], item["Version"], item["Id"])
        assert kept.title == " ".join(item["Name"].split())
        assert (kept.age_category, kept.age_label, kept.status) == (
            item["AgeCategory"],
            item["AgeCategoryStr"],
            item["Status"],
        )
        assert kept.applies_now is (item["ApplyStatusCalculated"] == 1)
        assert kept.council_approved is item["NPC_approved"]
        # PublishDate (milliseconds) and PublishDateStr (Moscow time) name the same moment.
        assert kept.published_at.astimezone(MSK).strftime("%Y-%m-%dT%H:%M:%S") == item["PublishDateStr"]
        assert kept.developers == [" ".join(developer["NkoName"].split()) for developer in item["Developers"]]
        assert [(code.code, code.name) for code in kept.mkb_codes] == [
            (mkb["MkbCode"], " ".join(mkb["MkbName"].split())) for mkb in item["Mkbs"]
        ]  # some have double spaces


def test_the_recorded_list_loads_from_its_saved_file_and_is_searchable(app, recorded_items, doctor):
    path = shared_samples_dir() / RECORDED_LIST

    result = app.test_cli_runner().invoke(args=["portal", "sync-guidelines", "--from-file", str(path)])

    assert result.exit_code == 0, result.output
    # The capture counts 120 guidelines but keeps 13: a partial list marks nothing as gone.
    assert "13 guideline(s) listed: 13 new" in result.output and "the list is partial" in result.output
    assert_catalogue_holds(recorded_items)
    for q in ("рахит", "рахита", "E55", "Е55"):
        assert found(doctor, q) == ["1059_1"], q
    outcome = services.search(doctor, q="рахита", sources="minzdrav", now=utcnow())
    rickets = outcome.data["results"][0]
    assert (rickets["title"], rickets["year"], rickets["url"]) == (
        "Недостаточность витамина D. Рахит.",
        2026,
        RUBRICATOR_PAGE.format("1059_1"),
    )
    assert rickets["guideline"]["age_group"] == "children" and rickets["guideline"]["applies_now"] is True
    assert found(doctor, "надпочечниковой недостаточности", age_group="children") == ["1056_1"]
    assert found(doctor, "E75.2") == ["1064_1", "318_3"]  # newest first among equals


def test_the_recorded_items_replayed_as_the_list_call_sync_the_same_catalogue(app, rubricator, recorded_items):
    # The recording kept the items without the server's envelope; this replay puts them, three a
    # page, in the envelope every published client reads (Data, TotalRecords) — ours, not recorded.
    pages = [
        {"Data": recorded_items[start : start + PAGE_SIZE], "TotalRecords": len(recorded_items)}
        for start in range(0, len(recorded_items), PAGE_SIZE)
    ]
    serve_pages(rubricator, *pages)

    change = sync.sync_now(utcnow())

    assert (change.listed, change.added, change.complete) == (13, 13, True)
    assert len(rubricator.requests) == 5
    assert_catalogue_holds(recorded_items)
