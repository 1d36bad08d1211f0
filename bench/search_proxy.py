"""Search proxy: parallel fan-out and the cached repeat.

A replay server (tests/search/upstream_server.py) answers every upstream call
after 200 ms. Measured in one run against one gunicorn server:

- the median latency of a search over four sources vs over one source,
  sequential requests with a fresh query each (no cache): parallel fan-out
  keeps the ratio near 1 (target ≤ 1.25). PubMed needs two calls in a row
  (esearch, then esummary), so the four one-call sources are compared with
  one of them; PubMed's own figure is printed for reference;
- the throughput of a cached repeat vs /healthz under wrk, 32 connections
  (target ≥ 50 %).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import ROOT, gunicorn_server, migrate, print_table, wrk

sys.path.insert(0, str(ROOT))
from tests.search.conftest import API_ROOTS, DEFAULT_SAMPLES  # noqa: E402
from tests.search.upstream_server import UpstreamServer  # noqa: E402

UPSTREAM_DELAY_MS = 200
SEQUENTIAL_REQUESTS = 20
FOUR_SOURCES = "europepmc,crossref,clinicaltrials,openalex"
ONE_SOURCE = "europepmc"


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "portal", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True).stdout


def _api_token(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret"}
    _flask(env, "seed-demo")
    return _flask(env, "create-token", "--email", "doctor@dgp94.demo.portal").strip().splitlines()[-1].split()[-1]


def _median_ms(base_url, token, sources, label):
    timings = []
    for number in range(SEQUENTIAL_REQUESTS):
        query = urlencode({"q": f"{label} bench {number} {time.time_ns()}", "sources": sources})
        request = urllib.request.Request(f"{base_url}/api/v1/search?{query}",
                                         headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200 or b'"status":"error"' in body.replace(b" ", b""):
            raise RuntimeError(f"search failed during the benchmark: {body[:300]!r}")
    return statistics.median(timings)


def run(args):
    upstream = UpstreamServer().start()
    for path, sample in DEFAULT_SAMPLES.items():
        upstream.add(path, sample, delay_ms=UPSTREAM_DELAY_MS)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = "sqlite:///" + str(Path(tmp) / "bench.sqlite3")
        migrate(database_url)
        token = _api_token(database_url)
        env = {f"PORTAL_{name.upper()}_BASE_URL": upstream.url + root for name, root in API_ROOTS.items()}
        # The per-user limit would otherwise answer most of the load with 429.
        env["PORTAL_SEARCH_RATE_LIMIT"] = "1000000 per minute"
        try:
            with gunicorn_server(database_url, workers=2, env=env) as base_url:
                _median_ms(base_url, token, ONE_SOURCE, "warm-up")
                one = _median_ms(base_url, token, ONE_SOURCE, "one")
                four = _median_ms(base_url, token, FOUR_SOURCES, "four")
                pubmed = _median_ms(base_url, token, "pubmed", "pubmed")

                cached_url = f"{base_url}/api/v1/search?" + urlencode({"q": "cached repeat", "sources": FOUR_SOURCES})
                headers = {"Authorization": f"Bearer {token}"}
                for _ in range(8):  # every worker fills its own in-process cache
                    urllib.request.urlopen(urllib.request.Request(cached_url, headers=headers), timeout=30).read()
                health = wrk(base_url + "/healthz", connections=32, seconds=args.seconds)
                cached = wrk(cached_url, connections=32, seconds=args.seconds, headers=headers)
        finally:
            upstream.stop()
    print_table(f"search_proxy: upstream delay {UPSTREAM_DELAY_MS} ms, {SEQUENTIAL_REQUESTS} sequential searches each",
                [
                    {"measure": f"median latency, 1 source ({ONE_SOURCE})", "value": one, "ratio": None, "target": None},
                    {"measure": "median latency, 4 sources", "value": four, "ratio": four / one, "target": "≤ 1.25"},
                    {"measure": "median latency, pubmed (2 calls in a row)", "value": pubmed, "ratio": None,
                     "target": None},
                ], columns=["measure", "value", "ratio", "target"])
    print_table("search_proxy: wrk, 32 connections, 2 gunicorn workers", [
        {"endpoint": "/healthz", "rps": health["rps"], "p50_ms": health["p50_ms"], "p99_ms": health["p99_ms"],
         "errors": health["errors"], "ratio": None, "target": None},
        {"endpoint": "search, cached repeat", "rps": cached["rps"], "p50_ms": cached["p50_ms"],
         "p99_ms": cached["p99_ms"], "errors": cached["errors"], "ratio": cached["rps"] / health["rps"],
         "target": "≥ 0.50"},
    ])
