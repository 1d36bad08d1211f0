"""A real local HTTP server that replays upstream answers: the suite's own
(tests/search/samples) or, for the fidelity tests, ones recorded from the
real services (the shared directory beside the project).

Routes match a request by path (and optionally a subset of query
parameters and, for a POST with a JSON body, of its top-level fields); the
most recently added matching route answers, so a test can override the
defaults for one source. Each route can misbehave on purpose:
delay, error status, cut connection, malformed body, huge body, HTML, or a
body trickled byte by byte.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SHARED_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "upstream-samples"
LOCAL_SAMPLES = Path(__file__).resolve().parent / "samples"

CONTENT_TYPES = {
    ".json": "application/json; charset=UTF-8",
    ".xml": "text/xml; charset=UTF-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

# Behaviours a route can have besides answering normally.
CUT = "cut"  # send half the declared body, then drop the connection
MALFORMED = "malformed"  # send the first half of the body as if complete
HUGE = "huge"  # stream `huge_bytes` of filler without a Content-Length
HUGE_DECLARED = "huge_declared"  # announce `huge_bytes` in Content-Length
HTML = "html"  # a 200 text/html maintenance page
DRIP = "drip"  # send the body one byte every `drip_ms`


def shared_samples_dir() -> Path:
    return Path(os.environ.get("PORTAL_UPSTREAM_SAMPLES", SHARED_SAMPLES))


def sample_bytes(name: str) -> bytes:
    """One of this suite's own upstream answers under tests/search/samples ("pubmed/x.json")."""
    return (LOCAL_SAMPLES / name).read_bytes()


def recorded_sample_bytes(name: str) -> bytes:
    """An answer recorded from the real upstream, in the shared directory beside the project."""
    path = shared_samples_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"recorded upstream answer {name!r} not found under {shared_samples_dir()} (set PORTAL_UPSTREAM_SAMPLES)"
        )
    return path.read_bytes()


def content_type_of(name: str) -> str:
    return CONTENT_TYPES[Path(name).suffix]


@dataclass
class Route:
    path: str
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json; charset=UTF-8"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: int = 0
    behaviour: str | None = None
    huge_bytes: int = 6 * 1024 * 1024
    drip_ms: int = 50
    times: int | None = None  # answer this many requests, then stop matching
    json_body: dict = field(default_factory=dict)  # top-level fields a POSTed JSON body must have

    def matches(self, path: str, query: dict[str, list[str]], body: object = None) -> bool:
        if path != self.path or self.times == 0:
            return False
        if self.json_body and not (isinstance(body, dict) and all(body.get(k) == v for k, v in self.json_body.items())):
            return False
        return all(query.get(key, [None])[0] == value for key, value in self.query.items())


@dataclass(frozen=True)
class RecordedRequest:
    at: float  # time.monotonic() when the request line arrived
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    client_port: int
    method: str = "GET"
    body: bytes = b""

    def json(self) -> object:
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class UpstreamServer:
    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="upstream-server", daemon=True
        )

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> UpstreamServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(
        self,
        path: str,
        sample: str | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        **options,
    ) -> Route:
        """Answer requests to ``path`` with ``sample`` (a file under tests/search/samples) or ``body``."""
        if sample is not None:
            body = sample_bytes(sample)
            content_type = content_type or content_type_of(sample)
        route = Route(path, body=body or b"", content_type=content_type or CONTENT_TYPES[".json"], **options)
        with self._lock:
            self._routes.append(route)
        return route

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _route_for(self, path: str, query: dict[str, list[str]], body: object = None) -> Route | None:
        with self._lock:
            for route in reversed(self._routes):
                if route.matches(path, query, body):
                    if route.times is not None:
                        route.times -= 1
                    return route
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
                pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, method: str) -> None:
                arrived = time.monotonic()
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server._record(
                    RecordedRequest(
                        arrived, parts.path, query, dict(self.headers.items()), self.client_address[1], method, body
                    )
                )
                try:
                    body_json = json.loads(body) if body else None
                except ValueError:
                    body_json = None
                route = server._route_for(parts.path, query, body_json)
                if route is None:
                    self._send(404, b"no route", "text/plain", {})
                    return
                if route.delay_ms:
                    time.sleep(route.delay_ms / 1000)
                self._answer(route)

            def _answer(self, route: Route) -> None:
                try:
                    self._misbehave_or_send(route)
                except OSError:
                    self.close_connection = True  # The client gave up (deadline, byte cap).

            def _misbehave_or_send(self, route: Route) -> None:
                body, behaviour = route.body, route.behaviour
                if behaviour == HTML:
                    html = (
                        b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                        b"<body><h1>Down for maintenance</h1></body></html>"
                    )
                    self._send(200, html, "text/html; charset=utf-8", route.headers)
                elif behaviour == MALFORMED:
                    self._send(route.status, body[: len(body) // 2], route.content_type, route.headers)
                elif behaviour == CUT:
                    self._head(route.status, route.content_type, {**route.headers, "Content-Length": str(len(body))})
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                elif behaviour in (HUGE, HUGE_DECLARED):
                    headers = {**route.headers, "Connection": "close"}
                    if behaviour == HUGE_DECLARED:
                        headers["Content-Length"] = str(route.huge_bytes)
                    self._head(route.status, route.content_type, headers)
                    self._write_filler(route.huge_bytes)
                    self.close_connection = True
                elif behaviour == DRIP:
                    self._head(route.status, route.content_type, {**route.headers, "Content-Length": str(len(body))})
                    for index in range(len(body)):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(route.drip_ms / 1000)
                else:
                    self._send(route.status, body, route.content_type, route.headers)

            def _write_filler(self, size: int) -> None:
                chunk = b'{"filler": "' + b"x" * 65000 + b'"},'
                while size > 0:
                    self.wfile.write(chunk[:size])
                    size -= len(chunk)

            def _head(self, status: int, content_type: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
                self._head(status, content_type, {**headers, "Content-Length": str(len(body))})
                self.wfile.write(body)

        return Handler
