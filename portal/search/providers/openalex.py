"""OpenAlex ``/works?search=`` (``api_key`` parameter when configured)."""

from __future__ import annotations

from ..errors import UpstreamError
from ..http import HttpResponse
from ..records import Record, SearchPage
from ..text import name_to_surname_initials, normalise_doi, normalise_pmid, optional_text, plain_text, safe_url, snippet
from .base import ERROR_MESSAGE_LENGTH, Provider, SearchRequest

WORKS_PATH = "/works"
SELECT_FIELDS = (
    "id,doi,display_name,publication_year,ids,primary_location,open_access,authorships,abstract_inverted_index"
)
# A snippet needs only the first words of an abstract.
SNIPPET_WORDS = 120


def _abstract_start(inverted_index: object) -> str | None:
    """OpenAlex ships abstracts as {word: [positions]}; rebuild the start."""
    if not isinstance(inverted_index, dict):
        return None
    words = sorted(
        (position, word)
        for word, positions in inverted_index.items()
        if isinstance(positions, list)
        for position in positions
        if isinstance(position, int) and 0 <= position < SNIPPET_WORDS
    )
    return " ".join(word for _, word in words) or None


def _local_id(openalex_id: object) -> str:
    return str(openalex_id).rstrip("/").rsplit("/", 1)[-1]


class OpenAlexProvider(Provider):
    """Year range: ``from_publication_date``/``to_publication_date`` filters.
    Open access: the ``is_oa:true`` filter; records carry ``open_access.is_oa``.
    OpenAlex's daily budget errors (429) show as this source's ``rate_limited``.
    """

    name = "openalex"
    label = "OpenAlex"

    def _error_message(self, response: HttpResponse) -> str | None:
        # Documented errors are JSON {"error": ..., "message": ...}; a 404
        # comes as an HTML page, which yields no message.
        try:
            data = response.json()
        except UpstreamError:
            return super()._error_message(response)
        if isinstance(data, dict):
            text = data.get("message") or data.get("error")
            if isinstance(text, str) and text:
                return plain_text(text)[:ERROR_MESSAGE_LENGTH]
        return None

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        params = {"search": request.query, "page": request.page, "per_page": request.per_page, "select": SELECT_FIELDS}
        filters = []
        if request.year_from is not None:
            filters.append(f"from_publication_date:{request.year_from}-01-01")
        if request.year_to is not None:
            filters.append(f"to_publication_date:{request.year_to}-12-31")
        if request.open_access_only:
            filters.append("is_oa:true")
        if filters:
            params["filter"] = ",".join(filters)
        if self.settings.api_key:
            params["api_key"] = self.settings.api_key
        if self.settings.contact_email:
            params["mailto"] = self.settings.contact_email
        data = self._get_json(WORKS_PATH, params, deadline)
        results = data["results"]
        if not isinstance(results, list):
            raise TypeError("results is not a list")
        total = data["meta"].get("count")
        return SearchPage(
            tuple(self._record(work) for work in results if isinstance(work, dict) and work.get("id")),
            total if isinstance(total, int) and not isinstance(total, bool) else None,
        )

    def _record(self, work: dict) -> Record:
        location = work.get("primary_location") or {}
        doi = normalise_doi(work.get("doi"))
        authors = tuple(
            name
            for name in (
                name_to_surname_initials(
                    (authorship.get("author") or {}).get("display_name") or authorship.get("raw_author_name")
                )
                for authorship in work.get("authorships") or []
                if isinstance(authorship, dict)
            )
            if name
        )
        is_oa = (work.get("open_access") or {}).get("is_oa")
        return Record(
            source=self.name,
            id=_local_id(work["id"]),
            title=plain_text(work.get("display_name") or work.get("title")),
            authors=authors,
            journal=optional_text((location.get("source") or {}).get("display_name")),
            year=work.get("publication_year") if isinstance(work.get("publication_year"), int) else None,
            doi=doi,
            pmid=normalise_pmid((work.get("ids") or {}).get("pmid")),
            url=safe_url(location.get("landing_page_url"))
            or (f"https://doi.org/{doi}" if doi else safe_url(work.get("id"))),
            snippet=snippet(_abstract_start(work.get("abstract_inverted_index"))),
            open_access=is_oa if isinstance(is_oa, bool) else None,
        )
