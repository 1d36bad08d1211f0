"""ClinicalTrials.gov API v2 ``/studies`` with ``query.term``."""

from __future__ import annotations

from urllib.parse import quote

from ..records import Record, SearchPage
from ..text import parse_year, plain_text, snippet
from .base import Provider, SearchRequest

STUDIES_PATH = "/studies"
STUDY_URL = "https://clinicaltrials.gov/study/{nct_id}"
FIELDS = "NCTId,BriefTitle,BriefSummary,StartDate"


class ClinicalTrialsProvider(Provider):
    """Year range: the study's start date, through
    ``filter.advanced=AREA[StartDate]RANGE[…]``; a record's year is its start
    year. Open access: every registry record is free to read, so the filter
    changes nothing and every record is flagged open.

    The API pages only with ``pageToken``. For page N we first ask for the
    NCT ids before it (``fields=NCTId``, small) to get the token, then for the
    page itself: two requests instead of N. Errors come as text/plain (the
    base class reads their first line).
    """

    name = "clinicaltrials"
    label = "ClinicalTrials.gov"

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        params = {
            "query.term": request.query,
            "format": "json",
            "countTotal": "true",
            "pageSize": request.per_page,
            "fields": FIELDS,
        }
        if request.has_year_filter:
            start = f"{request.year_from}-01-01" if request.year_from else "MIN"
            end = f"{request.year_to}-12-31" if request.year_to else "MAX"
            params["filter.advanced"] = f"AREA[StartDate]RANGE[{start},{end}]"
        total = None
        if request.offset:
            skipped = self._get_json(STUDIES_PATH, {**params, "pageSize": request.offset, "fields": "NCTId"}, deadline)
            total = self._total(skipped)
            token = skipped.get("nextPageToken")
            if not isinstance(token, str) or not token:
                return SearchPage((), total)
            # Only the first page carries the total; later ones need not count.
            params.update(pageToken=token, countTotal="false")
        data = self._get_json(STUDIES_PATH, params, deadline)
        if total is None:
            total = self._total(data)
        studies = data["studies"]
        if not isinstance(studies, list):
            raise TypeError("studies is not a list")
        records = tuple(
            record for record in (self._record(study) for study in studies if isinstance(study, dict)) if record
        )
        return SearchPage(records, total)

    @staticmethod
    def _total(data: dict) -> int | None:
        total = data.get("totalCount")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def _record(self, study: dict) -> Record | None:
        protocol = study.get("protocolSection") or {}
        identification = protocol.get("identificationModule") or {}
        nct_id = plain_text(identification.get("nctId"))
        if not nct_id:
            return None
        return Record(
            source=self.name,
            id=nct_id,
            title=plain_text(identification.get("briefTitle")),
            authors=(),
            journal=None,
            year=parse_year(((protocol.get("statusModule") or {}).get("startDateStruct") or {}).get("date")),
            doi=None,
            pmid=None,
            url=STUDY_URL.format(nct_id=quote(nct_id, safe="")),
            snippet=snippet((protocol.get("descriptionModule") or {}).get("briefSummary")),
            open_access=True,
        )
