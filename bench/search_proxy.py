"""Search proxy: parallel fan-out and the cached repeat.

A replay server (tests/search/upstream_server.py) answers every upstream call
after 200 ms. Measured in one run against one gunicorn server:

- the median latency of a search over four sources vs over one source,
  sequential requests with a fresh query each (no cache): parallel fan-out
  keeps the ratio near 1 (target ≤ 1.25). PubMed needs two calls in a row
  (esearch, then esummary), so the four one-call sources are compared with
  one of them; PubMed's own figure is printed for reference;
- the throughput of a cached repeat vs /healthz under wrk, 32 connections
  (target ≥ 50 %);
- both again with the clinical guidelines (source ``minzdrav``) added: it is
  searched in the portal's own catalogue (1,500 guidelines loaded with
  ``sync-guidelines --from-file`` before the run), so it must add nothing
  noticeable to either figure.

Both run on PostgreSQL (the production database; BENCH_SEARCH_DATABASE_URL,
default database ``portal_bench_search``, emptied and migrated each run), once
with the in-process cache and rate-limit storage and once with Redis
(BENCH_REDIS_URL, as city deployments run; a unique key prefix per run,
removed afterwards). The Redis run is skipped, saying so, when Redis is not
reachable. Request logging stays off as in bench/harness.py.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import ROOT, ensure_postgres_database, gunicorn_server, migrate, print_table, wrk

sys.path.insert(0, str(ROOT))
from tests.search.conftest import API_ROOTS, DEFAULT_SAMPLES  # noqa: E402
from tests.search.upstream_server import UpstreamServer  # noqa: E402

UPSTREAM_DELAY_MS = 200
SEQUENTIAL_REQUESTS = 20
FOUR_SOURCES = "europepmc,crossref,clinicaltrials,openalex"
WITH_GUIDELINES = FOUR_SOURCES + ",minzdrav"
CATALOGUE_SIZE = 1500
ONE_SOURCE = "europepmc"
DATABASE_URL = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_search"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _flask(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "portal", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _guidelines_list(path):
    """The rubricator's list answer, as an admin would save it, with CATALOGUE_SIZE guidelines made from the
    project's own sample page (each a distinct code, version and title)."""
    page = json.loads((ROOT / "tests/search/samples/minzdrav/list_page1.json").read_text("utf-8"))
    samples = page["Data"]
    items = []
    for number in range(CATALOGUE_SIZE):
        item = dict(samples[number % len(samples)])
        code = 5000 + number
        item.update(Id=20000 + number, Code=code, CodeVersion=f"{code}_1", Version=1, Name=f"{item['Name']} ({number})")
        items.append(item)
    path.write_text(json.dumps({"Data": items, "TotalRecords": len(items)}, ensure_ascii=False), "utf-8")


