"""The Ministry of Health's clinical guidelines (рубрикатор клинических рекомендаций).

Searched in the catalogue the portal keeps in its own database, never fetched
while a user searches: the rubricator has no text search, and the catalogue
is refreshed by a daily job (portal.search.guidelines.sync). The settings'
``base_url`` (PORTAL_MINZDRAV_BASE_URL) is read by that job only.
"""

from __future__ import annotations

from collections.abc import Callable

from ..http import RateLimiter
from ..records import SearchPage
from .base import Provider, ProviderSettings, SearchRequest


class MinzdravProvider(Provider):
    name = "minzdrav"
    label = "Minzdrav clinical guidelines"
    runs_locally = True

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        limiter: RateLimiter | None = None,
        search_catalogue: Callable[[SearchRequest], SearchPage] | None = None,
    ) -> None:
        # No HTTP client: the search reads the portal's database through ``search_catalogue``.
        self.settings = settings
        self._search_catalogue = search_catalogue

    def close(self) -> None:
        pass  # holds no connection of its own

    def _search(self, request: SearchRequest, deadline: float) -> SearchPage:
        if self._search_catalogue is None:
            raise ValueError("the guidelines catalogue was not given to this provider")
        return self._search_catalogue(request)
