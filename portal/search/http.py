"""HTTP access to the upstream APIs.

One ``HttpClient`` per provider owns one ``requests.Session`` (connection
reuse across searches) and enforces what ``requests`` alone does not:

- a total wall-clock deadline per call: ``requests`` timeouts bound each
  socket operation, so a server trickling bytes could hold a worker for ever.
  The body is streamed, checked against the deadline after every chunk, and a
  timer shuts the socket down at the deadline to unblock a read in progress;
- a byte cap on the body (``too_large``);
- no redirects (a redirect could lead the server to a host nobody configured);
- retries with back-off for 429/503 only, honouring ``Retry-After`` but never
  sleeping past the deadline. Every call is a GET or a read-only query sent as
  a POST (the rubricator's list call), so retrying is safe;
- API keys never reach a log line: urllib3 logs full URLs at DEBUG, so a
  filter on its loggers redacts every registered secret, and our own messages
  and exceptions never include a URL.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import quote, quote_plus, urlsplit

import redis
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from .errors import UpstreamError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
CHUNK_SIZE = 16 * 1024
BACKOFF_BASE_SECONDS = 0.5
# A retry that would start with less time than this left cannot finish anyway.
MIN_ATTEMPT_SECONDS = 0.2
RETRY_STATUSES = frozenset({429, 503})

# NCBI counts requests as they arrive; network jitter can bring two of ours
# closer together than we sent them, so the window is widened a little.
NCBI_WINDOW_SECONDS = 1.1
NCBI_RATE_WITHOUT_KEY = 3
NCBI_RATE_WITH_KEY = 10
# A limiter call must cost a fraction of a second even when Redis is down
# (redis-py's default retries take seconds), and after a failure Redis is left
# alone for a while instead of being retried on every request.
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_RETRY_AFTER_SECONDS = 5.0

_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "urllib3.response",
)
_REDACTED = "[redacted]"


class _SecretRedactor(logging.Filter):
    """Rewrites log records that contain a registered secret."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            # urllib3 logs the encoded URL, so the encoded forms are secrets too.
            self._secrets = self._secrets | {secret, quote_plus(secret), quote(secret, safe="")}

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if secrets:
            message = record.getMessage()
            if any(secret in message for secret in secrets):
                record.msg, record.args = self.redact(message), None
        return True


_redactor = _SecretRedactor()
for _name in _URLLIB3_LOGGERS:
    # A filter on a parent logger does not see its children's records, so
    # each urllib3 module logger gets its own.
    logging.getLogger(_name).addFilter(_redactor)


def register_secret(secret: str | None) -> None:
    """Keep ``secret`` out of every urllib3 log line from now on."""
    if secret:
        _redactor.add(secret)


class RateLimiter(Protocol):
    def acquire(self, deadline: float) -> None:
        """Block until a request may be sent; raise ``rate_limited`` if that
        would be after ``deadline`` (a ``time.monotonic()`` value)."""


def _budget_exhausted() -> UpstreamError:
    return UpstreamError("rate_limited", "too many requests to this source right now; try again shortly")


class LocalRateLimiter:
    """At most ``limit`` requests in any ``period`` seconds within this process.

    Thread-safe. Use it only where one process talks to the upstream; several
    workers need ``RedisRateLimiter``.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, deadline: float) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - self.period:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                wait = self._sent[0] + self.period - now
            if now + wait >= deadline:
                raise _budget_exhausted()
            time.sleep(wait)


# Sliding window in a sorted set, atomically: drop entries older than the
# window, admit if there is room, else say how long until the oldest expires.
# Redis's own clock is used so that machines with skewed clocks agree.
_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_us)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window_us / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window_us - now)
"""


