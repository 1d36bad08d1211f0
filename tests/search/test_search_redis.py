"""With Redis (several workers and machines), identical searches and the
per-user search limit are shared by every server."""

import pytest
import redis

from portal import create_app
from portal.extensions import db
from tests.conftest import ApiClient, make_config, redis_config

from .portal_search_setup import SEARCH_PATHS, api, clinic_doctor, config_overrides  # noqa: F401  (fixtures)


@pytest.fixture
def search_settings(redis_url):
    return {**redis_config(redis_url), "SEARCH_RATE_LIMIT": "30 per minute"}


@pytest.fixture
def other_server(app, database_url, config_overrides):
    """A second app on the same database and Redis, as another gunicorn worker or machine."""
    server = create_app(make_config(database_url, **config_overrides))
    yield ApiClient(server.test_client(), None)
    with server.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_search_cached_by_one_server_is_answered_by_another(api, other_server, upstream):
    other_server.token = api.token
    first = api.get("/api/v1/search?q=ecology&sources=crossref")
    repeat = other_server.get("/api/v1/search?q=ecology&sources=crossref")

    assert first.get_json()["cached"] is False
    assert repeat.status_code == 200 and repeat.get_json()["cached"] is True
    assert repeat.get_json()["results"] == first.get_json()["results"]
    assert len(upstream.requests_to(SEARCH_PATHS["crossref"])) == 1


def test_the_per_user_limit_counts_searches_on_every_server(app, api, other_server, upstream):
    other_server.token = api.token
    answers = [
        (api if number % 2 else other_server).get("/api/v1/search?q=ecology&sources=crossref").status_code
        for number in range(30)
    ]
    refused = api.get("/api/v1/search?q=ecology&sources=crossref")

    assert answers == [200] * 30
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    # Counted under this deployment's key prefix: another deployment on the same Redis keeps its own counts.
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    assert list(client.scan_iter(match=f"*{app.config['RATELIMIT_KEY_PREFIX']}*search*"))
