"""Each provider against upstream answers in each source's own format (tests/search/samples)."""

from __future__ import annotations

import json

import pytest

from portal.search.errors import QueryError, UpstreamError
from portal.search.http import LocalRateLimiter

from .conftest import EFETCH_PATH, ESUMMARY_PATH, SEARCH_PATHS
from .upstream_server import sample_bytes


def sample_json(name: str) -> dict:
    return json.loads(sample_bytes(name))


def raises_upstream(code: str):
    return pytest.raises(UpstreamError, match=rf"^{code}:")


# --- PubMed -------------------------------------------------------------------


def test_pubmed_reads_esummary_records_in_uids_order(make_provider, upstream):
    page = make_provider("pubmed").search("asthma children", per_page=3)

    assert page.total == 1873
    # "uids" gives the order; the summary object lists the records in another one.
    assert list(sample_json("pubmed/esummary_asthma_children.json")["result"])[1:] == [
        "36543210",
        "38912345",
        "37654321",
    ]
    assert [record.pmid for record in page.records] == ["38912345", "37654321", "36543210"]
    adherence, spirometry, magnesium = page.records
    assert (
        adherence.title
        == "Inhaled corticosteroid adherence in school-age children with persistent asthma: a cluster-randomised trial."
    )
    assert adherence.authors == ("Kovalenko AS", "Lindqvist M", "Okafor CN", "van der Berg JH")
    assert (adherence.doi, adherence.year, adherence.journal) == ("10.1002/ppul.27011", 2024, "Pediatric pulmonology")
    assert adherence.url == "https://pubmed.ncbi.nlm.nih.gov/38912345/"
    assert adherence.open_access is True  # it has a PMC copy
    assert (spirometry.doi, spirometry.year, spirometry.open_access) == ("10.1016/j.rmed.2023.107411", 2023, None)
    # No publication date: the sort date gives the year. A group author is an author too.
    assert magnesium.year == 2022
    assert magnesium.authors == ("Hughes RW", "Sato K", "Paediatric Asthma Network Moscow")
    assert magnesium.doi == "10.1002/14651858.cd015227.pub2"
    # The ids esearch found are the ones esummary is asked about.
    [summary_request] = upstream.requests_to(ESUMMARY_PATH)
    assert summary_request.param("id") == "38912345,37654321,36543210"


def test_pubmed_skips_uids_it_could_not_summarise(make_provider, upstream):
    upstream.add(ESUMMARY_PATH, "pubmed/esummary_one_unavailable.json")

    page = make_provider("pubmed").search("x")

    assert [record.pmid for record in page.records] == ["38912345", "37654321"]


def test_pubmed_skips_uids_missing_from_the_summary(make_provider, upstream):
    summary = sample_json("pubmed/esummary_asthma_children.json")
    del summary["result"]["37654321"]  # listed in "uids", but no document
    upstream.add(ESUMMARY_PATH, body=json.dumps(summary).encode())

    page = make_provider("pubmed").search("x")

    assert [record.pmid for record in page.records] == ["38912345", "36543210"]


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
    upstream.add(SEARCH_PATHS["pubmed"], "pubmed/esearch_no_hits.json")

    page = make_provider("pubmed").search("qwzxv")

    assert page.records == () and page.total == 0
    assert upstream.requests_to(ESUMMARY_PATH) == []


def test_pubmed_keeps_hits_when_some_phrases_were_not_found(make_provider, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], "pubmed/esearch_phrase_not_found.json")

    page = make_provider("pubmed").search("spirometry zqx-17b")

    assert page.total == 2215
    assert len(page.records) == 3


def test_pubmed_error_field_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["pubmed"], "pubmed/esearch_error_field.json")

    with raises_upstream("upstream_error") as caught:
        make_provider("pubmed").search("x")
    assert caught.value.message == "Empty term and query_key - nothing todo"