def limiter_redis_client(url: str) -> redis.Redis:
    """A Redis client that fails fast, for ``RedisRateLimiter``."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS, retry=None
    )


class RedisRateLimiter:
    """At most ``limit`` requests in any ``period`` seconds across every
    process that shares the Redis key.

    If Redis cannot be reached the limiter falls back to a per-process window
    (and logs it) for ``REDIS_RETRY_AFTER_SECONDS``: searches keep working, at
    worst the upstream answers 429. Give it a client from
    ``limiter_redis_client`` so that an outage costs little time.
    """

    def __init__(self, client: redis.Redis, key: str, limit: int, period: float = 1.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.key = key
        self.limit = limit
        self.period = period
        self._script = client.register_script(_SLIDING_WINDOW_LUA)
        self._fallback = LocalRateLimiter(limit, period)
        self._redis_retry_at: float | None = None

    def acquire(self, deadline: float) -> None:
        window_us = int(self.period * 1_000_000)
        while True:
            if self._redis_retry_at is not None and time.monotonic() < self._redis_retry_at:
                self._fallback.acquire(deadline)
                return
            try:
                wait_us = int(self._script(keys=[self.key], args=[self.limit, window_us, uuid.uuid4().hex]))
            except redis.RedisError as exc:
                if self._redis_retry_at is None:
                    logger.warning(
                        "rate limiter %s: Redis unavailable (%s); limiting per process", self.key, type(exc).__name__
                    )
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
                continue
            if self._redis_retry_at is not None:
                logger.warning("rate limiter %s: Redis reachable again", self.key)
                self._redis_retry_at = None
            if wait_us == 0:
                return
            wait = wait_us / 1_000_000
            if time.monotonic() + wait >= deadline:
                raise _budget_exhausted()
            time.sleep(wait)


def ncbi_rate_limiter(
    api_key: str | None, redis_url: str | None = None, key_prefix: str = "portal:search:"
) -> RateLimiter:
    """NCBI's etiquette: 3 requests/s without an API key, 10 with one,
    shared by every process when a Redis URL is given."""
    limit = NCBI_RATE_WITH_KEY if api_key else NCBI_RATE_WITHOUT_KEY
    if redis_url is None:
        return LocalRateLimiter(limit, NCBI_WINDOW_SECONDS)
    return RedisRateLimiter(limiter_redis_client(redis_url), f"{key_prefix}ratelimit:ncbi", limit, NCBI_WINDOW_SECONDS)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: CaseInsensitiveDict
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    @property
    def is_html(self) -> bool:
        return self.media_type in ("text/html", "application/xhtml+xml") or self.body.lstrip()[:15].lower().startswith(
            (b"<!doctype html", b"<html")
        )

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        if self.is_html:
            raise UpstreamError("bad_response", "an HTML page came where JSON was expected")
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise UpstreamError("bad_response", "the answer is not valid JSON") from None


class _SocketWatchdog:
    """Shuts a socket down at the deadline so that a blocked read returns."""

    def __init__(self, sock: socket.socket | None, delay: float) -> None:
        self.fired = threading.Event()
        self._sock = sock
        self._timer = threading.Timer(max(0.0, delay), self._fire) if sock is not None else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        with contextlib.suppress(OSError):  # already closed: the read it would unblock has ended
            self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _connection_socket(response: requests.Response) -> socket.socket | None:
    connection = getattr(response.raw, "connection", None)
    return getattr(connection, "sock", None)


class HttpClient:
    """GET requests (and read-only POST queries) to one upstream API root."""

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        connect_timeout: float = 3.05,
        read_timeout: float = 8.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_retries: int = 2,
        limiter: RateLimiter | None = None,
        user_agent: str = "GrowthRoomPortal/1.0",
        secrets: tuple[str, ...] = (),
        pool_size: int = 16,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"{source}: base URL must be an absolute http(s) URL without query: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.limiter = limiter
        for secret in secrets:
            register_secret(secret)

        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        # Upstream cookies would be shared by every user of this process.
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def get(
        self, path: str, params: Mapping[str, Any], *, deadline: float, accept: str = "application/json"
    ) -> HttpResponse:
        """GET ``base_url + path``; returns any status, raises ``UpstreamError``
        for transport failures, the deadline, the byte cap and redirects."""
        return self._request("GET", path, params, None, deadline, accept)

    def post_json(
        self, path: str, params: Mapping[str, Any], body: Any, *, deadline: float, accept: str = "application/json"
    ) -> HttpResponse:
        """POST ``body`` as JSON to ``base_url + path``, for upstreams whose queries
        are POSTs that change nothing; otherwise as ``get``."""
        return self._request("POST", path, params, body, deadline, accept)

    def _request(
        self, method: str, path: str, params: Mapping[str, Any], body: Any, deadline: float, accept: str
    ) -> HttpResponse:
        if not path.startswith("/") or "//" in path or "?" in path or "#" in path:
            raise ValueError(f"invalid API path {path!r}")
        attempt = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire(deadline)
            response = self._send_once(method, path, params, body, deadline, accept)
            if response.status not in RETRY_STATUSES or attempt >= self.max_retries:
                return response
            delay = self._retry_delay(response, attempt)
            if time.monotonic() + delay + MIN_ATTEMPT_SECONDS >= deadline:
                return response
            logger.info("%s %s answered %s; retrying in %.2f s", self.source, path, response.status, delay)
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _retry_delay(response: HttpResponse, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            retry_after = retry_after.strip()
            if retry_after.isdigit():
                return float(retry_after)
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, when.timestamp() - time.time())
        # Full jitter keeps many workers from retrying in lock-step.
        return random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt)

    def _send_once(
        self, method: str, path: str, params: Mapping[str, Any], body: Any, deadline: float, accept: str
    ) -> HttpResponse:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UpstreamError("timeout", "no time left for the request")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=body,
                headers={"Accept": accept},
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise UpstreamError("timeout", "the source did not answer in time") from None
        except (requests.RequestException, OSError) as exc:
            # The exception text names the URL (and so any API key): drop it.
            logger.warning("%s %s: request failed (%s)", self.source, path, type(exc).__name__)
            raise UpstreamError("upstream_unavailable", "could not connect to the source") from None
        with response:
            if 300 <= response.status_code < 400:
                raise UpstreamError(
                    "bad_response",
                    f"the source answered with a redirect ({response.status_code}), which is not followed",
                )
            body = self._read_body(response, path, deadline)
            return HttpResponse(response.status_code, response.headers, body)

    def _read_body(self, response: requests.Response, path: str, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise UpstreamError("too_large", f"the answer is larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        watchdog = _SocketWatchdog(_connection_socket(response), deadline - time.monotonic())
        try:
            for chunk in response.iter_content(CHUNK_SIZE):
                size += len(chunk)
                if size > self.max_bytes:
                    raise UpstreamError("too_large", f"the answer is larger than {self.max_bytes} bytes")
                if time.monotonic() >= deadline:
                    raise UpstreamError("timeout", "the answer did not arrive completely in time")
                chunks.append(chunk)
        except (requests.RequestException, OSError) as exc:
            if watchdog.fired.is_set() or time.monotonic() >= deadline:
                raise UpstreamError("timeout", "the answer did not arrive completely in time") from None
            logger.warning("%s %s: connection broken while reading (%s)", self.source, path, type(exc).__name__)
            raise UpstreamError("upstream_unavailable", "the connection broke before the answer was complete") from None
        finally:
            watchdog.cancel()
        # A shut-down socket can look like a normal end of a body without length.
        if watchdog.fired.is_set():
            raise UpstreamError("timeout", "the answer did not arrive completely in time")
        return b"".join(chunks)
