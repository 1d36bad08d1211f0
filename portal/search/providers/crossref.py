"""Crossref REST ``/works?query=`` with ``mailto`` (the polite pool)."""

from __future__ import annotations

from ..errors import UpstreamError
from ..http import HttpResponse
from ..records import Record, SearchPage
from ..text import normalise_doi, optional_text, parse_year, plain_text, safe_url, snippet, surname_initials
from .base import ERROR_MESSAGE_LENGTH, Provider, SearchRequest

WORKS_PATH = "/works"
# Only what the record shape needs: full work records are many kilobytes each.
# Crossref refuses the whole request (400) if one selected field is unknown.
SELECT_FIELDS = "DOI,title,author,container-title,issued,abstract,URL"


def _failure_message(data: object) -> str | None:
    """Crossref's failure envelope: {"status": "failed", "message": [...]}."""
    if not isinstance(data, dict) or data.get("status") == "ok":
        return None
    details = data.get("message")
    if isinstance(details, list):
        texts = [str(item.get("message")) for item in details if isinstance(item, dict) and item.get("message")]
        if texts:
            return "; ".join(texts)[:ERROR_MESSAGE_LENGTH]
    if isinstance(details, str) and details:
        return details[:ERROR_MESSAGE_LENGTH]
    return "the source reported a failure"


def _year(item: dict) -> int | None:
    # "issued" is the earliest known publication date, present on every work.
    parts = (item.get("issued") or {}).get("date-parts") or []
    return parse_year(parts[0][0]) if parts and parts[0] else None


def _author(author: dict) -> str | None:
    if author.get("family"):
        return surname_initials(author["family"], author.get("given")) or None
    # Organisations have only "name", which stays whole: it has no initials.
    return optional_text(author.get("name"))


def _first(values: object) -> object:
    return values[0] if isinstance(values, list) and values else None


class CrossrefProvider(Provider):
    """Year range: ``filter=from-pub-date:…,until-pub-date:…``.
    Open access: Crossref has no open-access flag or filter, so a search with
    "open access only" fails for this source with ``unsupported_filter``
    (shown as this source's error) rather than returning unfiltered records;
    records' open-access flag is always unknown (None).
    """

    name = "crossref"
    label = "Crossref"

    def _error_message(self, response: HttpResponse) -> str | None:
        try:
            return _failure_message(response.json())
        except UpstreamError:
            return super()._error_message(response)

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        if request.open_access_only:
            raise UpstreamError("unsupported_filter", "Crossref cannot filter by open access")
        params = {"query": request.query, "rows": request.per_page, "offset": request.offset, "select": SELECT_FIELDS}
        if self.settings.contact_email:
            params["mailto"] = self.settings.contact_email
        filters = []
        if request.year_from is not None:
            filters.append(f"from-pub-date:{request.year_from}")
        if request.year_to is not None:
            filters.append(f"until-pub-date:{request.year_to}")
        if filters:
            params["filter"] = ",".join(filters)
        data = self._get_json(WORKS_PATH, params, deadline)
        message = _failure_message(data)
        if message:
            raise UpstreamError("upstream_error", message)
        body = data["message"]
        items = body.get("items") or []
        records = tuple(record for record in (self._record(item) for item in items if isinstance(item, dict)) if record)
        return SearchPage(records, int(body["total-results"]))

    def _record(self, item: dict) -> Record | None:
        doi = normalise_doi(item.get("DOI"))
        if doi is None:
            return None
        authors = tuple(name for name in (_author(a) for a in item.get("author") or [] if isinstance(a, dict)) if name)
        return Record(
            source=self.name,
            id=doi,
            title=plain_text(_first(item.get("title"))),
            authors=authors,
            journal=optional_text(_first(item.get("container-title"))),
            year=_year(item),
            doi=doi,
            pmid=None,
            url=safe_url(item.get("URL")) or f"https://doi.org/{doi}",
            snippet=snippet(item.get("abstract")),
            open_access=None,
        )
