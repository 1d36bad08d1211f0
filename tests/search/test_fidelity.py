"""Fidelity: each provider reads the answers recorded from the real services.

Every other search test replays the suite's own answers (tests/search/samples),
written in each upstream's format. These tests hold that format to the real
thing, one per source: the provider reads the recorded answers kept beside the
project (the shared `upstream-samples` directory with its SOURCES.md, or
wherever PORTAL_UPSTREAM_SAMPLES points), and every field or element our own
answers use also occurs in the recorded ones. A lone clone skips these five,
saying why; under CI they fail instead.
"""

from __future__ import annotations

import json

import pytest
from defusedxml.ElementTree import fromstring as parse_xml

from portal.search.errors import UpstreamError

from .conftest import EFETCH_PATH, ESUMMARY_PATH, SEARCH_PATHS
from .upstream_server import content_type_of, recorded_sample_bytes, sample_bytes

# Fields our own answers use that the recorded ones happen not to show; each is
# documented by its upstream.
UNRECORDED_FIELDS = {
    # Crossref: an author's ORCID, and an organisation as author (only "name").
    "crossref": {
        "/message/items[]/author[]/ORCID",
        "/message/items[]/author[]/authenticated-orcid",
        "/message/items[]/author[]/name",
    },
    # Europe PMC: a preprint names its server in bookOrReportDetails.
    "europepmc": {
        "/resultList/result[]/bookOrReportDetails",
        "/resultList/result[]/bookOrReportDetails/publisher",
        "/resultList/result[]/bookOrReportDetails/yearOfPublication",
    },
    # OpenAlex: an old work's Microsoft Academic Graph id.
    "openalex": {"/results[]/ids/mag"},
    # PubMed efetch XML: a group author, and italics in an abstract (its DTD allows b, i, sub, sup and u).
    "pubmed": {
        "/PubmedArticle/MedlineCitation/Article/AuthorList/Author/CollectiveName",
        "/PubmedArticle/MedlineCitation/Article/Abstract/AbstractText/i",
    },
}


@pytest.fixture
def replay(upstream, recorded_samples):
    """replay(path, name, **route options): answer ``path`` with a recorded answer."""

    def add(path, name, **options):
        return upstream.add(path, body=recorded_sample_bytes(name), content_type=content_type_of(name), **options)

    return add


def json_fields(value, prefix=""):
    """Every field path in a JSON answer ("/a/b[]/c"); numeric keys (PubMed's uids)
    and the words of an OpenAlex abstract index are data, not field names."""
    fields = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}/{'*' if key.isdigit() else key}"
            fields.add(path)
            if key != "abstract_inverted_index":
                fields |= json_fields(item, path)
    elif isinstance(value, list):
        for item in value:
            fields |= json_fields(item, prefix + "[]")
    return fields


def xml_elements(body: bytes):
    """Every element path below the document element of an XML answer."""

    def walk(element, prefix):
        paths = set()
        for child in element:
            path = f"{prefix}/{child.tag}"
            paths |= {path} | walk(child, path)
        return paths

    return walk(parse_xml(body), "")


def assert_own_answers_use_recorded_fields(source, pairs):
    """Each (own file, recorded files) pair: our file's fields all occur in the recorded ones."""
    for own, recorded in pairs:
        if own.endswith(".xml"):
            ours, theirs = (
                xml_elements(sample_bytes(own)),
                set().union(*(xml_elements(recorded_sample_bytes(name)) for name in recorded)),
            )
        else:
            ours = json_fields(json.loads(sample_bytes(own)))
            theirs = set().union(*(json_fields(json.loads(recorded_sample_bytes(name))) for name in recorded))
        assert ours - theirs <= UNRECORDED_FIELDS.get(source, set()), f"{own}: {sorted(ours - theirs)}"


def upstream_error(code):
    return pytest.raises(UpstreamError, match=rf"^{code}:")