def test_pubmed_xml_error_element_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(ESUMMARY_PATH, "pubmed/esummary_error_empty_id_list.xml")

    with raises_upstream("upstream_error") as caught:
        make_provider("pubmed").search("x")
    assert caught.value.message == "Empty id list - nothing todo"


def test_pubmed_rate_limit_answer(make_provider, upstream):
    upstream.add(ESUMMARY_PATH, "pubmed/error_429_rate_limit.json", status=429)

    with raises_upstream("rate_limited") as caught:
        make_provider("pubmed", max_retries=0).search("x")
    assert caught.value.message == "API rate limit exceeded"
    # NCBI echoes the caller's address in that body; it must not be passed on.
    assert "203.0.113.45" not in str(caught.value)


def test_pubmed_structured_abstract(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_structured_abstract.xml")

    abstract = make_provider("pubmed").fetch_abstract("38912345")

    paragraphs = abstract.split("\n\n")
    assert [paragraph.split(":", 1)[0] for paragraph in paragraphs] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert (
        paragraphs[0]
        == "BACKGROUND: Fewer than half of children prescribed inhaled corticosteroids take them as advised."
    )
    # Entities decoded, inline markup gone, its text kept.
    assert "score <20 and good adherence as >80% of prescribed doses (FEV1 and FeNO" in paragraphs[1]
    assert "95% CI 12 to 26; p<0.001" in paragraphs[2]
    assert "<" + "sub>" not in abstract and "Wiley" not in abstract  # the copyright line is not the abstract
    [request] = upstream.requests_to(EFETCH_PATH)
    assert (request.param("id"), request.param("retmode"), request.param("rettype")) == ("38912345", "xml", "abstract")


def test_pubmed_abstract_of_a_set_picks_the_asked_record(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_two_articles.xml")
    provider = make_provider("pubmed")

    assert provider.fetch_abstract("37654321").startswith("Spirometry was recorded in 2,140 healthy schoolchildren")
    assert provider.fetch_abstract("36543210") is None  # record without an abstract
    assert provider.fetch_abstract("38912345") is None  # not in the answer


def test_pubmed_abstract_of_unknown_record_is_none(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_no_articles.xml")

    assert make_provider("pubmed").fetch_abstract("233333333") is None


def test_pubmed_abstract_error_element(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_error_empty_id_list.xml")

    with raises_upstream("upstream_error") as caught:
        make_provider("pubmed").fetch_abstract("1")
    assert caught.value.message == "Empty id list - nothing todo"


@pytest.mark.parametrize("pmid", ["", "12a", "1 OR 2", "12345678901", "１２"])
def test_pubmed_abstract_rejects_non_numeric_ids(make_provider, upstream, pmid):
    with pytest.raises(QueryError):
        make_provider("pubmed").fetch_abstract(pmid)
    assert upstream.requests_to(EFETCH_PATH) == []


def test_pubmed_xml_with_entity_declarations_is_refused(make_provider, upstream):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<PubmedArticleSet>&b;</PubmedArticleSet>"
    )
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
    page = make_provider("europepmc").search("asthma children", per_page=4)

    assert page.total == 48213
    assert [record.id for record in page.records] == ["MED/39876543", "MED/38765432", "PPR/PPR912345", "MED/37123456"]
    telemonitoring, biologics, preprint, no_doi = page.records
    assert (
        telemonitoring.title
        == "Home spirometry telemonitoring and exacerbations in school-age children with asthma: a randomised trial."
    )
    assert telemonitoring.authors == ("Grigorieva NA", "Walsh CM", "Bakirov RF")
    assert telemonitoring.journal == "The European respiratory journal"
    assert (telemonitoring.year, telemonitoring.doi, telemonitoring.pmid) == (
        2025,
        "10.1183/13993003.01234-2024",
        "39876543",
    )
    assert telemonitoring.url == "https://europepmc.org/article/MED/39876543"
    assert (telemonitoring.open_access, biologics.open_access) == (True, False)
    # Abstract headings (<h4>) become plain text, cut at a word boundary.
    assert telemonitoring.snippet.startswith("Background Remote monitoring of lung function could let children")
    assert len(telemonitoring.snippet) <= 301 and telemonitoring.snippet.endswith("…")
    assert biologics.snippet is None
    # A preprint: no PubMed id and no journal, its own id space.
    assert (preprint.pmid, preprint.journal, preprint.year) == (None, None, 2024)
    assert preprint.url == "https://europepmc.org/article/PPR/PPR912345"
    assert no_doi.doi is None and no_doi.authors == ("Novak J",)
    [request] = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert (request.param("format"), request.param("resultType"), request.param("cursorMark")) == ("json", "core", "*")


def test_europepmc_lite_results_split_the_author_string(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_lite.json")

    [record] = make_provider("europepmc").search("montelukast sleep").records

    assert record.title == "Montelukast and sleep disturbance in children: a nationwide cohort study."
    assert record.authors == ("Ivanova TP", "Brennan K", "Al-Sayed M", "O'Connor D", "Nakamura Y")
    assert (record.journal, record.doi, record.pmid, record.year) == (
        "Thorax",
        "10.1136/thorax-2022-219876",
        "36987654",
        2023,
    )
    assert record.open_access is True


def test_europepmc_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_no_results.json")

    page = make_provider("europepmc").search("qwzxvplk")

    assert page.records == () and page.total == 0


def test_europepmc_answer_without_hit_count_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_without_hit_count.json")

    with raises_upstream("bad_response"):
        make_provider("europepmc").search("asthma AND")


def test_europepmc_filters_go_into_the_query(make_provider, upstream):
    make_provider("europepmc").search("asthma OR copd", year_from=2010, year_to=2020, open_access_only=True)

    [request] = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert request.param("query") == "(asthma OR copd) AND PUB_YEAR:[2010 TO 2020] AND OPEN_ACCESS:y"


def test_europepmc_later_page_skips_with_an_id_list_cursor(make_provider, upstream):
    upstream.add(SEARCH_PATHS["europepmc"], "europepmc/search_idlist.json", query={"resultType": "idlist"})

    page = make_provider("europepmc").search("asthma children", page=3, per_page=10)

    skip, fetch = upstream.requests_to(SEARCH_PATHS["europepmc"])
    assert (skip.param("resultType"), skip.param("pageSize"), skip.param("cursorMark")) == ("idlist", "20", "*")
    assert (fetch.param("resultType"), fetch.param("pageSize"), fetch.param("cursorMark")) == (
        "core",
        "10",
        "AoIIQDZ0cCgzNzEyMzQ1Ng==",
    )
    assert page.total == 48213 and len(page.records) == 4  # what the replayed page holds


# --- Crossref -----------------------------------------------------------------


def test_crossref_works(make_provider, upstream):
    page = make_provider("crossref").search("asthma children", per_page=3)

    assert page.total == 40917
    article, chapter, guide = page.records
    assert (article.title, article.doi, article.year, article.journal) == (
        "Home spirometry in paediatric asthma: a feasibility study in primary care",
        "10.1186/s12887-024-04711-3",
        2024,
        "BMC Pediatrics",
    )
    assert article.authors == ("Smirnova O", "de Vries P", "Moreau JL")
    # JATS markup becomes plain text.
    assert (
        article.snippet
        == "Abstract Background Home spirometry could help general practitioners follow children with asthma "
        "between visits. Methods Sixty children used a portable spirometer at home for 12 weeks."
    )
    assert article.url == "https://doi.org/10.1186/s12887-024-04711-3"
    assert (chapter.authors, chapter.year, chapter.snippet) == ((), 2023, None)
    # An organisation as author; no container title.
    assert (guide.authors, guide.journal) == (("Global Initiative for Asthma",), None)
    assert all(record.open_access is None for record in page.records)
    [request] = upstream.requests_to(SEARCH_PATHS["crossref"])
    assert request.param("query") == "asthma children"
    assert request.param("mailto") == "library@example.org"
    assert (request.param("rows"), request.param("offset")) == ("3", "0")


def test_crossref_items_with_only_doi_and_title(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/works_doi_and_title_only.json")

    records = make_provider("crossref").search("asthma").records

    assert len(records) == 3
    assert (records[1].title, records[1].doi, records[1].authors, records[1].year) == (
        "Asthma in adolescence",
        "10.1093/med/9780198870340.003.0042",
        (),
        None,
    )
    assert records[1].url == "https://doi.org/10.1093/med/9780198870340.003.0042"


def test_crossref_jats_and_html_markup_become_plain_text(make_provider, upstream):
    answer = sample_json("crossref/works_query.json")
    item = answer["message"]["items"][1]
    item["title"] = ["<i>Drosophila</i> ecology &amp; <b>behaviour</b>"]
    item["abstract"] = (
        "<jats:title>Abstract</jats:title><jats:p>Flies <jats:italic>prefer</jats:italic> fruit.</jats:p>"
        "<jats:p>Second <script>alert(1)</script>paragraph.</jats:p>"
    )
    item["URL"] = "javascript:alert(1)"
    upstream.add(SEARCH_PATHS["crossref"], body=json.dumps(answer).encode())

    record = make_provider("crossref").search("asthma").records[1]

    assert record.title == "Drosophila ecology & behaviour"
    assert record.snippet == "Abstract Flies prefer fruit. Second paragraph."
    assert record.url == "https://doi.org/10.1093/med/9780198870340.003.0042"


def test_crossref_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/works_no_results.json")

    page = make_provider("crossref").search("qwzxvplk")

    assert page.records == () and page.total == 0


@pytest.mark.parametrize(
    ("sample", "status", "message"),
    [
        (
            "crossref/error_400_two_validation_failures.json",
            400,
            "Integer specified as 5000 but must be a positive integer less than or equal to 1000.; "
            "Filter from-pub-dat specified but there is no such filter for this route.",
        ),
        ("crossref/error_404_unknown_member.json", 404, "Member specified as 999999 not found"),
        ("crossref/error_404_not_found.txt", 404, "Resource not found."),
    ],
)
def test_crossref_errors(make_provider, upstream, sample, status, message):
    upstream.add(SEARCH_PATHS["crossref"], sample, status=status)

    with raises_upstream("upstream_error") as caught:
        make_provider("crossref").search("x")
    assert caught.value.message == message


def test_crossref_failed_status_inside_http_200_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["crossref"], "crossref/error_404_unknown_member.json", status=200)

    with raises_upstream("upstream_error") as caught:
        make_provider("crossref").search("x")
    assert caught.value.message == "Member specified as 999999 not found"


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
    page = make_provider("clinicaltrials").search("asthma children", per_page=3)

    assert page.total == 57
    assert [record.id for record in page.records] == ["NCT06712345", "NCT05598765", "NCT04433221"]
    first, second, _third = page.records
    assert first.title == "Home-Based Inspiratory Muscle Training in Children With Asthma"
    assert first.year == 2024
    assert first.url == "https://clinicaltrials.gov/study/NCT06712345"
    # Paragraphs of the summary run together, cut at a word boundary.
    assert first.snippet.startswith(
        "This study tests whether eight weeks of inspiratory muscle training at home improves asthma control "
        "in children aged 8 to 14 years. Participants will train"
    )
    assert len(first.snippet) <= 301
    assert (first.authors, first.doi, first.open_access) == ((), None, True)
    assert second.year == 2023  # a start date of year and month only
    [request] = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert (request.param("query.term"), request.param("pageSize"), request.param("countTotal")) == (
        "asthma children",
        "3",
        "true",
    )


def test_clinicaltrials_later_page_skips_with_a_page_token(make_provider, upstream):
    upstream.add(
        SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_ids_first_page.json", query={"fields": "NCTId"}
    )
    upstream.add(
        SEARCH_PATHS["clinicaltrials"],
        "clinicaltrials/studies_second_page.json",
        query={"pageToken": "NF0g5JKBl_Ax3m8pQ2s4_RYt9w"},
    )

    page = make_provider("clinicaltrials").search("asthma children", page=2, per_page=3)

    skip, fetch = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert (skip.param("pageSize"), skip.param("fields")) == ("3", "NCTId")
    assert (fetch.param("pageToken"), fetch.param("countTotal")) == ("NF0g5JKBl_Ax3m8pQ2s4_RYt9w", "false")
    # Later pages carry no total; the skip request's count is kept.
    assert page.total == 57
    assert [record.id for record in page.records] == ["NCT03987654", "NCT05123987", "NCT06234567"]


def test_clinicaltrials_answer_without_total(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_second_page.json")

    page = make_provider("clinicaltrials").search("x")

    assert page.total is None and len(page.records) == 3


def test_clinicaltrials_empty_result(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/studies_no_results.json")

    page = make_provider("clinicaltrials").search("zzzz")

    assert page.records == () and page.total == 0


def test_clinicaltrials_plain_text_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["clinicaltrials"], "clinicaltrials/error_400_unknown_parameter.txt", status=400)

    with raises_upstream("upstream_error") as caught:
        make_provider("clinicaltrials").search("x")
    assert caught.value.message == "`filter.phase` is unknown parameter"


def test_clinicaltrials_year_filter_uses_start_date(make_provider, upstream):
    make_provider("clinicaltrials").search("x", year_to=2019)

    [request] = upstream.requests_to(SEARCH_PATHS["clinicaltrials"])
    assert request.param("filter.advanced") == "AREA[StartDate]RANGE[MIN,2019-12-31]"


# --- OpenAlex -----------------------------------------------------------------


def test_openalex_works(make_provider, upstream):
    page = make_provider("openalex").search("asthma children")

    assert page.total == 3
    school, videos, action_plans = page.records
    assert school.id == "W4392345678"
    assert school.title == "School-based asthma education delivered by primary care nurses: a stepped-wedge trial"
    assert (school.doi, school.pmid, school.year) == ("10.1038/s41533-024-00381-2", "38456789", 2024)
    assert school.journal == "npj Primary Care Respiratory Medicine"
    assert school.authors == ("Kuznetsova EV", "Herrera T", "van der Meer L", "Bello A")
    assert school.open_access is True
    # The abstract comes as {word: [positions]}.
    assert school.snippet.startswith(
        "Abstract Asthma education in schools can reach children who rarely see a doctor. We randomised 24 schools"
    )
    # Names written "Surname, Given"; a repository as the source; no abstract.
    assert videos.authors == ("Petrov I", "O'Neill G")
    assert (videos.doi, videos.pmid, videos.journal, videos.snippet) == (
        "10.1101/2024.06.12.24308765",
        None,
        "medRxiv (Cold Spring Harbor Laboratory)",
        None,
    )
    assert videos.url == "https://www.medrxiv.org/content/10.1101/2024.06.12.24308765v1"
    # No source and no landing page: the DOI is the link.
    assert (action_plans.journal, action_plans.open_access, action_plans.authors) == (None, False, ("Chen R Jr",))
    assert action_plans.url == "https://doi.org/10.1542/peds.2009-1234"


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
    upstream.add(SEARCH_PATHS["openalex"], "openalex/works_no_results.json")

    page = make_provider("openalex").search("x")

    assert page.records == () and page.total == 0


def test_openalex_html_404_is_an_error(make_provider, upstream):
    upstream.add(SEARCH_PATHS["openalex"], "openalex/work_404.html", status=404)

    with raises_upstream("upstream_error") as caught:
        make_provider("openalex").search("x")
    assert caught.value.message == "the source answered HTTP 404"


def test_openalex_json_error_message(make_provider, upstream):
    upstream.add(SEARCH_PATHS["openalex"], "openalex/error_400_invalid_parameter.json", status=400)

    with raises_upstream("upstream_error") as caught:
        make_provider("openalex").search("x")
    assert caught.value.message == "per_page must be between 1 and 200"


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
