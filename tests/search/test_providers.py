"""Each provider against its recorded upstream answers."""

from __future__ import annotations

import json

import pytest

from portal.search.errors import QueryError, UpstreamError
from portal.search.http import LocalRateLimiter

from .conftest import EFETCH_PATH, ESUMMARY_PATH, SEARCH_PATHS
from .upstream_server import sample_bytes

pytestmark = pytest.mark.usefixtures("recorded_samples")  # they parse the recorded answers directly


def sample_json(name: str) -> dict:
    return json.loads(sample_bytes(name))


def raises_upstream(code: str):
    return pytest.raises(UpstreamError, match=rf"^{code}:")


# --- PubMed -------------------------------------------------------------------


def test_pubmed_reads_esummary_records_in_uids_order(make_provider, upstream):
    page = make_provider("pubmed").search("science[journal] AND breast cancer", per_page=3)

    assert page.total == 404
    assert [record.pmid for record in page.records] == ["31452104", "3026048"]
    first, second = page.records
    assert first.title == "Molegro Virtual Docker for Docking."
    assert first.authors == ("Bitencourt-Ferreira G", "de Azevedo WF Jr")
    assert first.doi == "10.1007/978-1-4939-9752-7_10"
    assert first.year == 2019
    assert first.journal == "Methods in molecular biology (Clifton, N.J.)"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/31452104/"
    assert second.title == "The atomic structure of Mengo virus at 3.0 A resolution."
    assert second.doi == "10.1126/science.3026048"
    assert second.year == 1987
    assert len(second.authors) == 10
    # The ids esearch found are the ones esummary is asked about.
    [summary_request] = upstream.requests_to(ESUMMARY_PATH)
    assert summary_request.param("id") == "42313977,41196948,41166468"


def test_pubmed_skips_uids_missing_from_the_summary(make_provider, upstream):
    summary = sample_json("pubmed/esummary_pubmed_2ids.json")
    summary["result"]["uids"].insert(1, "99999999")  # listed, but no document
    upstream.add(ESUMMARY_PATH, body=json.dumps(summary).encode())

    page = make_provider("pubmed").search("x")

    assert [record.pmid for record in page.records] == ["31452104", "3026048"]


def test_pubmed_sends_ncbi_etiquette_and_paging(make_provider, upstream):
    make_provider("pubmed", api_key="k-123", tool="portal_test").search("asthma", page=3, per_page=10, year_from=2015)

    [request] = upstream.requests_to(SEARCH_PATHS["pubmed"])
    assert request.param("db") == "pubmed"
    assert request.param("term") == "asthma"
    assert request.param("tool") == "portal_test"
    assert request.param("email") == "library@example.org"
    assert request.param("api_key") == "k-123"
    assert request.param("retstart") == "20"
    assert request.param("retmax") == "10"
    assert request.param("retmode") == "json"
    assert (request.param("datetype"), request.param("mindate"), request.param("maxdate")) == ("pdat", "2015", "2999")


def test_pubmed_open_access_filter_uses_free_full_text(make_provider, upstream):
    page = make_provider("pubmed").search("asthma", open_access_only=True)

    [request] = upstream.requests_to(SEARCH_PATHS["pubmed"])
    assert request.param("term") == "(asthma) AND free full text[sb]"
    assert all(record.open_access is True for record in page.records)


def test_pubmed_empty_result_makes_no_summary_request(make_provider, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], "local:pubmed/esearch_empty_abcXYZ.json")

    page = make_provider("pubmed").search("abcXYZ")

    assert page.records == () and page.total == 0
    assert upstream.requests_to(ESUMMARY_PATH) == []


def test_pubmed_keeps_hits_when_some_phrases_were_not_found(make_provider, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], "pubmed/esearch_phrasesnotfound_errorlist.json")

    page = make_provider("pubmed").search("APC p.E1317Q")

    assert page.total == 40362
    assert len(page.records) == 2


def test_pubmed_error_field_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], "local:pubmed/esearch_error_field.json")

    with raises_upstream("upstream_error") as caught:
        make_provider("pubmed").search("x")
    assert caught.value.message == "Empty term and query_key - nothing todo"


