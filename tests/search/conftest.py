"""Fixtures for the search layer: a replay server standing in for every
upstream, providers pointed at it, and a record of the connections made."""

from __future__ import annotations

import socket
import uuid
from dataclasses import replace
from typing import NamedTuple

import pytest
import redis

from portal.search.providers import PROVIDER_CLASSES, Provider, ProviderSettings
from tests.conftest import require_part

from .upstream_server import UpstreamServer, shared_samples_dir

# Where each source's API root lives on the replay server, and the path its
# search request goes to (API root + documented path).
API_ROOTS = {
    "pubmed": "/entrez/eutils",
    "europepmc": "/europepmc/webservices/rest",
    "crossref": "/crossref",
    "clinicaltrials": "/api/v2",
    "openalex": "/openalex",
}
# The sources searched over HTTP, in the order their results interleave.
UPSTREAM_SOURCES = tuple(API_ROOTS)
SEARCH_PATHS = {
    "pubmed": "/entrez/eutils/esearch.fcgi",
    "europepmc": "/europepmc/webservices/rest/search",
    "crossref": "/crossref/works",
    "clinicaltrials": "/api/v2/studies",
    "openalex": "/openalex/works",
}
# The clinical-guidelines rubricator: only its catalogue sync calls it (a POST of the list call).
MINZDRAV_ROOT = "/minzdrav"
MINZDRAV_LIST_PATH = MINZDRAV_ROOT + "/api.ashx"
ESUMMARY_PATH = "/entrez/eutils/esummary.fcgi"
EFETCH_PATH = "/entrez/eutils/efetch.fcgi"

# What each source answers unless a test says otherwise (files under tests/search/samples).
DEFAULT_SAMPLES = {
    SEARCH_PATHS["pubmed"]: "pubmed/esearch_asthma_children.json",
    ESUMMARY_PATH: "pubmed/esummary_asthma_children.json",
    SEARCH_PATHS["europepmc"]: "europepmc/search_core.json",
    SEARCH_PATHS["crossref"]: "crossref/works_query.json",
    SEARCH_PATHS["clinicaltrials"]: "clinicaltrials/studies_search.json",
    SEARCH_PATHS["openalex"]: "openalex/works_search.json",
}
# The first title each source's default answer yields.
FIRST_TITLES = {
    "pubmed": "Inhaled corticosteroid adherence in school-age children with persistent asthma: "
    "a cluster-randomised trial.",
    "europepmc": "Home spirometry telemonitoring and exacerbations in school-age children with asthma: "
    "a randomised trial.",
    "crossref": "Home spirometry in paediatric asthma: a feasibility study in primary care",
    "clinicaltrials": "Home-Based Inspiratory Muscle Training in Children With Asthma",
    "openalex": "School-based asthma education delivered by primary care nurses: a stepped-wedge trial",
}
# The total each default answer reports.
DEFAULT_TOTALS = {"pubmed": 1873, "europepmc": 48213, "crossref": 40917, "clinicaltrials": 57, "openalex": 3}


@pytest.fixture
def connections(monkeypatch):
    """Every address the code under test connects to during the test (the
    suite-wide guard in tests/conftest.py still refuses non-loopback ones)."""
    made: list[tuple] = []
    connect = socket.socket.connect

    def recording_connect(sock, address):
        made.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return made


@pytest.fixture
def upstream():
    server = UpstreamServer().start()
    for path, sample in DEFAULT_SAMPLES.items():
        server.add(path, sample)
    yield server
    server.stop()


@pytest.fixture
def settings_for(upstream):
    """ProviderSettings for a source on the replay server, short timeouts."""

    def build(name: str, **overrides) -> ProviderSettings:
        settings = ProviderSettings(
            base_url=upstream.url + API_ROOTS[name],
            contact_email="library@example.org",
            connect_timeout=1.0,
            read_timeout=2.0,
            total_timeout=3.0,
        )
        return replace(settings, **overrides)

    return build


@pytest.fixture
def make_provider(settings_for):
    created: list[Provider] = []

    def build(name: str, *, limiter=None, **overrides) -> Provider:
        provider = PROVIDER_CLASSES[name](settings_for(name, **overrides), limiter=limiter)
        created.append(provider)
        return provider

    yield build
    for provider in created:
        provider.close()


@pytest.fixture
def all_providers(make_provider):
    return {name: make_provider(name) for name in API_ROOTS}


class RedisHandle(NamedTuple):
    url: str
    client: redis.Redis
    prefix: str


@pytest.fixture
def redis_handle(redis_url):
    """A Redis connection with a unique key prefix, cleaned up afterwards (Redis itself: see `redis_url`)."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisHandle(redis_url, client, prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def recorded_samples():
    """The recorded upstream answers beside the project, which only the fidelity tests read: outside CI
    their absence skips those tests, saying so; under CI it fails them."""
    samples = shared_samples_dir()
    require_part(
        samples.is_dir(),
        "the directory of recorded upstream answers",
        f"expected at {samples} (set PORTAL_UPSTREAM_SAMPLES)",
    )
