"""The search pages: search, record, reading list with exports, admin settings and statistics."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.search.models import LinkedResource, SavedReference
from tests.conftest import csrf_token_from

from .portal_search_setup import (  # noqa: F401  (fixtures)
    FIRST_TITLES,
    SEARCH_PATHS,
    SOURCE_NAMES,
    clinic_doctor,
    config_overrides,
    search_settings,
)


@pytest.fixture
def doctor_client(client, auth, clinic_doctor):
    auth.login(clinic_doctor)
    return client


def _text(response):
    return unescape(response.get_data(as_text=True))


def test_search_page_shows_results_and_the_failing_sources_error(doctor_client, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], status=500, body=b"Internal Server Error", content_type="text/plain")

    response = doctor_client.get("/search?q=cancer")

    html = _text(response)
    assert response.status_code == 200
    assert "patient identifiers" in html or "идентификатор" in html
    assert FIRST_TITLES["pubmed"] in html and FIRST_TITLES["crossref"] in html
    assert FIRST_TITLES["europepmc"] not in html
    assert re.search(r'data-source="europepmc" data-status="error"', html)
    assert 'href="https://doi.org/10.1186/s12887-024-04711-3"' in html


def test_search_page_without_a_query_contacts_nothing(doctor_client, upstream):
    response = doctor_client.get("/search")

    assert response.status_code == 200
    assert upstream.requests == []
    assert all(f'value="{name}"' in response.get_data(as_text=True) for name in SOURCE_NAMES)


def test_a_too_long_query_is_shown_next_to_the_box(doctor_client, upstream):
    response = doctor_client.get("/search?q=" + "a" * 501)

    assert response.status_code == 200
    assert 'id="q-error"' in response.get_data(as_text=True)
    assert upstream.requests == []


def test_admin_unlinking_sources_changes_what_the_page_and_api_search(client, auth, make_user, api_as, upstream):
    admin = make_user("admin")
    doctor = make_user("doctor", clinic=admin.clinic)
    auth.login(admin)
    token = csrf_token_from(client.get("/search/admin").get_data(as_text=True))
    saved = client.post("/search/admin/sources", data={"csrf_token": token, "sources": ["pubmed", "openalex"]})
    auth.logout()
    auth.login(doctor)

    page = _text(client.get("/search?q=cancer"))
    upstream.requests.clear()
    api_body = api_as(doctor).get("/api/v1/search?q=tumour").get_json()

    assert saved.status_code == 302
    assert 'value="crossref"' not in page and 'value="pubmed"' in page
    assert FIRST_TITLES["crossref"] not in page and FIRST_TITLES["openalex"] in page
    assert set(api_body["sources"]) == {"pubmed", "openalex"}
    assert {request.path for request in upstream.requests} <= {
        SEARCH_PATHS["pubmed"],
        SEARCH_PATHS["openalex"],
        "/entrez/eutils/esummary.fcgi",
    }


def test_a_doctor_cannot_open_the_search_administration(doctor_client):
    assert doctor_client.get("/search/admin").status_code == 404
    assert doctor_client.get("/search/admin/usage").status_code == 404


def test_doi_links_go_through_the_clinic_link_prefix(client, auth, make_user, upstream):
    admin = make_user("admin")
    auth.login(admin)
    token = csrf_token_from(client.get("/search/admin").get_data(as_text=True))
    client.post(
        "/search/admin/link-prefix",
        data={"csrf_token": token, "link_prefix": "https://proxy.library.example/login?url="},
    )

    html = client.get("/search?q=cancer&sources=crossref").get_data(as_text=True)

    assert (
        'href="https://proxy.library.example/login?url=https%3A%2F%2Fdoi.org%2F10.1186%2Fs12887-024-04711-3"'
    ) in html


def test_linked_resources_added_by_the_admin_show_on_the_search_page(client, auth, make_user, upstream):
    admin = make_user("admin")
    auth.login(admin)
    token = csrf_token_from(client.get("/search/admin").get_data(as_text=True))
    refused = client.post(
        "/search/admin/resources", data={"csrf_token": token, "name": "Bad", "url": "javascript:alert(1)"}
    )
    client.post(
        "/search/admin/resources",
        data={
            "csrf_token": token,
            "name": "Рубрикатор клинических рекомендаций",
            "url": "https://cr.minzdrav.gov.ru",
            "description": "Клинические рекомендации",
            "access_note": "Открытый доступ",
        },
    )

    html = _text(client.get("/search"))

    assert refused.status_code == 400
    assert db.session.scalars(select(LinkedResource.name)).all() == ["Рубрикатор клинических рекомендаций"]
    assert 'href="https://cr.minzdrav.gov.ru"' in html and "Открытый доступ" in html


def test_record_page_shows_the_pubmed_abstract(doctor_client, upstream):
    upstream.add("/entrez/eutils/efetch.fcgi", "pubmed/efetch_structured_abstract.xml")

    response = doctor_client.get("/search/pubmed/38912345")

    html = _text(response)
    assert response.status_code == 200
    assert 'id="abstract"' in html
    assert "BACKGROUND: Fewer than half of children prescribed inhaled corticosteroids take them as advised." in html
    assert upstream.requests_to("/entrez/eutils/efetch.fcgi")[0].param("id") == "38912345"


def test_record_page_shows_pubmeds_failure_instead_of_crashing(doctor_client, upstream):
    upstream.add("/entrez/eutils/efetch.fcgi", status=500, body=b"", content_type="text/plain")

    response = doctor_client.get("/search/pubmed/38912345")

    assert response.status_code == 200
    assert 'id="abstract-error"' in response.get_data(as_text=True)


def _save_first_result(client, query="cancer&sources=pubmed"):
    html = client.get("/search?q=" + query).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/search/reading-list"[^>]*>(.*?)</form>', html, re.S).group(1)
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        data[re.search(r'name="([^"]+)"', tag).group(1)] = unescape(re.search(r'value="([^"]*)"', tag).group(1))
    return client.post("/search/reading-list", data=data)


def test_reading_list_save_note_export_and_delete(doctor_client, clinic_doctor, make_user, api_as, upstream):
    saved = _save_first_result(doctor_client)
    _save_first_result(doctor_client)  # saving twice keeps one entry
    reference = db.session.scalars(select(SavedReference)).one()
    token = csrf_token_from(doctor_client.get("/search/reading-list").get_data(as_text=True))
    doctor_client.post(
        f"/search/reading-list/{reference.id}/note",
        data={"csrf_token": token, "note": "Для журнального клуба {важно} 50% & ещё"},
    )

    ris = doctor_client.get("/search/reading-list.ris")
    bib = doctor_client.get("/search/reading-list.bib")

    assert saved.status_code == 302
    fields = {}
    for line in ris.get_data(as_text=True).splitlines():
        if line[:2].isalnum() and line[2:6] == "  - ":
            fields.setdefault(line[:2], []).append(line[6:])
    assert fields["TY"] == ["JOUR"] and fields["TI"] == [FIRST_TITLES["pubmed"]]
    assert fields["AN"] == ["PMID:38912345"] and fields["N1"] == ["Для журнального клуба {важно} 50% & ещё"]
    assert fields["AU"] and fields["PY"][0].isdigit()
    assert ris.headers["Content-Disposition"].endswith('reading-list.ris"')

    bibtex = bib.get_data(as_text=True)
    entry = re.match(r"@article\{(\w+),\n(.*)\n\}\n", bibtex, re.S)
    assert entry, bibtex
    bib_fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", entry.group(2), re.M))
    assert bib_fields["title"] == FIRST_TITLES["pubmed"] and bib_fields["pmid"] == "38912345"
    assert bib_fields["note"] == r"Для журнального клуба \{важно\} 50\% \& ещё"
    assert " and " in bib_fields["author"] or bib_fields["author"]

    other = make_user("doctor", clinic=clinic_doctor.clinic)
    doctor_client.post("/sign-out", data={"csrf_token": token})
    from tests.conftest import Auth

    Auth(doctor_client).login(other)
    other_token = csrf_token_from(doctor_client.get("/search/reading-list").get_data(as_text=True))
    stolen = doctor_client.post(f"/search/reading-list/{reference.id}/delete", data={"csrf_token": other_token})
    assert stolen.status_code == 404
    assert "38912345" not in doctor_client.get("/search/reading-list.ris").get_data(as_text=True)

    Auth(doctor_client).logout()
    Auth(doctor_client).login(clinic_doctor)
    token = csrf_token_from(doctor_client.get("/search/reading-list").get_data(as_text=True))
    doctor_client.post(f"/search/reading-list/{reference.id}/delete", data={"csrf_token": token})
    assert db.session.scalars(select(SavedReference)).all() == []


def test_admin_usage_page_shows_counts_per_source(client, auth, make_user, upstream):
    admin = make_user("admin")
    auth.login(admin)
    upstream.add(SEARCH_PATHS["crossref"], status=500, body=b"", content_type="text/plain")
    client.get("/search?q=cancer&sources=crossref&sources=openalex")

    html = client.get("/search/admin/usage").get_data(as_text=True)

    crossref = re.search(r'data-source="crossref">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="text-end">([^<]*)</td>', crossref)
    assert cells[:3] == ["1", "0", "1"]


@pytest.mark.browser
def test_search_in_the_browser(page, live_server, make_user, upstream, tmp_path):
    from tests.conftest import browser_sign_in

    email = make_user("doctor").email
    db.session.commit()  # SQLite: every transaction takes the write lock, so the test holds none meanwhile
    browser_sign_in(page, live_server, email)
    page.goto(live_server.url + "/search")
    page.fill("input[name=q]", "cancer")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector(".search-result")
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    assert page.locator(".search-result").first.inner_text().startswith(FIRST_TITLES["pubmed"])
    assert page.locator("#privacy-reminder").is_visible()


UNREACHABLE_RU = "Базы данных сейчас недоступны"


def _every_upstream_down(upstream):
    for path in SEARCH_PATHS.values():
        upstream.add(path, status=503, body=b"Service Unavailable", content_type="text/plain")


def _search_every_upstream(client):
    return _text(client.get("/search?q=cancer&" + "&".join(f"sources={name}" for name in SEARCH_PATHS)))


def test_with_every_database_down_the_russian_page_says_so_and_shows_no_pages(doctor_client, upstream):
    _every_upstream_down(upstream)

    html = _text(doctor_client.get("/search?q=cancer"))  # every linked source, the guidelines' copy too

    assert UNREACHABLE_RU in html and "попробуйте" in html.lower()
    assert 'id="no-results"' not in html and "Ничего не найдено" not in html
    assert "Страница 1" not in html and 'class="pagination"' not in html
    source_errors = re.findall(r'<span class="text-muted source-error">([^<]*)</span>', html)
    assert len(source_errors) == len(SEARCH_PATHS) and 'data-source="minzdrav" data-status="ok"' in html
    assert all(re.search("[а-яё]", text) and not re.search("[a-z]", text) for text in source_errors)


def test_with_every_database_down_the_english_page_says_so_in_english(doctor_client, upstream):
    _every_upstream_down(upstream)
    doctor_client.post(
        "/language",
        data={"lang": "en", "csrf_token": csrf_token_from(doctor_client.get("/dashboard").get_data(as_text=True))},
    )

    html = _search_every_upstream(doctor_client)

    assert "The databases cannot be reached right now" in html
    assert "Page 1" not in html and "Nothing found" not in html
    assert "The database cannot be reached right now." in html


def test_when_the_databases_that_answered_found_nothing_the_page_does_not_claim_nothing_exists(doctor_client, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], body=b'{"esearchresult": {"count": "0", "idlist": []}}')
    upstream.add(SEARCH_PATHS["crossref"], status=503, body=b"", content_type="text/plain")

    html = _text(doctor_client.get("/search?q=nothingatall&sources=pubmed&sources=crossref"))

    assert "к остальным базам сейчас не удаётся подключиться" in html
    assert "Ничего не найдено" not in html and "Страница 1" not in html


def test_a_search_that_finds_nothing_says_so_without_a_lone_page_number(doctor_client, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], body=b'{"esearchresult": {"count": "0", "idlist": []}}')

    html = _text(doctor_client.get("/search?q=nothingatall&sources=pubmed"))

    assert "Ничего не найдено" in html
    assert UNREACHABLE_RU not in html and "Страница 1" not in html


def test_every_source_error_has_a_message_in_both_languages(app):
    from flask_babel import force_locale

    from portal.search.services import SOURCE_ERROR_LABELS, SOURCE_ERROR_MESSAGES

    with app.test_request_context():
        for texts in (SOURCE_ERROR_LABELS, SOURCE_ERROR_MESSAGES):
            with force_locale("ru"):
                russian = {code: str(text) for code, text in texts.items()}
            with force_locale("en"):
                english = {code: str(text) for code, text in texts.items()}
            assert all(re.search("[а-яё]", text) for text in russian.values()), russian
            assert all(not re.search("[а-яё]", text, re.IGNORECASE) for text in english.values()), english
