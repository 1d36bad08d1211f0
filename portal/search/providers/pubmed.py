"""PubMed through NCBI E-utilities: esearch for ids, esummary for the records
(JSON), efetch for one record's abstract (XML, parsed with defusedxml only).

NCBI etiquette: every request carries ``tool`` and ``email`` (and ``api_key``
when configured) and goes through a rate limiter (3 requests/s without a key,
10 with one; see ``ncbi_rate_limiter``).
"""

from __future__ import annotations

import time
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring as parse_xml

from ..errors import QueryError, UpstreamError
from ..http import HttpResponse, RateLimiter, ncbi_rate_limiter
from ..records import Record, SearchPage
from ..text import normalise_doi, optional_text, parse_year, plain_text
from .base import EARLIEST_YEAR, LATEST_YEAR, Provider, ProviderSettings, SearchRequest, first_line

ESEARCH_PATH = "/esearch.fcgi"
ESUMMARY_PATH = "/esummary.fcgi"
EFETCH_PATH = "/efetch.fcgi"
# PubMed's subset of records with free full text somewhere (PMC or publisher).
FREE_FULL_TEXT_FILTER = "free full text[sb]"
ARTICLE_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def _xml_root(body: bytes) -> Element:
    try:
        return parse_xml(body)
    except (ParseError, defusedxml.DefusedXmlException):
        raise UpstreamError("bad_response", "the answer is not well-formed XML") from None


def _looks_like_xml(response: HttpResponse) -> bool:
    return response.body.lstrip().startswith(b"<") and not response.is_html


def _xml_error(root: Element) -> str | None:
    """NCBI reports failures in an ``<ERROR>`` element, also inside HTTP 200."""
    element = root if root.tag == "ERROR" else root.find(".//ERROR")
    if element is None:
        return None
    return plain_text("".join(element.itertext()))[:200] or "the source reported an error"