def _api_token(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret"}
    _flask(env, "seed-demo")
    with tempfile.TemporaryDirectory() as folder:
        saved_list = Path(folder) / "guidelines.json"
        _guidelines_list(saved_list)
        _flask(env, "sync-guidelines", "--from-file", str(saved_list))
    return _flask(env, "create-token", "--email", "doctor@dgp94.demo.portal").strip().splitlines()[-1].split()[-1]


def _median_ms(base_url, token, sources, label):
    timings = []
    for number in range(SEQUENTIAL_REQUESTS):
        query = urlencode({"q": f"{label} bench {number} {time.time_ns()}", "sources": sources})
        request = urllib.request.Request(
            f"{base_url}/api/v1/search?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200 or b'"status":"error"' in body.replace(b" ", b""):
            raise RuntimeError(f"search failed during the benchmark: {body[:300]!r}")
    return statistics.median(timings)


def _reset_database(url):
    """An empty, migrated benchmark database (never the tests' one)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if not name.startswith("portal_bench"):
        raise RuntimeError(f"refusing to empty {name!r}: the search benchmark only uses portal_bench* databases")
    ensure_postgres_database(url)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    migrate(url)


def _redis_reachable(url):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        return client
    except redis.RedisError:
        return None


def _fill_caches(cached_url, headers):
    """Every worker fills its own in-process cache: repeat until ten answers in a row came from the cache."""
    in_a_row = 0
    for _ in range(100):
        with urllib.request.urlopen(urllib.request.Request(cached_url, headers=headers), timeout=30) as answer:
            in_a_row = in_a_row + 1 if json.load(answer)["cached"] else 0
        if in_a_row == 10:
            return
    raise RuntimeError("the repeated search is not answered from the cache")


def _measure(args, token, env, label):
    headers = {"Authorization": f"Bearer {token}"}
    with gunicorn_server(DATABASE_URL, workers=2, env=env) as base_url:
        _median_ms(base_url, token, ONE_SOURCE, "warm-up")
        one = _median_ms(base_url, token, ONE_SOURCE, "one")
        four = _median_ms(base_url, token, FOUR_SOURCES, "four")
        five = _median_ms(base_url, token, WITH_GUIDELINES, "five")
        pubmed = _median_ms(base_url, token, "pubmed", "pubmed")

        cached = {}
        for sources in (FOUR_SOURCES, WITH_GUIDELINES):
            cached_url = f"{base_url}/api/v1/search?" + urlencode({"q": "cached repeat", "sources": sources})
            _fill_caches(cached_url, headers)
            cached[sources] = wrk(cached_url, connections=32, seconds=args.seconds, headers=headers)
        health = wrk(base_url + "/healthz", connections=32, seconds=args.seconds)
    print_table(
        f"search_proxy ({label}): upstream delay {UPSTREAM_DELAY_MS} ms, "
        f"{SEQUENTIAL_REQUESTS} sequential searches each",
        [
            {"measure": f"median latency, 1 source ({ONE_SOURCE})", "value": one, "ratio": None, "target": None},
            {"measure": "median latency, 4 sources", "value": four, "ratio": four / one, "target": "≤ 1.25"},
            {
                "measure": "median latency, 4 sources + guidelines",
                "value": five,
                "ratio": five / one,
                "target": "≤ 1.25",
            },
            {"measure": "median latency, pubmed (2 calls in a row)", "value": pubmed, "ratio": None, "target": None},
        ],
        columns=["measure", "value", "ratio", "target"],
    )
    rows = [
        {
            "endpoint": "/healthz",
            "rps": health["rps"],
            "p50_ms": health["p50_ms"],
            "p99_ms": health["p99_ms"],
            "errors": health["errors"],
            "ratio": None,
            "target": None,
        }
    ]
    for sources, name in (
        (FOUR_SOURCES, "search, cached repeat"),
        (WITH_GUIDELINES, "search + guidelines, cached repeat"),
    ):
        result = cached[sources]
        rows.append(
            {
                "endpoint": name,
                "rps": result["rps"],
                "p50_ms": result["p50_ms"],
                "p99_ms": result["p99_ms"],
                "errors": result["errors"],
                "ratio": result["rps"] / health["rps"],
                "target": "≥ 0.50",
            }
        )
    print_table(f"search_proxy ({label}): wrk, 32 connections, 2 gunicorn workers", rows)


def run(args):
    upstream = UpstreamServer().start()
    for path, sample in DEFAULT_SAMPLES.items():
        upstream.add(path, sample, delay_ms=UPSTREAM_DELAY_MS)
    try:
        _reset_database(DATABASE_URL)
        token = _api_token(DATABASE_URL)
        env = {f"PORTAL_{name.upper()}_BASE_URL": upstream.url + root for name, root in API_ROOTS.items()}
        # The per-user limit would otherwise answer most of the load with 429.
        env["PORTAL_SEARCH_RATE_LIMIT"] = "1000000 per minute"
        env["PORTAL_CACHE_PREFIX"] = f"bench-search-{uuid.uuid4().hex}:"
        server_env = {**env, "REDIS_URL": ""}
        _measure(args, token, server_env, "PostgreSQL, in-process cache")
        client = _redis_reachable(REDIS_URL)
        if client is None:
            print(f"\nsearch_proxy: Redis at {REDIS_URL} is not reachable; the Redis run is skipped")
            return
        prefix = f"bench-search-{uuid.uuid4().hex}:"
        try:
            _measure(args, token, {**env, "REDIS_URL": REDIS_URL, "PORTAL_CACHE_PREFIX": prefix}, "PostgreSQL, Redis")
        finally:
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
            client.close()
    finally:
        upstream.stop()