def test_pubmed_reads_the_recorded_answers(make_provider, replay):
    provider = make_provider("pubmed", max_retries=0)
    replay(SEARCH_PATHS["pubmed"], "pubmed/esearch_breast_cancer_science_history.json")
    replay(ESUMMARY_PATH, "pubmed/esummary_pubmed_2ids.json")

    page = provider.search("science[journal] AND breast cancer", per_page=3)

    assert page.total == 404
    assert [(r.pmid, r.title, r.doi, r.year) for r in page.records] == [
        ("31452104", "Molegro Virtual Docker for Docking.", "10.1007/978-1-4939-9752-7_10", 2019),
        ("3026048", "The atomic structure of Mengo virus at 3.0 A resolution.", "10.1126/science.3026048", 1987),
    ]
    assert page.records[0].authors == ("Bitencourt-Ferreira G", "de Azevedo WF Jr")
    assert page.records[0].journal == "Methods in molecular biology (Clifton, N.J.)"
    replay(SEARCH_PATHS["pubmed"], "pubmed/esearch_pten_d326n_3hits.json")
    assert provider.search("PTEN D326N").total == 3
    replay(SEARCH_PATHS["pubmed"], "pubmed/esearch_phrasesnotfound_errorlist.json")
    assert provider.search("APC p.E1317Q").total == 40362  # a phrase not found is no failure
    replay(ESUMMARY_PATH, "pubmed/esummary_error_no_id.xml")
    with upstream_error("upstream_error") as failed:
        provider.search("x")
    assert failed.value.message == "Neither query_key nor id specified"
    replay(ESUMMARY_PATH, "pubmed/error_429_rate_limit_esummary.json", status=429)
    with upstream_error("rate_limited") as limited:
        provider.search("x")
    assert limited.value.message == "API rate limit exceeded"

    replay(EFETCH_PATH, "pubmed/efetch_structured_abstract_28775130.xml")
    abstract = provider.fetch_abstract("28775130")
    assert [paragraph.split(":", 1)[0] for paragraph in abstract.split("\n\n")] == [
        "OBJECTIVES",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert "(TSH >4.5 mIU/L)" in abstract
    replay(EFETCH_PATH, "pubmed/efetch_abstract_12091962_9997.xml")
    assert provider.fetch_abstract("9997").startswith("Electron paramagnetic resonance and magnetic susceptibility")
    assert provider.fetch_abstract("12091962") is None
    replay(EFETCH_PATH, "pubmed/efetch_nonexistent_pmids_empty.xml")
    assert provider.fetch_abstract("233333333") is None

    assert_own_answers_use_recorded_fields(
        "pubmed",
        [
            (
                "pubmed/esearch_asthma_children.json",
                ["pubmed/esearch_breast_cancer_science_history.json", "pubmed/esearch_pten_d326n_3hits.json"],
            ),
            ("pubmed/esearch_phrase_not_found.json", ["pubmed/esearch_phrasesnotfound_errorlist.json"]),
            ("pubmed/esummary_asthma_children.json", ["pubmed/esummary_pubmed_2ids.json"]),
            ("pubmed/error_429_rate_limit.json", ["pubmed/error_429_rate_limit_esummary.json"]),
            ("pubmed/esummary_error_empty_id_list.xml", ["pubmed/esummary_error_no_id.xml"]),
            (
                "pubmed/efetch_structured_abstract.xml",
                ["pubmed/efetch_structured_abstract_28775130.xml", "pubmed/efetch_abstract_12091962_9997.xml"],
            ),
            (
                "pubmed/efetch_two_articles.xml",
                ["pubmed/efetch_structured_abstract_28775130.xml", "pubmed/efetch_abstract_12091962_9997.xml"],
            ),
            ("pubmed/efetch_no_articles.xml", ["pubmed/efetch_nonexistent_pmids_empty.xml"]),
        ],
    )


def test_europepmc_reads_the_recorded_answers(make_provider, replay):
    provider = make_provider("europepmc")
    replay(SEARCH_PATHS["europepmc"], "europepmc/search_cancer_core_reserialized.json")

    page = provider.search("cancer", per_page=25)

    assert page.total == 5059039 and len(page.records) == 25
    first = page.records[0]
    assert (first.id, first.pmid, first.doi, first.year) == (
        "MED/39709209",
        "39709209",
        "10.1016/s0140-6736(24)02600-x",
        2025,
    )
    assert (
        first.title
        == "Abscopal response in a patient with fibrolamellar hepatocellular carcinoma following radiotherapy."
    )
    assert first.authors == ("Schoenfeld JD", "Haas-Kogan DA", "O'Neill AF")
    assert (first.journal, first.open_access) == ("Lancet (London, England)", False)
    by_pmid = {record.pmid: record for record in page.records}
    assert by_pmid["40437959"].open_access is True
    assert by_pmid["39038316"].doi is None
    assert by_pmid["40468710"].snippet.startswith("Objective This study investigated whether psychological flexibility")
    replay(SEARCH_PATHS["europepmc"], "europepmc/search_msh2_l341p_lite_raw.json")
    [lite] = provider.search("MSH2 L341P").records
    assert (lite.authors[0], lite.authors[-1], len(lite.authors)) == ("Houlleberghs H", "Te Riele H", 8)
    assert (lite.journal, lite.doi, lite.pmid) == ("Proc Natl Acad Sci U S A", "10.1073/pnas.1520813113", "26951660")
    replay(SEARCH_PATHS["europepmc"], "europepmc/search_ext_id_20516115_raw.json")
    [by_id] = provider.search("EXT_ID:20516115 AND SRC:MED").records
    assert (by_id.id, by_id.year, len(by_id.authors)) == ("MED/20516115", 2010, 11)
    replay(SEARCH_PATHS["europepmc"], "europepmc/search_no_results_reserialized.json")
    empty = provider.search("asdkfjhasdkfjhasdfasdasdasdfgsagsd")
    assert (empty.records, empty.total) == ((), 0)

    assert_own_answers_use_recorded_fields(
        "europepmc",
        [
            ("europepmc/search_core.json", ["europepmc/search_cancer_core_reserialized.json"]),
            (
                "europepmc/search_lite.json",
                ["europepmc/search_msh2_l341p_lite_raw.json", "europepmc/search_ext_id_20516115_raw.json"],
            ),
            ("europepmc/search_no_results.json", ["europepmc/search_no_results_reserialized.json"]),
        ],
    )


def test_crossref_reads_the_recorded_answers(make_provider, replay):
    provider = make_provider("crossref")
    replay(SEARCH_PATHS["crossref"], "crossref/works_query_ecology_rows2.json")

    page = provider.search("ecology", per_page=2)

    assert page.total == 586628
    first, second = page.records
    assert (first.title, first.doi, first.year, first.journal, first.authors) == (
        "Communicating Ecology",
        "10.1093/obo/9780199830060-0238",
        2022,
        "Ecology",
        (),
    )
    assert first.snippet.startswith("Communication is perhaps the most important")
    assert (second.title, second.authors, second.year) == ("Chemical Ecology", ("Kessler A",), 2012)
    replay(SEARCH_PATHS["crossref"], "crossref/works_query_select_doi_title.json")
    records = provider.search("ecology").records
    assert len(records) == 20 and (records[1].title, records[1].doi) == (
        "Ecosystem Ecology",
        "10.1093/obo/9780199830060-0202",
    )
    replay(SEARCH_PATHS["crossref"], "crossref/works_query_title_empty.json")
    assert provider.search("askldjrq3rjaw938h").total == 0
    for name, status, message in [
        ("crossref/error_400_validation_failure.json", 400, "This route does not support field query parameters"),
        ("crossref/error_404_cursor_invalid.json", 404, "Cursor specified but it is invalid"),
        ("crossref/error_404_resource_not_found.txt", 404, "Resource not found."),
    ]:
        replay(SEARCH_PATHS["crossref"], name, status=status)
        with upstream_error("upstream_error") as failed:
            provider.search("x")
        assert failed.value.message == message

    assert_own_answers_use_recorded_fields(
        "crossref",
        [
            ("crossref/works_query.json", ["crossref/works_query_ecology_rows2.json"]),
            ("crossref/works_doi_and_title_only.json", ["crossref/works_query_select_doi_title.json"]),
            ("crossref/works_no_results.json", ["crossref/works_query_title_empty.json"]),
            ("crossref/error_400_two_validation_failures.json", ["crossref/error_400_validation_failure.json"]),
            ("crossref/error_404_unknown_member.json", ["crossref/error_404_cursor_invalid.json"]),
        ],
    )


def test_clinicaltrials_reads_the_recorded_answers(make_provider, replay):
    provider = make_provider("clinicaltrials")
    replay(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_search_melanoma_recruiting.json")

    page = provider.search("melanoma", per_page=3)

    assert page.total == 480
    assert [record.id for record in page.records] == ["NCT06970236", "NCT04114136", "NCT04318717"]
    first = page.records[0]
    assert (first.title, first.year) == ("Resistance Exercise in Patients With Ocular Melanoma", 2025)
    assert first.snippet.startswith("Choroidal melanoma (CM) is one of the most common intraocular cancers")
    # Page 2 through the first page's token; later pages carry no total.
    replay(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_search_phelan_page1.json", query={"fields": "NCTId"})
    replay(
        SEARCH_PATHS["clinicaltrials"],
        "clinicaltrials/studies_search_phelan_page2_pagetoken.json",
        query={"pageToken": "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw"},
    )
    second_page = provider.search("Phelan-McDermid Syndrome", page=2, per_page=5)
    assert second_page.total == 21
    assert [record.id for record in second_page.records][:2] == ["NCT05187377", "NCT03836300"]

    assert_own_answers_use_recorded_fields(
        "clinicaltrials",
        [
            ("clinicaltrials/studies_search.json", ["clinicaltrials/studies_search_melanoma_recruiting.json"]),
            ("clinicaltrials/studies_ids_first_page.json", ["clinicaltrials/studies_search_phelan_page1.json"]),
            ("clinicaltrials/studies_second_page.json", ["clinicaltrials/studies_search_phelan_page2_pagetoken.json"]),
        ],
    )


def test_openalex_reads_the_recorded_answers(make_provider, replay):
    provider = make_provider("openalex")
    replay(SEARCH_PATHS["openalex"], "openalex/works_filter_title_search_2results.json")

    page = provider.search("Augmenting large language models with chemistry tools")

    assert page.total == 2
    first, second = page.records
    assert (first.id, first.doi, first.pmid, first.year) == (
        "W4396723768",
        "10.1038/s42256-024-00832-8",
        "38799228",
        2024,
    )
    assert first.journal == "Nature Machine Intelligence"
    assert first.authors == ("Bran AM", "Cox S", "Schilter O", "Baldassari C", "White AD", "Schwaller P")
    assert first.snippet.startswith("Abstract Large language models (LLMs) have shown strong performance")
    assert (second.doi, second.pmid, second.url) == (
        "10.48550/arxiv.2304.05376",
        None,
        "https://arxiv.org/abs/2304.05376",
    )
    replay(SEARCH_PATHS["openalex"], "openalex/work_by_doi_404.html", status=404)
    with upstream_error("upstream_error") as failed:
        provider.search("x")
    assert failed.value.message == "the source answered HTTP 404"

    assert_own_answers_use_recorded_fields(
        "openalex",
        [
            ("openalex/works_search.json", ["openalex/works_filter_title_search_2results.json"]),
            ("openalex/works_no_results.json", ["openalex/works_filter_title_search_2results.json"]),
        ],
    )
