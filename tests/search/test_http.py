"""The HTTP layer: deadlines, byte cap, redirects, retries, secrets in logs,
connection reuse and NCBI's request rate."""

from __future__ import annotations

import email.utils
import logging
import multiprocessing
import socket
import threading
import time
import traceback

import pytest

from portal.search.errors import UpstreamError
from portal.search.http import HttpClient, LocalRateLimiter, RedisRateLimiter, limiter_redis_client, ncbi_rate_limiter
from portal.search.providers import ProviderSettings, PubMedProvider

from .conftest import EFETCH_PATH, SEARCH_PATHS
from .upstream_server import CUT, DRIP, HUGE, HUGE_DECLARED

PATH = "/api/thing"


@pytest.fixture
def client(upstream):
    clients = []

    def build(**options) -> HttpClient:
        options.setdefault("read_timeout", 5.0)
        http = HttpClient(upstream.url, source="test", **options)
        clients.append(http)
        return http

    yield build
    for http in clients:
        http.close()


def in_seconds(seconds: float) -> float:
    return time.monotonic() + seconds


def test_total_deadline_holds_against_a_trickling_body(client, upstream):
    # Every byte arrives well within the 5 s read timeout, but the whole body
    # would take 20 s: only a wall-clock deadline stops it.
    upstream.add(PATH, body=b"x" * 400, behaviour=DRIP, drip_ms=50)
    started = time.monotonic()

    with pytest.raises(UpstreamError, match="^timeout:"):
        client().get(PATH, {}, deadline=in_seconds(0.5))

    assert time.monotonic() - started < 2.0  # the body alone would take 20 s


def test_deadline_holds_while_waiting_for_headers(client, upstream):
    upstream.add(PATH, body=b"{}", delay_ms=3000)
    started = time.monotonic()

    with pytest.raises(UpstreamError, match="^timeout:"):
        client().get(PATH, {}, deadline=in_seconds(0.4))

    assert time.monotonic() - started < 2.0  # the headers come only after 3 s


def test_body_within_deadline_is_returned_whole(client, upstream):
    upstream.add(PATH, body=b'{"ok": true}', behaviour=DRIP, drip_ms=5)

    response = client().get(PATH, {}, deadline=in_seconds(3))

    assert (response.status, response.json()) == (200, {"ok": True})


@pytest.mark.parametrize("behaviour", [HUGE, HUGE_DECLARED])
def test_byte_cap(client, upstream, behaviour):
    upstream.add(PATH, behaviour=behaviour, huge_bytes=3 * 1024 * 1024)

    with pytest.raises(UpstreamError, match="^too_large:"):
        client(max_bytes=1024 * 1024).get(PATH, {}, deadline=in_seconds(3))


def test_cut_connection(client, upstream):
    upstream.add(PATH, body=b'{"a": "' + b"y" * 50000 + b'"}', behaviour=CUT)

    with pytest.raises(UpstreamError, match="^upstream_unavailable:"):
        client().get(PATH, {}, deadline=in_seconds(3))


def test_redirect_to_another_host_is_not_followed(client, upstream, connections):
    upstream.add(PATH, status=302, headers={"Location": "http://127.0.0.2:9/steal"})

    with pytest.raises(UpstreamError, match="^bad_response:"):
        client().get(PATH, {}, deadline=in_seconds(3))

    assert {address[:2] for address in connections} == {(upstream.host, upstream.port)}


def test_connection_refused(upstream):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    http = HttpClient(f"http://127.0.0.1:{closed_port}", source="test")

    with pytest.raises(UpstreamError, match="^upstream_unavailable:"):
        http.get(PATH, {}, deadline=in_seconds(2))
    http.close()


def test_retries_503_then_succeeds(client, upstream):
    upstream.add(PATH, body=b'{"ok": 1}')
    upstream.add(PATH, body=b"busy", status=503, content_type="text/plain", times=2)

    response = client(max_retries=2).get(PATH, {}, deadline=in_seconds(5))

    assert response.status == 200
    assert len(upstream.requests_to(PATH)) == 3