def _json_error(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return None


class PubMedProvider(Provider):
    """Year range: esearch ``datetype=pdat`` (publication date).
    Open access: PubMed cannot tell open licences apart, so "open access only"
    narrows to its *free full text* subset, and those records are flagged open.
    Without that filter a record is flagged open when it has a PMC copy, else
    the flag is unknown (None).
    """

    name = "pubmed"
    label = "PubMed"

    def __init__(self, settings: ProviderSettings, *, limiter: RateLimiter | None = None) -> None:
        super().__init__(settings, limiter=limiter or ncbi_rate_limiter(settings.api_key))

    def _params(self, **params: Any) -> dict[str, Any]:
        params["db"] = "pubmed"
        params["tool"] = self.settings.tool
        if self.settings.contact_email:
            params["email"] = self.settings.contact_email
        if self.settings.api_key:
            params["api_key"] = self.settings.api_key
        return params

    def _error_message(self, response: HttpResponse) -> str | None:
        if _looks_like_xml(response):
            try:
                return _xml_error(parse_xml(response.body))
            except (ParseError, defusedxml.DefusedXmlException):
                return None
        try:
            return _json_error(response.json())
        except UpstreamError:
            return first_line(response.text()) if response.media_type == "text/plain" else None

    def _get_ncbi_json(self, path: str, params: dict[str, Any], deadline: float) -> dict:
        response = self._get(path, params, deadline)
        # NCBI sends an XML error document even when JSON was asked for.
        if _looks_like_xml(response):
            message = _xml_error(_xml_root(response.body))
            if message:
                raise UpstreamError("upstream_error", message)
            raise UpstreamError("bad_response", "XML came where JSON was expected")
        data = response.json()
        message = _json_error(data)
        if message:
            code = "rate_limited" if "rate limit" in message.lower() else "upstream_error"
            raise UpstreamError(code, message[:200])
        if not isinstance(data, dict):
            raise UpstreamError("bad_response", "the answer is not a JSON object")
        return data

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        term = request.query
        if request.open_access_only:
            term = f"({term}) AND {FREE_FULL_TEXT_FILTER}"
        params = self._params(
            term=term, retstart=request.offset, retmax=request.per_page, retmode="json", sort="relevance"
        )
        if request.has_year_filter:
            # NCBI ignores a date range unless both ends are given.
            params.update(
                datetype="pdat",
                mindate=str(request.year_from or EARLIEST_YEAR),
                maxdate=str(request.year_to or LATEST_YEAR),
            )
        result = self._get_ncbi_json(ESEARCH_PATH, params, deadline)["esearchresult"]
        if "ERROR" in result:
            raise UpstreamError("upstream_error", plain_text(str(result["ERROR"]))[:200])
        total = int(result["count"])
        ids = [str(pmid) for pmid in result["idlist"]]
        if not ids:
            return SearchPage((), total)
        summary = self._get_ncbi_json(ESUMMARY_PATH, self._params(id=",".join(ids), retmode="json"), deadline)["result"]
        records = []
        # Only what NCBI returned, in its order: ids it could not summarise are
        # absent from "uids" or carry an "error".
        for uid in summary["uids"]:
            document = summary.get(str(uid))
            if isinstance(document, dict) and "error" not in document:
                records.append(self._record(str(uid), document, request.open_access_only))
        return SearchPage(tuple(records), total)

    def _record(self, pmid: str, document: dict, free_full_text: bool) -> Record:
        article_ids = {
            item.get("idtype"): item.get("value") for item in document.get("articleids") or [] if isinstance(item, dict)
        }
        authors = tuple(
            name
            for name in (
                plain_text(author.get("name")) for author in document.get("authors") or [] if isinstance(author, dict)
            )
            if name
        )
        return Record(
            source=self.name,
            id=pmid,
            title=plain_text(document.get("title")),
            authors=authors,
            journal=optional_text(document.get("fulljournalname")) or optional_text(document.get("source")),
            year=parse_year(document.get("pubdate")) or parse_year(document.get("sortpubdate")),
            doi=normalise_doi(article_ids.get("doi")),
            pmid=pmid,
            url=ARTICLE_URL.format(pmid=pmid),
            snippet=None,
            open_access=True if free_full_text or article_ids.get("pmc") else None,
        )

    def fetch_abstract(self, pmid: str, *, deadline: float | None = None) -> str | None:
        """The abstract of one PubMed record as plain text (labelled sections
        of a structured abstract become "LABEL: text" paragraphs), or None
        when the record has no abstract or does not exist."""
        if not isinstance(pmid, str) or not (pmid.isascii() and pmid.isdigit()) or len(pmid) > 10:
            raise QueryError("invalid_parameter", "a PMID is a number of up to 10 digits")
        if deadline is None:
            deadline = time.monotonic() + self.settings.total_timeout
        params = self._params(id=pmid, retmode="xml", rettype="abstract")
        return self._guarded(self._fetch_abstract, pmid, params, deadline)

    def _fetch_abstract(self, pmid: str, params: dict[str, Any], deadline: float) -> str | None:
        response = self._get(EFETCH_PATH, params, deadline, accept="application/xml")
        if response.is_html:
            raise UpstreamError("bad_response", "an HTML page came where XML was expected")
        root = _xml_root(response.body)
        message = _xml_error(root)
        if message:
            raise UpstreamError("upstream_error", message)
        if root.tag != "PubmedArticleSet":
            raise UpstreamError("bad_response", f"unexpected XML document <{root.tag}>")
        for article in root.iter("PubmedArticle"):
            if article.findtext("MedlineCitation/PMID", "").strip() != pmid:
                continue
            paragraphs = []
            for part in article.findall("MedlineCitation/Article/Abstract/AbstractText"):
                text = " ".join("".join(part.itertext()).split())
                label = part.get("Label")
                if text:
                    paragraphs.append(f"{label}: {text}" if label else text)
            return "\n\n".join(paragraphs) or None
        return None
