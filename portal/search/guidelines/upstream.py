"""Paging through the rubricator's list call, politely.

One request at a time, a pause between pages, the portal's own User-Agent
with its contact address (``PORTAL_CONTACT_EMAIL``): the portal does not pose
as a browser, even though the rubricator is reported to refuse clients that do
not (HTTP 451). Such a refusal, or an answer of another shape, is a
``SyncFailed`` with a message an operator can act on; nothing here touches the
database, so a failed sync leaves the catalogue as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from portal.search.errors import UpstreamError
from portal.search.guidelines.listing import ListedGuideline, ListingShapeError, parse_answer
from portal.search.http import HttpClient
from portal.search.providers.base import ProviderSettings

logger = logging.getLogger(__name__)

LIST_PATH = "/api.ashx"
LIST_OPERATION = "GetJsonClinrecsFilterV2"
# Where a reader opens a guideline: the rubricator's public site (only ever linked, never fetched).
PUBLIC_PAGE = "https://cr.minzdrav.gov.ru/view-cr/{code_version}"
# A list that never ends (an upstream ignoring the page number) must not page for ever.
MAX_PAGES = 500
REFUSAL_STATUSES = frozenset({401, 403, 451})


class SyncFailed(Exception):
    """The catalogue could not be refreshed; ``message`` says why, for an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FetchedListing:
    """Every guideline the list named, once each. ``complete`` when the list's own count (or,
    without one, its last short page) says nothing was missed: only then may guidelines the list
    no longer names be marked as gone."""

    items: tuple[ListedGuideline, ...]
    complete: bool
    pages: int


def list_request(page: int, page_size: int) -> dict:
    """The list call's body: every guideline, whatever its status, newest first."""
    return {
        "filters": [],
        "sortOption": {"fieldName": "publishdate", "sortType": 2},
        "pageSize": page_size,
        "currentPage": page,
        "useANDoperator": True,
        "columns": [],
    }


def fetch_listing(
    settings: ProviderSettings,
    *,
    page_size: int,
    pause_seconds: float,
    page_timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchedListing:
    """Page through the whole list; raises ``SyncFailed``."""
    client = HttpClient(
        settings.base_url,
        source="minzdrav",
        connect_timeout=settings.connect_timeout,
        read_timeout=page_timeout,
        max_bytes=settings.max_bytes,
        max_retries=settings.max_retries,
        user_agent=settings.user_agent,
        pool_size=1,
    )
    try:
        return _fetch_pages(client, page_size, pause_seconds, page_timeout, sleep)
    finally:
        client.close()


def _fetch_pages(client, page_size, pause_seconds, page_timeout, sleep) -> FetchedListing:
    found: dict[str, ListedGuideline] = {}
    total = None
    for page in range(1, MAX_PAGES + 1):
        if page > 1:
            sleep(pause_seconds)
        answer = _list_page(client, page, page_size, page_timeout)
        if page == 1 and not answer.items:
            raise SyncFailed("the rubricator listed no guidelines; the catalogue is kept as it was")
        fresh = [item for item in answer.items if item.code_version not in found]
        if answer.items and not fresh:
            raise SyncFailed(f"the rubricator's list does not page: page {page} repeats guidelines already listed")
        found.update((item.code_version, item) for item in fresh)
        total = answer.total if answer.total is not None else total
        last_page = len(answer.items) < page_size or (total is not None and page * page_size >= total)
        if last_page:
            complete = len(found) >= total if total is not None else True
            if not complete:
                logger.warning("guideline sync: the list named %d of the %d guidelines it counts", len(found), total)
            return FetchedListing(tuple(found.values()), complete, page)
    raise SyncFailed(f"the rubricator's list goes on beyond {MAX_PAGES} pages")


def _list_page(client, page, page_size, page_timeout):
    deadline = time.monotonic() + page_timeout
    try:
        response = client.post_json(LIST_PATH, {"op": LIST_OPERATION}, list_request(page, page_size), deadline=deadline)
    except UpstreamError as error:
        raise SyncFailed(f"the rubricator could not be reached for page {page}: {error.message}") from None
    if response.status in REFUSAL_STATUSES:
        raise SyncFailed(
            f"the rubricator refused the portal's request (HTTP {response.status}). It is reported to refuse "
            "clients that do not present themselves as a browser, which the portal does not do; load a saved "
            "list instead (sync-guidelines --from-file, or the search sources page)"
        )
    if response.status != 200:
        raise SyncFailed(f"the rubricator answered HTTP {response.status} for page {page}")
    try:
        return parse_answer(response.json())
    except UpstreamError as error:  # HTML instead of JSON, or no JSON at all
        raise SyncFailed(f"the rubricator's answer to page {page} is not a guideline list: {error.message}") from None
    except ListingShapeError as error:
        raise SyncFailed(f"the rubricator's answer has changed shape: {error}") from None