def test_honours_retry_after_seconds(client, upstream):
    upstream.add(PATH, body=b'{"ok": 1}')
    upstream.add(PATH, status=429, headers={"Retry-After": "1"}, times=1)
    started = time.monotonic()

    response = client(max_retries=1).get(PATH, {}, deadline=in_seconds(4))

    first, second = upstream.requests_to(PATH)
    assert response.status == 200
    assert second.at - first.at >= 0.95
    assert time.monotonic() - started < 2


def test_honours_retry_after_date(client, upstream):
    upstream.add(PATH, body=b'{"ok": 1}')
    upstream.add(
        PATH, status=503, headers={"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)}, times=1
    )

    response = client(max_retries=1).get(PATH, {}, deadline=in_seconds(6))

    first, second = upstream.requests_to(PATH)
    assert response.status == 200
    # HTTP dates have whole seconds: the wait is between 1 and 2 s.
    assert second.at - first.at >= 0.9


def test_retry_after_beyond_the_deadline_gives_up_at_once(client, upstream):
    upstream.add(PATH, status=429, headers={"Retry-After": "30"})
    started = time.monotonic()

    response = client(max_retries=3).get(PATH, {}, deadline=in_seconds(2))

    assert response.status == 429
    assert len(upstream.requests_to(PATH)) == 1
    assert time.monotonic() - started < 1.5  # not the 30 s the upstream asked for


def test_other_errors_are_not_retried(client, upstream):
    upstream.add(PATH, status=500, body=b"oops", content_type="text/plain")

    response = client(max_retries=3).get(PATH, {}, deadline=in_seconds(3))

    assert response.status == 500
    assert len(upstream.requests_to(PATH)) == 1


def test_connections_are_reused(client, upstream):
    upstream.add(PATH, body=b"{}")
    http = client()

    for _ in range(3):
        http.get(PATH, {"q": "x"}, deadline=in_seconds(2))

    assert len({request.client_port for request in upstream.requests_to(PATH)}) == 1


def test_query_text_is_only_a_parameter(client, upstream, connections):
    upstream.add(PATH, body=b"{}")
    hostile = "http://127.0.0.2:9/x?a=1&b=2#frag ../../etc"

    client().get(PATH, {"q": hostile}, deadline=in_seconds(2))

    [request] = upstream.requests_to(PATH)
    assert request.param("q") == hostile
    assert {address[:2] for address in connections} == {(upstream.host, upstream.port)}


@pytest.mark.parametrize("base_url", ["ftp://example.org", "example.org/api", "https://example.org/api?x=1"])
def test_base_url_must_be_plain_http(base_url):
    with pytest.raises(ValueError):
        HttpClient(base_url, source="test")


# --- API keys never logged ---------------------------------------------------


NCBI_KEY = "ncbi-SECRET-4f9c2e"
OPENALEX_KEY = "oa/SECRET+7b1d"  # characters that URL encoding changes


def all_log_text(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records) + caplog.text


def test_api_keys_never_reach_the_logs(make_provider, upstream, caplog):
    caplog.set_level(logging.DEBUG)

    make_provider("pubmed", api_key=NCBI_KEY).search("asthma")
    make_provider("openalex", api_key=OPENALEX_KEY).search("asthma")

    # The keys were really sent...
    assert upstream.requests_to(SEARCH_PATHS["pubmed"])[0].param("api_key") == NCBI_KEY
    assert upstream.requests_to(SEARCH_PATHS["openalex"])[0].param("api_key") == OPENALEX_KEY
    # ...urllib3 really logged the request lines at DEBUG...
    request_lines = [
        r.getMessage() for r in caplog.records if r.name.startswith("urllib3") and "esearch.fcgi" in r.getMessage()
    ]
    assert request_lines and all("[redacted]" in line for line in request_lines)
    # ...and no form of a key is in any of it.
    text = all_log_text(caplog)
    for secret in (NCBI_KEY, OPENALEX_KEY, "oa%2FSECRET%2B7b1d", "SECRET"):
        assert secret not in text


def test_api_keys_stay_out_of_failure_messages_and_tracebacks(caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = PubMedProvider(ProviderSettings(base_url=f"http://127.0.0.1:{closed_port}/eutils", api_key=NCBI_KEY))

    with pytest.raises(UpstreamError) as caught:
        provider.search("asthma")
    provider.close()

    assert caught.value.code == "upstream_unavailable"
    assert NCBI_KEY not in "".join(traceback.format_exception(caught.value))
    assert NCBI_KEY not in all_log_text(caplog)
    assert NCBI_KEY not in repr(provider.settings)


# --- request rate --------------------------------------------------------------


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for other in times[i:] if other - start < 1.0) for i, start in enumerate(times))


