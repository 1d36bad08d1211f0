"""Fixtures for the portal-level search tests: the app's upstream base URLs
point at the replay server (tests/search/upstream_server.py), with short
time budgets so that a hanging source costs the suite little time, yet long enough that a
loaded machine (the CI runs two suites side by side) never times out a source that answers.

Test modules import these fixtures by name.
"""

import pytest

from portal.search.providers import SOURCE_NAMES

from .conftest import API_ROOTS, FIRST_TITLES, MINZDRAV_ROOT, SEARCH_PATHS

SOURCE_BUDGET = 3.0
TOTAL_BUDGET = 4.0

__all__ = [
    "API_ROOTS",
    "SEARCH_PATHS",
    "SOURCE_NAMES",
    "config_overrides",
    "search_settings",
    "clinic_doctor",
    "api",
    "FIRST_TITLES",
]


@pytest.fixture
def search_settings():
    """Extra settings for one test module (override this fixture)."""
    return {}


@pytest.fixture
def config_overrides(upstream, search_settings):
    return {
        "UPSTREAM_BASE_URLS": {
            **{name: upstream.url + root for name, root in API_ROOTS.items()},
            "minzdrav": upstream.url + MINZDRAV_ROOT,
        },
        "PORTAL_CONTACT_EMAIL": "library@example.org",
        "SEARCH_SOURCE_BUDGET_SECONDS": SOURCE_BUDGET,
        "SEARCH_TOTAL_BUDGET_SECONDS": TOTAL_BUDGET,
        **search_settings,
    }


@pytest.fixture
def clinic_doctor(make_user):
    return make_user("doctor")


@pytest.fixture
def api(api_as, clinic_doctor):
    return api_as(clinic_doctor)
