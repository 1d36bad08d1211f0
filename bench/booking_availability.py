"""Availability and the room's week and day pages under load, on every deployment the portal supports.

Set-ups: PostgreSQL without Redis, PostgreSQL with Redis, SQLite. PostgreSQL
(BENCH_AVAILABILITY_DATABASE_URL, default database portal_bench_perf, recreated):
50 clinics, 500 rooms, 6,000 workstations, one doctor per workstation, and
bookings generated with INSERT … SELECT generate_series — three a day per
workstation (3½ hours of 12), 42 days back (completed) and 14 ahead (booked),
which the exclusion constraints accept because no two of them overlap per
workstation or per doctor. Phase 1 loads the first 20 rooms' upcoming bookings
(~10,000 rows), phase 2 the rest (~1,000,000). SQLite (a file in a temporary
directory) gets the first 20 rooms and their upcoming bookings through
SQLAlchemy (~10,000 rows; its triggers check every insert).

Each set-up serves the portal with gunicorn (2 workers) and loads it with wrk
(32 connections, `Accept-Encoding` as a browser sends it): the availability of
room 1 for 1 and 7 days with a bearer token, and room 1's week and day pages
with a signed-in doctor's session cookie, each between two runs of /healthz.
Targets: every endpoint ≥ 0.40 of the req/s of the /healthz runs beside it,
p50 growth from 10,000 to 1,000,000 bookings ≤ 1.3, the week page (12
workstations) ≤ 80 KB of HTML.
"""

import gzip
import os
import re
import secrets
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

from bench.harness import ensure_postgres_database, gunicorn_server, migrate, print_table, wrk

