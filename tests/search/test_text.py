"""Plain-text conversion and identifier normalisation of untrusted upstream values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.search.fanout import merge_records
from portal.search.records import Record
from portal.search.text import (
    name_to_surname_initials,
    normalise_doi,
    normalise_pmid,
    parse_year,
    plain_text,
    safe_url,
    shorten,
)


def test_markup_and_entities_become_plain_text():
    assert plain_text("<i>In vivo</i> study of IL&#8209;6 &amp; TNF&nbsp;α") == "In vivo study of IL‑6 & TNF α"
    assert plain_text("<jats:p>One.</jats:p><jats:p>Two <jats:sup>2</jats:sup>.</jats:p>") == "One. Two 2."
    assert plain_text("<h4>Objective</h4>To test.<br/>Done") == "Objective To test. Done"
    assert plain_text("a <script>alert('x')</script>b<style>p{}</style>") == "a b"
    assert plain_text("p < 0.05 and 3<4") == "p < 0.05 and 3<4"
    assert plain_text(None) == "" and plain_text(["x"]) == ""


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="<&")))
def test_text_without_markup_only_loses_extra_whitespace(text):
    assert plain_text(f"<p>{text}</p>") == " ".join(text.split())


@given(st.text())
def test_plain_text_never_contains_control_characters(text):
    assert not any(ch in plain_text(text) for ch in "\x00\x07\x1b\n\t")


def test_shorten_cuts_at_a_word():
    assert shorten("alpha beta gamma", 12) == "alpha beta…"
    assert shorten("short", 12) == "short"


def test_doi_normalisation():
    assert normalise_doi("https://doi.org/10.1038/S42256-024-00832-8") == "10.1038/s42256-024-00832-8"
    assert normalise_doi("doi:10.1000/ABC") == "10.1000/abc"
    assert normalise_doi(" 10.1016/0005-2795(76)90109-4 ") == "10.1016/0005-2795(76)90109-4"
    assert normalise_doi("not a doi") is None
    assert normalise_doi("10.1000/a b") is None
    assert normalise_doi(None) is None


def test_pmid_normalisation():
    assert normalise_pmid("https://pubmed.ncbi.nlm.nih.gov/38799228") == "38799228"
    assert normalise_pmid(3026048) == "3026048"
    assert normalise_pmid("PMC123") is None and normalise_pmid("") is None and normalise_pmid(True) is None


def test_year_parsing():
    assert parse_year("1987 Jan 9") == 1987
    assert parse_year("2026-12") == 2026
    assert parse_year(2024) == 2024
    assert parse_year("vol 12345") is None and parse_year(None) is None


def test_only_http_links_survive():
    assert safe_url("https://arxiv.org/abs/2304.05376") == "https://arxiv.org/abs/2304.05376"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "https://", "http://a b.org", None):
        assert safe_url(bad) is None


def test_names_become_surname_and_initials():
    assert name_to_surname_initials("Andres M. Bran") == "Bran AM"
    assert name_to_surname_initials("Andrew Dickson White") == "White AD"
    assert name_to_surname_initials("Bran, Andres M") == "Bran AM"
    assert name_to_surname_initials("Ludo van der Meer") == "van der Meer L"
    assert name_to_surname_initials("Jean-Pierre Dupont") == "Dupont JP"
    assert name_to_surname_initials("Walter F. de Azevedo Jr.") == "de Azevedo WF Jr"
    assert name_to_surname_initials("Plato") == "Plato"
    assert name_to_surname_initials("") is None


identifiers = st.sampled_from([None, "10.1/a", "10.1/b", "10.1/c"])
pmids = st.sampled_from([None, "1", "2", "3"])
source_pages = st.lists(
    st.tuples(
        st.sampled_from(["pubmed", "europepmc", "crossref", "openalex"]),
        st.lists(st.tuples(identifiers, pmids), max_size=5),
    ),
    max_size=4,
    unique_by=lambda page: page[0],
)


@given(source_pages)
def test_merging_keeps_every_doi_once_and_every_source(pages):
    inputs = [
        (
            source,
            [
                Record(source=source, id=f"{source}-{i}", title=f"t{i}", doi=doi, pmid=pmid)
                for i, (doi, pmid) in enumerate(items)
            ],
        )
        for source, items in pages
    ]

    merged = merge_records(inputs)

    all_records = [record for _, records in inputs for record in records]
    for doi in {record.doi for record in all_records if record.doi}:
        [holder] = [entry for entry in merged if entry.doi == doi]
        assert {r.source for r in all_records if r.doi == doi} <= set(holder.sources)
    assert {source for entry in merged for source in entry.sources} == {record.source for record in all_records}
    assert len(merged) <= len(all_records)
