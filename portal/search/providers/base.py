"""What every source provider shares: settings, argument checks, HTTP status
handling and the guard that turns unexpected answer shapes into errors."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ..errors import QueryError, UpstreamError
from ..http import DEFAULT_MAX_BYTES, HttpClient, HttpResponse, RateLimiter
from ..records import SearchPage

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 100
# Upstream limits on how deep plain paging goes (Europe PMC and
# ClinicalTrials.gov take at most 1000 records per request, which bounds skips).
MAX_OFFSET = 1000
# Open ends of a year range, for sources that need both bounds.
EARLIEST_YEAR = 1800
LATEST_YEAR = 2999
ERROR_MESSAGE_LENGTH = 200
# The age groups the clinical guidelines are written for (a filter of that source only).
AGE_GROUPS = ("children", "adults")


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach one source. ``base_url`` is the API root as documented;
    providers only ever append their documented paths to it."""

    base_url: str
    contact_email: str | None = None
    api_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 3.05
    read_timeout: float = 8.0
    # Deadline of a call when the caller passes none.
    total_timeout: float = 8.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_retries: int = 2
    tool: str = "growth_room_portal"

    @property
    def user_agent(self) -> str:
        contact = f" (mailto:{self.contact_email})" if self.contact_email else ""
        return f"GrowthRoomPortal/1.0{contact}"


@dataclass(frozen=True)
class SearchRequest:
    query: str
    page: int
    per_page: int
    year_from: int | None
    year_to: int | None
    open_access_only: bool
    age_group: str | None = None
    current_only: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_year_filter(self) -> bool:
        return self.year_from is not None or self.year_to is not None


def _check_int(label: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise QueryError("invalid_parameter", f"{label} must be an integer from {low} to {high}")


def check_paging(page: object, per_page: object, *, max_per_page: int, max_offset: int) -> None:
    """Raise ``QueryError`` unless the page starts within ``max_offset`` results."""
    _check_int("per_page", per_page, 1, max_per_page)
    _check_int("page", page, 1, max_offset // per_page + 1)


def check_years(year_from: object, year_to: object) -> None:
    for label, value in (("year_from", year_from), ("year_to", year_to)):
        if value is not None:
            _check_int(label, value, EARLIEST_YEAR, LATEST_YEAR)
    if year_from is not None and year_to is not None and year_from > year_to:
        raise QueryError("invalid_parameter", "year_from is after year_to")


def first_line(text: str) -> str | None:
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line[:ERROR_MESSAGE_LENGTH]
    return None


class Provider(ABC):
    """One literature source behind the common ``search`` interface."""

    name: ClassVar[str]
    label: ClassVar[str]
    # True for a source kept in the portal's own database: the fan-out runs it in the
    # calling thread, with the request's database session, instead of in its pool.
    runs_locally: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings, *, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self._http = HttpClient(
            settings.base_url,
            source=self.name,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_bytes=settings.max_bytes,
            max_retries=settings.max_retries,
            limiter=limiter,
            user_agent=settings.user_agent,
            secrets=(settings.api_key,) if settings.api_key else (),
        )

    def close(self) -> None:
        self._http.close()

    def search(
        self,
        query: str,
        page: int = 1,
        per_page: int = 20,
        year_from: int | None = None,
        year_to: int | None = None,
        open_access_only: bool = False,
        *,
        deadline: float | None = None,
        age_group: str | None = None,
        current_only: bool = False,
    ) -> SearchPage:
        """One page of results for ``query`` (the source's own query syntax
        applies). ``deadline`` is a ``time.monotonic()`` value; without it the
        settings' ``total_timeout`` applies. ``age_group`` and ``current_only``
        narrow the clinical guidelines; sources without such fields ignore
        them. Raises ``UpstreamError``."""
        request = self._check_request(query, page, per_page, year_from, year_to, open_access_only)
        request = replace(request, age_group=age_group, current_only=bool(current_only))
        if deadline is None:
            deadline = time.monotonic() + self.settings.total_timeout
        return self._guarded(self._search, request, deadline)

    @abstractmethod
    def _search(self, request: SearchRequest, deadline: float) -> SearchPage: ...

    def _guarded(self, method, *args):
        """Run a parser; an answer of unexpected shape is the source's fault,
        reported as ``bad_response`` rather than crashing the search."""
        try:
            return method(*args)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            logger.warning("%s: unexpected answer structure", self.name, exc_info=True)
            raise UpstreamError("bad_response", "the answer has an unexpected structure") from None

    @staticmethod
    def _check_request(query, page, per_page, year_from, year_to, open_access_only) -> SearchRequest:
        if not isinstance(query, str) or not query.strip():
            raise QueryError("invalid_query", "the query is empty")
        check_paging(page, per_page, max_per_page=MAX_PER_PAGE, max_offset=MAX_OFFSET)
        check_years(year_from, year_to)
        return SearchRequest(query.strip(), page, per_page, year_from, year_to, bool(open_access_only))

    # --- HTTP helpers -----------------------------------------------------

    def _get(
        self, path: str, params: Mapping[str, Any], deadline: float, accept: str = "application/json"
    ) -> HttpResponse:
        """GET and map every non-2xx status to an ``UpstreamError``."""
        response = self._http.get(path, params, deadline=deadline, accept=accept)
        if 200 <= response.status < 300:
            return response
        message = self._error_message(response) or f"the source answered HTTP {response.status}"
        if response.status == 429:
            raise UpstreamError("rate_limited", message)
        if response.status >= 500:
            raise UpstreamError("upstream_unavailable", message)
        raise UpstreamError("upstream_error", message)

    def _get_json(self, path: str, params: Mapping[str, Any], deadline: float) -> dict:
        data = self._get(path, params, deadline).json()
        if not isinstance(data, dict):
            raise UpstreamError("bad_response", "the answer is not a JSON object")
        return data

    def _error_message(self, response: HttpResponse) -> str | None:
        """The upstream's own words for a failed request, when it gave any.

        Default: the first line of a plain-text body. Sources with structured
        error bodies override this.
        """
        if response.media_type == "text/plain":
            return first_line(response.text())
        return None