DATABASE_URL = os.environ.get(
    "BENCH_AVAILABILITY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_perf"
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-2026"
SLOTS = (
    "(VALUES (interval '9 hours', interval '10 hours'), (interval '12 hours', interval '13 hours'), "
    "(interval '15 hours', interval '16 hours 30 minutes')) AS s(opens, closes)"
)


def _plain_url(url):
    return url.replace("postgresql+psycopg://", "postgresql://")


def build_world(conn, rooms, per_room=12, rooms_per_clinic=10):
    workstations = rooms * per_room
    clinics = rooms // rooms_per_clinic
    conn.execute(
        """INSERT INTO clinics (id, name, short_name, address, timezone, created_at)
        SELECT g, 'Поликлиника ' || g, 'B-' || g, '', 'Europe/Moscow', now() FROM generate_series(1, %s) g""",
        (clinics,),
    )
    conn.execute(
        """INSERT INTO rooms (id, clinic_id, name, location, capacity, slot_minutes, min_minutes, max_minutes,
            horizon_days, max_active, max_daily_minutes, checkin_grace_minutes)
        SELECT g, (g - 1) / %s + 1, 'Кабинет ' || g, '', 12, 15, 15, 240, 14, 3, 240, 15
        FROM generate_series(1, %s) g""",
        (rooms_per_clinic, rooms),
    )
    conn.execute(
        """INSERT INTO opening_hours (room_id, weekday, opens, closes)
        SELECT r, d, '08:00', '20:00' FROM generate_series(1, %s) r, generate_series(0, 6) d""",
        (rooms,),
    )
    conn.execute(
        """INSERT INTO workstations (id, room_id, label, specs, status)
        SELECT w, (w - 1) / %s + 1, 'ПК-' || ((w - 1) %% %s + 1), '', 'active' FROM generate_series(1, %s) w""",
        (per_room, per_room, workstations),
    )
    conn.execute(
        """INSERT INTO users (id, email, full_name, password_hash, clinic_id, active, created_at, email_opt_out)
        SELECT w, 'doctor' || w || '@bench.portal', 'Врач ' || w, '!', (w - 1) / %s + 1, true, now(), ''
        FROM generate_series(1, %s) w""",
        (per_room * rooms_per_clinic, workstations),
    )
    conn.execute(
        "INSERT INTO user_roles (user_id, role) SELECT w, 'doctor' FROM generate_series(1, %s) w", (workstations,)
    )
    for table in ("clinics", "rooms", "workstations", "users"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return workstations


def add_bookings(conn, where, per_room=12):
    """Three bookings a day per workstation (its own doctor), for the (workstation, day) pairs `where` allows."""
    conn.execute(f"""INSERT INTO bookings (user_id, workstation_id, room_id, start_at, end_at, status, created_at)
        SELECT w, w, (w - 1) / {per_room} + 1,
               ((date_trunc('day', now() AT TIME ZONE 'Europe/Moscow') + d * interval '1 day' + s.opens)
                    AT TIME ZONE 'Europe/Moscow'),
               ((date_trunc('day', now() AT TIME ZONE 'Europe/Moscow') + d * interval '1 day' + s.closes)
                    AT TIME ZONE 'Europe/Moscow'),
               CASE WHEN d >= 0 THEN 'booked' WHEN (w + d) % 17 = 0 THEN 'no_show' ELSE 'completed' END, now()
        FROM generate_series(1, (SELECT max(id) FROM workstations)) w, generate_series(-42, 13) d, {SLOTS}
        WHERE {where}""")
    conn.execute("ANALYZE")
    return conn.execute("SELECT count(*) FROM bookings").fetchone()[0]


def credentials(conn):
    """A bearer token and a password for doctor 1 (clinic 1, room 1)."""
    from werkzeug.security import generate_password_hash

    from portal.auth.models import hash_secret

    raw = secrets.token_urlsafe(32)
    conn.execute("UPDATE users SET password_hash = %s WHERE id = 1", (generate_password_hash(PASSWORD),))
    conn.execute(
        "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES (1, %s, 'bench', now())",
        (hash_secret(raw),),
    )
    return raw


def session_cookie(base_url, email="doctor1@bench.portal", password=PASSWORD):
    """The session cookie a browser holds after signing in and landing on its first page (which adds the
    CSRF token to the session)."""
    with requests.Session() as browser:
        browser.headers.update(BROWSER_HEADERS)
        page = browser.get(base_url + "/sign-in").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        browser.post(
            base_url + "/sign-in", data={"csrf_token": token, "email": email, "password": password}
        ).raise_for_status()
        return f"session={browser.cookies['session']}"


# What a browser sends with every request: the encodings it accepts, and the same User-Agent throughout
# (the session's protection marks a session whose User-Agent changed as not fresh, rewriting its cookie).
BROWSER_HEADERS = {
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
}


def browser(base_url, email="doctor1@bench.portal"):
    """A signed-in browser's headers, signed in just before a measurement: the portal rewrites the
    session cookie at most every 30 s (the idle limit's step) and a browser keeps the new one, but wrk
    sends the same cookie throughout, so a cookie older than that would be rewritten on every request."""
    return {"Cookie": session_cookie(base_url, email), **BROWSER_HEADERS}


TARGET_SHARE, TARGET_GROWTH, TARGET_WEEK_KB = 0.40, 1.3, 80
ENDPOINTS = ("availability, 1 day", "availability, 7 days", "week page", "day page")


def sqlite_world(url, rooms, per_room=12):
    """The PostgreSQL world's first `rooms` rooms with their upcoming bookings, written through SQLAlchemy."""
    from sqlalchemy import insert

    from config import config_from_env
    from portal import create_app
    from portal.auth.models import User, UserRole
    from portal.booking.models import Booking
    from portal.clinics.models import Clinic, OpeningHours, Room, Workstation
    from portal.core.time import local_to_utc, to_local
    from portal.extensions import db

    saved, os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL"), url
    try:
        app = create_app(config_from_env())
    finally:
        os.environ.pop("DATABASE_URL")
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        session.execute(
            insert(Clinic),
            [
                {
                    "id": c,
                    "name": f"Поликлиника {c}",
                    "short_name": f"B-{c}",
                    "address": "",
                    "timezone": "Europe/Moscow",
                    "created_at": now,
                }
                for c in range(1, rooms // 10 + 2)
            ],
        )
        session.execute(
            insert(Room),
            [
                {"id": r, "clinic_id": (r - 1) // 10 + 1, "name": f"Кабинет {r}", "location": "", "capacity": 12}
                for r in range(1, rooms + 1)
            ],
        )
        session.execute(
            insert(OpeningHours),
            [
                {
                    "room_id": r,
                    "weekday": d,
                    "opens": datetime(2000, 1, 1, 8).time(),
                    "closes": datetime(2000, 1, 1, 20).time(),
                }
                for r in range(1, rooms + 1)
                for d in range(7)
            ],
        )
        workstations = rooms * per_room
        session.execute(
            insert(Workstation),
            [
                {
                    "id": w,
                    "room_id": (w - 1) // per_room + 1,
                    "label": f"ПК-{(w - 1) % per_room + 1}",
                    "specs": "",
                    "status": "active",
                }
                for w in range(1, workstations + 1)
            ],
        )
        session.execute(
            insert(User),
            [
                {
                    "id": w,
                    "email": f"doctor{w}@bench.portal",
                    "full_name": f"Врач {w}",
                    "password_hash": "!",
                    "clinic_id": ((w - 1) // per_room) // 10 + 1,
                    "active": True,
                    "created_at": now,
                    "email_opt_out": "",
                }
                for w in range(1, workstations + 1)
            ],
        )
        session.execute(insert(UserRole), [{"user_id": w, "role": "doctor"} for w in range(1, workstations + 1)])
        today = to_local(now, "Europe/Moscow").date()
        rows = []
        for w in range(1, workstations + 1):
            for d in range(14):
                day = datetime.combine(today + timedelta(days=d), datetime.min.time())
                for opens, closes in ((9 * 60, 10 * 60), (12 * 60, 13 * 60), (15 * 60, 16 * 60 + 30)):
                    rows.append(
                        {
                            "user_id": w,
                            "workstation_id": w,
                            "room_id": (w - 1) // per_room + 1,
                            "start_at": local_to_utc(day + timedelta(minutes=opens), "Europe/Moscow"),
                            "end_at": local_to_utc(day + timedelta(minutes=closes), "Europe/Moscow"),
                            "status": "booked",
                            "created_at": now,
                        }
                    )
        session.execute(insert(Booking), rows)
        session.commit()
        db.engine.dispose()
    return len(rows)


def sqlite_credentials(url):
    import sqlite3

    from werkzeug.security import generate_password_hash

    from portal.auth.models import hash_secret

    raw = secrets.token_urlsafe(32)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE users SET password_hash = ? WHERE id = 1", (generate_password_hash(PASSWORD),))
        conn.execute(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES (1, ?, 'bench', datetime('now'))",
            (hash_secret(raw),),
        )
    return raw


def page_weight(base_url, cookie):
    """The week page's HTML in KB, as sent plain and gzip-compressed."""
    url = base_url + "/rooms/1/schedule?view=week"
    plain = requests.get(url, headers={**cookie, "Accept-Encoding": "identity"}, timeout=30)
    compressed = requests.get(url, headers={**cookie, "Accept-Encoding": "gzip"}, stream=True, timeout=30)
    sent = compressed.raw.read()
    # The same page but for its CSRF tokens, which are signed anew for every answer.
    assert compressed.headers.get("Content-Encoding") == "gzip"
    assert abs(len(gzip.decompress(sent)) - len(plain.content)) < 200
    return len(plain.content) / 1024, len(sent) / 1024


def measure(setup, database_url, bookings, token, seconds, redis_url=None):
    env = {"PORTAL_CACHE_PREFIX": f"bench-{uuid.uuid4().hex}:", "REDIS_URL": redis_url or ""}
    with gunicorn_server(database_url, workers=2, env=env) as base_url:
        bearer = {"Authorization": f"Bearer {token}", **BROWSER_HEADERS}
        availability = base_url + "/api/v1/rooms/1/availability?days=1"
        requests.get(availability, headers=bearer, timeout=30).raise_for_status()
        raw_kb, compressed_kb = page_weight(base_url, {"Cookie": session_cookie(base_url)})
        endpoints = [
            ("availability, 1 day", availability, bearer),
            ("availability, 7 days", availability.replace("days=1", "days=7"), bearer),
            ("week page", base_url + "/rooms/1/schedule?view=week", None),
            ("day page", base_url + "/rooms/1/schedule?view=day", None),
        ]
        # /healthz is measured before and after each endpoint, which is compared with the mean of the two
        # runs beside it: this machine's speed drifts by more than the margins over a set-up's minute.
        health = [wrk(base_url + "/healthz", seconds=seconds, headers=BROWSER_HEADERS)]
        measured = []
        for name, url, headers in endpoints:
            measured.append((name, wrk(url, seconds=seconds, headers=headers or browser(base_url))))
            health.append(wrk(base_url + "/healthz", seconds=seconds, headers=BROWSER_HEADERS))
    rows = [_row(setup, bookings, "/healthz", _mean_run(health), None)]
    for index, (name, result) in enumerate(measured):
        beside = (health[index]["rps"] + health[index + 1]["rps"]) / 2
        rows.append(_row(setup, bookings, name, result, result["rps"] / beside))
    print_table(
        f"{setup}, {bookings:,} bookings — week page {raw_kb:.1f} KB raw, {compressed_kb:.1f} KB gzip "
        f"(target ≤ {TARGET_WEEK_KB} KB)",
        rows,
    )
    return rows, (setup, bookings, raw_kb, compressed_kb)


def _mean_run(runs):
    def mean(key):
        values = [run[key] for run in runs if run[key] is not None]
        return sum(values) / len(values) if values else None

    errors = sum(run["errors"] for run in runs)
    return {"rps": mean("rps"), "p50_ms": mean("p50_ms"), "p99_ms": mean("p99_ms"), "errors": errors}


def _row(setup, bookings, endpoint, result, share):
    return {
        "set-up": setup,
        "bookings": f"{bookings:,}",
        "endpoint": endpoint,
        "req/s": result["rps"],
        "p50 ms": result["p50_ms"],
        "p99 ms": result["p99_ms"],
        "vs /healthz": 1.0 if share is None else share,
        "target": "" if share is None else ("ok" if share >= TARGET_SHARE else "MISSED"),
        "non-2xx": result["errors"],
    }


def _reset_postgres(url):
    name = url.rsplit("/", 1)[1]
    if not name.startswith("portal_bench"):
        raise RuntimeError(f"refusing to empty {name!r}: benchmarks only use portal_bench* databases")
    ensure_postgres_database(url)
    with psycopg.connect(_plain_url(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(url)


def run(args):
    rooms = 50 if args.quick else 500
    seconds = 3 if args.quick else args.seconds
    first_rooms = 2 if args.quick else 20
    redis_url = REDIS_URL
    results, weights = [], []

    def add(outcome):
        results.extend(outcome[0])
        weights.append(outcome[1])

    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = "sqlite:///" + str(Path(folder) / "bench.sqlite3")
        migrate(sqlite_url)
        sqlite_bookings = sqlite_world(sqlite_url, first_rooms)
        add(measure("SQLite", sqlite_url, sqlite_bookings, sqlite_credentials(sqlite_url), seconds))

    _reset_postgres(DATABASE_URL)
    with psycopg.connect(_plain_url(DATABASE_URL), autocommit=True) as conn:
        build_world(conn, rooms)
        token = credentials(conn)
        small = add_bookings(conn, f"d >= 0 AND w <= {first_rooms * 12}")
    add(measure("PostgreSQL, no Redis", DATABASE_URL, small, token, seconds))
    add(measure("PostgreSQL + Redis", DATABASE_URL, small, token, seconds, redis_url))
    large = None
    if not args.small_only:
        with psycopg.connect(_plain_url(DATABASE_URL), autocommit=True) as conn:
            large = add_bookings(conn, f"NOT (d >= 0 AND w <= {first_rooms * 12})")
        add(measure("PostgreSQL, no Redis", DATABASE_URL, large, token, seconds))
        add(measure("PostgreSQL + Redis", DATABASE_URL, large, token, seconds, redis_url))

    print_table("All set-ups", results)
    print_table(
        "Week page weight (room 1, 12 workstations)",
        [
            {
                "set-up": setup,
                "bookings": f"{bookings:,}",
                "KB raw": raw,
                "KB gzip": packed,
                "target": "ok" if raw <= TARGET_WEEK_KB else "MISSED",
            }
            for setup, bookings, raw, packed in weights
        ],
    )
    if large is None:
        return

    def p50(setup, bookings, endpoint):
        return next(
            r["p50 ms"]
            for r in results
            if (r["set-up"], r["bookings"], r["endpoint"]) == (setup, f"{bookings:,}", endpoint)
        )

    summary = []
    for setup in ("PostgreSQL, no Redis", "PostgreSQL + Redis"):
        for endpoint in ENDPOINTS:
            before, after = p50(setup, small, endpoint), p50(setup, large, endpoint)
            # wrk gives no latency when every request of a run outlived its 2-second timeout.
            growth = after / before if before and after else None
            summary.append(
                {
                    "set-up": setup,
                    "endpoint": endpoint,
                    f"p50 at {small:,}": before,
                    f"p50 at {large:,}": after,
                    "growth": growth,
                    "target": "not measured" if growth is None else "ok" if growth <= TARGET_GROWTH else "MISSED",
                }
            )
    print_table(f"Growth of p50 with the booking table (target ≤ {TARGET_GROWTH})", summary)
