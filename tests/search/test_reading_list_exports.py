"""The reading list as RIS and BibTeX, read back by the parsers reference managers are built on."""

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts

from portal.core.db import utcnow
from portal.extensions import db
from portal.search import bibliography


@pytest.fixture
def doctor_with_reading_list(make_user, auth):
    doctor = make_user("doctor")
    bibliography.save_reference(
        doctor,
        title="Inhaled corticosteroids in children",
        journal="Pediatrics",
        year=2024,
        authors=["Ivanova A", "Smith JR Jr", "van der Meer L", "Иванова АБ", "WHO Collaborative Group"],
        doi="10.1000/ICS.2024",
        pmid="38912345",
        url="https://example.org/ics",
        now=utcnow(),
    )
    db.session.commit()
    auth.login(doctor)
    return doctor


def test_bibtex_names_read_back_as_surname_and_initials(client, doctor_with_reading_list):
    text = client.get("/search/reading-list.bib").get_data(as_text=True)
    library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    assert library.failed_blocks == []
    (entry,) = library.entries
    names = [(" ".join(name.von + name.last), " ".join(name.first), " ".join(name.jr)) for name in entry["author"]]
    assert names == [
        ("Ivanova", "A.", ""),
        ("Smith", "J. R.", "Jr"),
        ("van der Meer", "L.", ""),
        ("Иванова", "А. Б.", ""),
        ("{WHO Collaborative Group}", "", ""),
    ]
    assert (entry["doi"], entry["year"], entry["pmid"]) == ("10.1000/ics.2024", "2024", "38912345")


def test_ris_reads_back_with_the_names_the_specification_asks_for(client, doctor_with_reading_list):
    (record,) = rispy.loads(client.get("/search/reading-list.ris").get_data(as_text=True))
    assert record["authors"] == [
        "Ivanova, A.",
        "Smith, J. R., Jr",
        "van der Meer, L.",
        "Иванова, А. Б.",
        "WHO Collaborative Group",
    ]
    assert (record["type_of_reference"], record["doi"], record["urls"]) == (
        "JOUR",
        "10.1000/ics.2024",
        ["https://example.org/ics"],
    )


def _save_through_the_form(client, auth, **fields):
    return client.post(
        "/search/reading-list",
        data={"csrf_token": auth.csrf_token(), "title": "Injected", "authors": json.dumps(["Ivanova A"]), **fields},
    )


def test_line_breaks_in_a_doi_or_url_add_no_line_to_any_export(client, auth, make_user):
    auth.login(make_user("doctor"))
    saved = _save_through_the_form(
        client,
        auth,
        doi="10.1000/x\r\nUR  - https://evil.example\r\nER  - ",
        url="https://example.org/a\r\nN1  - injected",
        pmid="",
        year="2024",
    )
    assert saved.status_code == 302

    ris = client.get("/search/reading-list.ris").get_data(as_text=True)
    (record,) = rispy.loads(ris)
    assert record["urls"] == ["https://example.org/a N1  - injected"] and "notes" not in record
    assert record["doi"] == "10.1000/x ur  - https://evil.example er  -"
    assert [line[:2] for line in ris.splitlines() if line] == ["TY", "TI", "AU", "PY", "DO", "UR", "ER"]

    bibtex = client.get("/search/reading-list.bib").get_data(as_text=True)
    (entry,) = bibtexparser.parse_string(bibtex).entries
    assert "\n" not in entry["doi"] and "\r" not in entry["url"]