def fire_concurrently(calls) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.slow
@pytest.mark.timed
def test_ncbi_limit_in_process_holds_three_per_second(make_provider, upstream):
    upstream.add(EFETCH_PATH, "pubmed/efetch_no_articles.xml")
    provider = make_provider("pubmed", total_timeout=10)  # default limiter: no key, in process

    fire_concurrently([lambda: provider.fetch_abstract("1")] * 7)

    times = [request.at for request in upstream.requests_to(EFETCH_PATH)]
    assert len(times) == 7
    assert most_in_one_second(times) <= 3


@pytest.mark.slow
@pytest.mark.timed
def test_ncbi_limit_via_redis_holds_across_limiter_instances(make_provider, upstream, redis_handle):
    upstream.add(EFETCH_PATH, "pubmed/efetch_no_articles.xml")
    # Two providers with separate limiter objects and Redis connections, as in
    # two worker processes: only the shared Redis key coordinates them.
    providers = [
        make_provider(
            "pubmed", total_timeout=10, limiter=ncbi_rate_limiter(None, redis_handle.url, redis_handle.prefix)
        )
        for _ in range(2)
    ]

    fire_concurrently([lambda p=p: p.fetch_abstract("1") for p in providers for _ in range(4)])

    times = [request.at for request in upstream.requests_to(EFETCH_PATH)]
    assert len(times) == 8
    assert most_in_one_second(times) <= 3


def _acquire_in_subprocess(redis_url: str, prefix: str, count: int, ready, go, results) -> None:
    limiter = ncbi_rate_limiter(None, redis_url, prefix)
    ready.put(True)
    go.wait(10)
    for _ in range(count):
        limiter.acquire(time.monotonic() + 10)
        results.put(time.time())


@pytest.mark.slow
@pytest.mark.timed
def test_ncbi_limit_via_redis_holds_across_processes(redis_handle):
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(
            target=_acquire_in_subprocess, args=(redis_handle.url, redis_handle.prefix, 3, ready, go, results)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=60)  # spawning a Python process is slow on a loaded machine
    go.set()  # both processes race for the same window from here
    for worker in workers:
        worker.join(timeout=60)

    times = [results.get(timeout=10) for _ in range(6)]
    assert all(worker.exitcode == 0 for worker in workers)
    assert most_in_one_second(times) <= 3


def test_limiter_with_a_key_allows_ten_per_window(redis_handle):
    assert ncbi_rate_limiter("key").limit == 10
    assert ncbi_rate_limiter(None).limit == 3
    limiter = ncbi_rate_limiter("key", redis_handle.url, redis_handle.prefix)
    started = time.monotonic()

    for _ in range(10):
        limiter.acquire(in_seconds(5))

    assert time.monotonic() - started < 1.0  # ten went through without waiting out a 1.1 s window
    with pytest.raises(UpstreamError, match="^rate_limited:"):
        limiter.acquire(in_seconds(0.3))  # the 11th would have to wait ~1.1 s


def test_local_limiter_refuses_rather_than_overrun_the_deadline():
    limiter = LocalRateLimiter(1, period=10)
    limiter.acquire(in_seconds(1))
    started = time.monotonic()

    with pytest.raises(UpstreamError, match="^rate_limited:"):
        limiter.acquire(in_seconds(1))

    assert time.monotonic() - started < 0.5  # waiting would have taken 10 s


def test_redis_limiter_falls_back_to_the_process_when_redis_is_down(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    limiter = RedisRateLimiter(
        limiter_redis_client(f"redis://127.0.0.1:{closed_port}/0"), "test:down", limit=2, period=10
    )
    started = time.monotonic()

    limiter.acquire(in_seconds(1))
    limiter.acquire(in_seconds(1))
    with pytest.raises(UpstreamError, match="^rate_limited:"):
        limiter.acquire(in_seconds(1))

    # An outage costs almost no time (redis-py's own retries take seconds) and is logged once.
    assert time.monotonic() - started < 1.5
    assert len([r for r in caplog.records if "Redis unavailable" in r.getMessage()]) == 1
