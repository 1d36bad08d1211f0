"""Europe PMC REST ``/search`` (JSON, ``resultType=core``)."""

from __future__ import annotations

from urllib.parse import quote

from ..errors import UpstreamError
from ..records import Record, SearchPage
from ..text import normalise_doi, normalise_pmid, optional_text, parse_year, plain_text, snippet
from .base import EARLIEST_YEAR, LATEST_YEAR, Provider, SearchRequest

SEARCH_PATH = "/search"
ARTICLE_URL = "https://europepmc.org/article/{source}/{id}"


def _authors(result: dict) -> tuple[str, ...]:
    listed = (result.get("authorList") or {}).get("author")
    if isinstance(listed, list) and listed:
        names = (
            plain_text(author.get("fullName") or author.get("collectiveName"))
            for author in listed
            if isinstance(author, dict)
        )
    else:
        # The lite result type only has "Surname AB, Other CD." as one string.
        names = (plain_text(name) for name in str(result.get("authorString") or "").rstrip(".").split(", "))
    return tuple(name for name in names if name)


def _open_access(flag: object) -> bool | None:
    return {"Y": True, "N": False}.get(flag) if isinstance(flag, str) else None


class EuropePmcProvider(Provider):
    """Year range: ``PUB_YEAR:[from TO to]`` added to the query.
    Open access: ``OPEN_ACCESS:y`` added to the query.

    Europe PMC pages only with ``cursorMark``. For page N we first ask for the
    ids of the records before it (``resultType=idlist``, small) to get the
    cursor, then for the page itself: two requests instead of N.
    """

    name = "europepmc"
    label = "Europe PMC"

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        query = f"({request.query})"
        if request.has_year_filter:
            query += f" AND PUB_YEAR:[{request.year_from or EARLIEST_YEAR} TO {request.year_to or LATEST_YEAR}]"
        if request.open_access_only:
            query += " AND OPEN_ACCESS:y"
        params = {
            "query": query,
            "format": "json",
            "resultType": "core",
            "pageSize": request.per_page,
            "cursorMark": "*",
        }
        if request.offset:
            skipped = self._get_page({**params, "resultType": "idlist", "pageSize": request.offset}, deadline)
            cursor = skipped.get("nextCursorMark")
            if skipped["hitCount"] <= request.offset or not isinstance(cursor, str) or cursor in ("*", "%2A"):
                return SearchPage((), skipped["hitCount"])
            params["cursorMark"] = cursor
        data = self._get_page(params, deadline)
        results = (data.get("resultList") or {}).get("result") or []
        return SearchPage(
            tuple(self._record(result) for result in results if isinstance(result, dict)), data["hitCount"]
        )

    def _get_page(self, params: dict, deadline: float) -> dict:
        data = self._get_json(SEARCH_PATH, params, deadline)
        # Europe PMC answers some failures with HTTP 200 and no hit count:
        # that is an error, not an empty result.
        hit_count = data.get("hitCount")
        if not isinstance(hit_count, int) or isinstance(hit_count, bool):
            raise UpstreamError("bad_response", "the answer has no hit count")
        return data

    def _record(self, result: dict) -> Record:
        source, local_id = str(result["source"]), str(result["id"])
        journal = ((result.get("journalInfo") or {}).get("journal") or {}).get("title") or result.get("journalTitle")
        return Record(
            source=self.name,
            id=f"{source}/{local_id}",
            title=plain_text(result.get("title")),
            authors=_authors(result),
            journal=optional_text(journal),
            year=parse_year(result.get("pubYear")),
            doi=normalise_doi(result.get("doi")),
            pmid=normalise_pmid(result.get("pmid")),
            url=ARTICLE_URL.format(source=quote(source, safe=""), id=quote(local_id, safe="")),
            snippet=snippet(result.get("abstractText")),
            open_access=_open_access(result.get("isOpenAccess")),
        )