def test_pubmed_xml_error_element_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(ESUMMARY_PATH, "pubmed/esummary_error_no_id.xml")

    with raises_upstream("upstream_error") as caught:
        make_provider("pubmed").search("x")
    assert caught.value.message == "Neither query_key nor id specified"


def test_pubmed_rate_limit_answer(make_provider, upstream):
    upstream.add(ESUMMARY_PATH, "pubmed/error_429_rate_limit_esummary.json", status=429)

    with raises_upstream("rate_limited") as caught:
        make_provider("pubmed", max_retries=0).search("x")
    assert caught.value.message == "API rate limit exceeded"
    # NCBI echoes the caller's address in that body; it must not be passed on.
    assert "redacted" not in caught.value.message


def test_pubmed_structured_abstract(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_structured_abstract_28775130.xml", content_type="text/xml")

    abstract = make_provider("pubmed").fetch_abstract("28775130")

    paragraphs = abstract.split("\n\n")
    assert [paragraph.split(":", 1)[0] for paragraph in paragraphs] == ["OBJECTIVES", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert paragraphs[0].startswith("OBJECTIVES: Animal studies suggest that exposure to pesticides")
    assert "(TSH >4.5 mIU/L)" in paragraphs[1]  # entities decoded, markup gone
    assert "<" + "sub>" not in abstract
    [request] = upstream.requests_to(EFETCH_PATH)
    assert (request.param("id"), request.param("retmode"), request.param("rettype")) == ("28775130", "xml", "abstract")


def test_pubmed_abstract_of_a_set_picks_the_asked_record(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_abstract_12091962_9997.xml")
    provider = make_provider("pubmed")

    assert provider.fetch_abstract("9997").startswith("Electron paramagnetic resonance and magnetic susceptibility")
    assert provider.fetch_abstract("12091962") is None  # record without an abstract


def test_pubmed_abstract_of_unknown_record_is_none(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_nonexistent_pmids_empty.xml")

    assert make_provider("pubmed").fetch_abstract("233333333") is None


def test_pubmed_abstract_error_element(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/esummary_error_no_id.xml")

    with raises_upstream("upstream_error"):
        make_provider("pubmed").fetch_abstract("1")


@pytest.mark.parametrize("pmid", ["", "12a", "1 OR 2", "12345678901", "１２"])
def test_pubmed_abstract_rejects_non_numeric_ids(make_provider, upstream, pmid):
    with pytest.raises(QueryError):
        make_provider("pubmed").fetch_abstract(pmid)
    assert upstream.requests_to(EFETCH_PATH) == []


def test_pubmed_xml_with_entity_declarations_is_refused(make_provider, upstream):
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><PubmedArticleSet>&b;</PubmedArticleSet>'
    upstream.add(EFETCH_PATH, body=bomb, content_type="text/xml")

    with raises_upstream("bad_response"):
        make_provider("pubmed").fetch_abstract("1")


def test_pubmed_default_limiter_follows_the_api_key(settings_for):
    from portal.search.providers import PubMedProvider

    without_key = PubMedProvider(settings_for("pubmed"))
    with_key = PubMedProvider(settings_for("pubmed", api_key="k"))
    try:
        assert isinstance(without_key._http.limiter, LocalRateLimiter) and without_key._http.limiter.limit == 3
        assert with_key._http.limiter.limit == 10
    finally:
        without_key.close()
        with_key.close()


# --- Europe PMC ---------------------------------------------------------------


def test_europepmc_core_results(make_provider, upstream):
    page = make_provider("europepmc").search("cancer", per_page=25)

    assert page.total == 5059039
    assert len(page.records) == 25
    first = page.records[0]
    assert first.id == "MED/39709209"
    assert first.title == "Abscopal response in a patient with fibrolamellar hepatocellular carcinoma following radiotherapy."
    assert first.authors == ("Schoenfeld JD", "Haas-Kogan DA", "O'Neill AF")
    assert first.journal == "Lancet (London, England)"
    assert (first.year, first.doi, first.pmid) == (2025, "10.1016/s0140-6736(24)02600-x", "39709209")
    assert first.open_access is False
    assert first.url == "https://europepmc.org/article/MED/39709209"
    by_pmid = {record.pmid: record for record in page.records}
    assert by_pmid["40437959"].open_access is True
    assert by_pmid["39038316"].doi is None
    # Abstract headings (<h4>) are stripped into plain text.
    assert by_pmid["40468710"].snippet.startswith("Objective This study investigated whether psychological flexibility")
    assert len(by_pmid["40468710"].snippet) <= 301
    [request] = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert (request.param("format"), request.param("resultType"), request.param("cursorMark")) == ("json", "core", "*")


def test_europepmc_lite_results_split_the_author_string(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_msh2_l341p_lite_raw.json")

    [record] = make_provider("europepmc").search("MSH2 L341P").records

    assert record.title.startswith("Oligonucleotide-directed mutagenesis screen")
    assert record.authors[0] == "Houlleberghs H" and record.authors[-1] == "Te Riele H"
    assert len(record.authors) == 8
    assert (record.journal, record.doi, record.pmid) == ("Proc Natl Acad Sci U S A", "10.1073/pnas.1520813113", "26951660")


def test_europepmc_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_no_results_reserialized.json")

    page = make_provider("europepmc").search("asdkfjhasdkfjhasdfasdasdasdfgsagsd")

    assert page.records == () and page.total == 0


def test_europepmc_answer_without_hit_count_is_an_error(make_provider, upstream):
    answer = sample_json("europepmc/search_no_results_reserialized.json")
    del answer["hitCount"]
    upstream.add(SEARCH_PATHS["europepmc"], body=json.dumps(answer).encode())

    with raises_upstream("bad_response"):
        make_provider("europepmc").search("x")


def test_europepmc_filters_go_into_the_query(make_provider, upstream):
    make_provider("europepmc").search("asthma OR copd", year_from=2010, year_to=2020, open_access_only=True)

    [request] = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert request.param("query") == "(asthma OR copd) AND PUB_YEAR:[2010 TO 2020] AND OPEN_ACCESS:y"


def test_europepmc_later_page_skips_with_an_id_list_cursor(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], body=b'{"version":"6.9","hitCount":5059039,"nextCursorMark":"AoIIP4ZawSg1MzEyODI1MA==","resultList":{"result":[]}}', query={"resultType": "idlist"})

    page = make_provider("europepmc").search("cancer", page=3, per_page=10)

    skip, fetch = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert (skip.param("resultType"), skip.param("pageSize"), skip.param("cursorMark")) == ("idlist", "20", "*")
    assert (fetch.param("resultType"), fetch.param("pageSize"), fetch.param("cursorMark")) == ("core", "10", "AoIIP4ZawSg1MzEyODI1MA==")
    assert len(page.records) == 25  # what the replayed page holds


# --- Crossref -----------------------------------------------------------------


def test_crossref_works(make_provider, upstream):
    page = make_provider("crossref").search("ecology", per_page=2)

    assert page.total == 586628
    first, second = page.records
    assert (first.title, first.doi, first.year, first.journal) == ("Communicating Ecology", "10.1093/obo/9780199830060-0238", 2022, "Ecology")
    assert first.authors == ()
    assert first.snippet.startswith("Communication is perhaps the most important")
    assert "<p>" not in first.snippet
    assert first.url == "https://doi.org/10.1093/obo/9780199830060-0238"
    assert (second.title, second.authors, second.year) == ("Chemical Ecology", ("Kessler A",), 2012)
    [request] = upstream.requests_to(SEARCH_PATHS["crossref"])
    assert request.param("query") == "ecology"
    assert request.param("mailto") == "library@example.org"
    assert (request.param("rows"), request.param("offset")) == ("2", "0")


def test_crossref_items_with_only_doi_and_title(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/works_query_select_doi_title.json")

    records = make_provider("crossref").search("ecology").records

    assert len(records) == 20
    assert (records[1].title, records[1].doi) == ("Ecosystem Ecology", "10.1093/obo/9780199830060-0202")


def test_crossref_jats_and_html_markup_become_plain_text(make_provider, upstream):
    answer = sample_json("crossref/works_query_ecology_rows2.json")
    item = answer["message"]["items"][1]
    item["title"] = ["<i>Drosophila</i> ecology &amp; <b>behaviour</b>"]
    item["abstract"] = '<jats:title>Abstract</jats:title><jats:p>Flies <jats:italic>prefer</jats:italic> fruit.</jats:p><jats:p>Second <script>alert(1)</script>paragraph.</jats:p>'
    item["URL"] = "javascript:alert(1)"
    upstream.add(SEARCH_PATHS["crossref"], body=json.dumps(answer).encode())

    record = make_provider("crossref").search("ecology").records[1]

    assert record.title == "Drosophila ecology & behaviour"
    assert record.snippet == "Abstract Flies prefer fruit. Second paragraph."
    assert record.url == "https://doi.org/10.1093/obo/9780199830060-0023"


def test_crossref_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/works_query_title_empty.json")

    page = make_provider("crossref").search("askldjrq3rjaw938h")

    assert page.records == () and page.total == 0


@pytest.mark.parametrize(
    ("sample", "status", "message"),
    [
        ("crossref/error_400_validation_failure.json", 400, "This route does not support field query parameters"),
        ("crossref/error_404_cursor_invalid.json", 404, "Cursor specified but it is invalid"),
        ("crossref/error_404_resource_not_found.txt", 404, "Resource not found."),
    ],
)
def test_crossref_errors(make_provider, upstream, sample, status, message):
    upstream.add(SEARCH_PATHS["crossref"], sample, status=status)

    with raises_upstream("upstream_error") as caught:
        make_provider("crossref").search("x")
    assert caught.value.message == message


def test_crossref_failed_status_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/error_404_cursor_invalid.json", status=200)

    with raises_upstream("upstream_error"):
        make_provider("crossref").search("x")


def test_crossref_cannot_filter_open_access_and_says_so(make_provider, upstream):
    with raises_upstream("unsupported_filter"):
        make_provider("crossref").search("x", open_access_only=True)
    assert upstream.requests_to(SEARCH_PATHS["crossref"]) == []


def test_crossref_year_filter(make_provider, upstream):
    make_provider("crossref").search("x", page=2, per_page=5, year_from=2001)

    [request] = upstream.requests_to(SEARCH_PATHS["crossref"])
    assert request.param("filter") == "from-pub-date:2001"
    assert request.param("offset") == "5"


# --- ClinicalTrials.gov ---------------------------------------------------------


def test_clinicaltrials_studies(make_provider, upstream):
    page = make_provider("clinicaltrials").search("melanoma", per_page=3)

    assert page.total == 480
    assert [record.id for record in page.records] == ["NCT06970236", "NCT04114136", "NCT04318717"]
    first = page.records[0]
    assert first.title == "Resistance Exercise in Patients With Ocular Melanoma"
    assert first.year == 2025
    assert first.url == "https://clinicaltrials.gov/study/NCT06970236"
    assert first.snippet.startswith("Choroidal melanoma (CM) is one of the most common intraocular cancers")
    assert first.open_access is True
    [request] = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert (request.param("query.term"), request.param("pageSize"), request.param("countTotal")) == ("melanoma", "3", "true")


def test_clinicaltrials_later_page_skips_with_a_page_token(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_search_phelan_page1.json", query={"fields": "NCTId"})
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_search_phelan_page2_pagetoken.json", query={"pageToken": "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw"})

    page = make_provider("clinicaltrials").search("Phelan-McDermid Syndrome", page=2, per_page=5)

    skip, fetch = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert (skip.param("pageSize"), skip.param("fields")) == ("5", "NCTId")
    assert fetch.param("pageToken") == "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw"
    # Later pages carry no total; the skip request's count is kept.
    assert page.total == sample_json("clinicaltrials/studies_search_phelan_page1.json")["totalCount"]
    page2_ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in sample_json("clinicaltrials/studies_search_phelan_page2_pagetoken.json")["studies"]]
    assert [record.id for record in page.records] == page2_ids


def test_clinicaltrials_answer_without_total(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_search_phelan_page2_pagetoken.json")

    page = make_provider("clinicaltrials").search("x")

    assert page.total is None and len(page.records) == 5


def test_clinicaltrials_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "local:clinicaltrials/studies_empty.json")

    page = make_provider("clinicaltrials").search("zzzz")

    assert page.records == () and page.total == 0


def test_clinicaltrials_plain_text_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "local:clinicaltrials/error_400_unknown_parameter.txt", status=400)

    with raises_upstream("upstream_error") as caught:
        make_provider("clinicaltrials").search("x")
    assert caught.value.message == "`filter.phase` is unknown parameter"


def test_clinicaltrials_year_filter_uses_start_date(make_provider, upstream):
    make_provider("clinicaltrials").search("x", year_to=2019)

    [request] = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert request.param("filter.advanced") == "AREA[StartDate]RANGE[MIN,2019-12-31]"


# --- OpenAlex -----------------------------------------------------------------


def test_openalex_works(make_provider, upstream):
    page = make_provider("openalex").search("Augmenting large language models with chemistry tools")

    assert page.total == 2
    first, second = page.records
    assert first.id == "W4396723768"
    assert first.title == "Augmenting large language models with chemistry tools"
    assert (first.doi, first.pmid, first.year) == ("10.1038/s42256-024-00832-8", "38799228", 2024)
    assert first.journal == "Nature Machine Intelligence"
    assert first.authors == ("Bran AM", "Cox S", "Schilter O", "Baldassari C", "White AD", "Schwaller P")
    assert first.open_access is True
    assert first.snippet.startswith("Abstract Large language models (LLMs) have shown strong performance in tasks across domains")
    assert (second.doi, second.pmid, second.journal) == ("10.48550/arxiv.2304.05376", None, "arXiv (Cornell University)")
    assert second.url == "https://arxiv.org/abs/2304.05376"


def test_openalex_sends_key_and_filters(make_provider, upstream):
    make_provider("openalex", api_key="oa-key").search("x", page=2, per_page=7, year_from=2020, open_access_only=True)

    [request] = upstream.requests_to(SEARCH_PATHS["openalex"])
    assert request.param("search") == "x"
    assert request.param("api_key") == "oa-key"
    assert (request.param("page"), request.param("per_page")) == ("2", "7")
    assert request.param("filter") == "from_publication_date:2020-01-01,is_oa:true"


def test_openalex_without_key_sends_none(make_provider, upstream):
    make_provider("openalex").search("x")

    [request] = upstream.requests_to(SEARCH_PATHS["openalex"])
    assert "api_key" not in request.query


def test_openalex_empty_result(make_provider, upstream):
    answer = sample_json("openalex/works_filter_title_search_2results.json")
    answer["meta"]["count"] = 0
    answer["results"] = []
    upstream.add(SEARCH_PATHS["openalex"], body=json.dumps(answer).encode())

    page = make_provider("openalex").search("x")

    assert page.records == () and page.total == 0


def test_openalex_html_404_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["openalex"], "openalex/work_by_doi_404.html", status=404)

    with raises_upstream("upstream_error") as caught:
        make_provider("openalex").search("x")
    assert caught.value.message == "the source answered HTTP 404"


def test_openalex_json_error_message(make_provider, upstream):
    body = b'{"error":"Invalid query parameters error.","message":"per_page must be between 1 and 100"}'
    upstream.add(SEARCH_PATHS["openalex"], body=body, status=400)

    with raises_upstream("upstream_error") as caught:
        make_provider("openalex").search("x")
    assert caught.value.message == "per_page must be between 1 and 100"


# --- shared argument checks ---------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query": "  "},
        {"query": "x", "page": 0},
        {"query": "x", "per_page": 0},
        {"query": "x", "per_page": 101},
        {"query": "x", "page": 200, "per_page": 10},
        {"query": "x", "year_from": 2020, "year_to": 2010},
        {"query": "x", "year_from": True},
    ],
)
def test_invalid_arguments_are_refused_before_any_request(make_provider, upstream, kwargs):
    with pytest.raises(QueryError):
        make_provider("openalex").search(**kwargs)
    assert upstream.requests == []
