"""Availability endpoint and room week page under load, at 10,000 and at 1,000,000 bookings.

Builds on PostgreSQL (database portal_bench, recreated): 50 clinics, 500 rooms,
6,000 workstations, one doctor per workstation, and bookings generated with
INSERT … SELECT generate_series — three a day per workstation, 42 days back
(completed) and 14 ahead (booked), which the exclusion constraints accept
because no two of them overlap per workstation or per doctor. Phase 1 loads the
first 20 rooms' upcoming bookings (~10,000 rows), phase 2 the rest (~1,000,000).

Each phase serves the portal with gunicorn (2 workers) and loads it with wrk
(32 connections): /healthz, the availability endpoint with a bearer token
(Redis cache on, and off so that every request is computed from the
database), and the room's week page with a signed-in session cookie.
"""
import os
import re
import secrets
import uuid

import psycopg
import requests

from bench.harness import BENCH_DB_URL, ensure_postgres_database, gunicorn_server, migrate, print_table, wrk

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-2026"
SLOTS = "(VALUES (interval '9 hours', interval '10 hours'), (interval '12 hours', interval '13 hours'), " \
        "(interval '15 hours', interval '16 hours 30 minutes')) AS s(opens, closes)"


def _plain_url(url):
    return url.replace("postgresql+psycopg://", "postgresql://")


def build_world(conn, rooms, per_room=12, rooms_per_clinic=10):
    workstations = rooms * per_room
    clinics = rooms // rooms_per_clinic
    conn.execute("""INSERT INTO clinics (id, name, short_name, address, timezone, created_at)
        SELECT g, 'Поликлиника ' || g, 'B-' || g, '', 'Europe/Moscow', now() FROM generate_series(1, %s) g""",
                 (clinics,))
    conn.execute("""INSERT INTO rooms (id, clinic_id, name, location, capacity, slot_minutes, min_minutes, max_minutes,
            horizon_days, max_active, max_daily_minutes, checkin_grace_minutes)
        SELECT g, (g - 1) / %s + 1, 'Кабинет ' || g, '', 12, 15, 15, 240, 14, 3, 240, 15
        FROM generate_series(1, %s) g""", (rooms_per_clinic, rooms))
    conn.execute("""INSERT INTO opening_hours (room_id, weekday, opens, closes)
        SELECT r, d, '08:00', '20:00' FROM generate_series(1, %s) r, generate_series(0, 6) d""", (rooms,))
    conn.execute("""INSERT INTO workstations (id, room_id, label, specs, status)
        SELECT w, (w - 1) / %s + 1, 'ПК-' || ((w - 1) %% %s + 1), '', 'active' FROM generate_series(1, %s) w""",
                 (per_room, per_room, workstations))
    conn.execute("""INSERT INTO users (id, email, full_name, password_hash, clinic_id, active, created_at, email_opt_out)
        SELECT w, 'doctor' || w || '@bench.portal', 'Врач ' || w, '!', (w - 1) / %s + 1, true, now(), ''
        FROM generate_series(1, %s) w""", (per_room * rooms_per_clinic, workstations))
    conn.execute("INSERT INTO user_roles (user_id, role) SELECT w, 'doctor' FROM generate_series(1, %s) w",
                 (workstations,))
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
    conn.execute("INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES (1, %s, 'bench', now())",
                 (hash_secret(raw),))
    return raw


def session_cookie(base_url, email="doctor1@bench.portal", password=PASSWORD):
    with requests.Session() as browser:
        page = browser.get(base_url + "/sign-in").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        browser.post(base_url + "/sign-in", data={"csrf_token": token, "email": email,
                                                  "password": password}, allow_redirects=False)
        return f"session={browser.cookies['session']}"


def measure(label, bookings, token, seconds, cached):
    env = {"PORTAL_CACHE_PREFIX": f"bench-{uuid.uuid4().hex}:"}
    if cached:
        env["REDIS_URL"] = REDIS_URL
    rows = []
    with gunicorn_server(BENCH_DB_URL, workers=2, env=env) as base_url:
        bearer = {"Authorization": f"Bearer {token}"}
        availability = base_url + "/api/v1/rooms/1/availability?days=1"
        requests.get(availability, headers=bearer, timeout=30).raise_for_status()
        health = wrk(base_url + "/healthz", seconds=seconds)
        targets = [("/healthz", health),
                   ("availability, 1 day", wrk(availability, seconds=seconds, headers=bearer)),
                   ("availability, 7 days", wrk(availability.replace("days=1", "days=7"), seconds=seconds,
                                                headers=bearer))]
        if cached:
            cookie = {"Cookie": session_cookie(base_url)}
            targets.append(("room week page", wrk(base_url + "/rooms/1/schedule?view=week", seconds=seconds,
                                                  headers=cookie)))
        for name, result in targets:
            rows.append({"bookings": bookings, "cache": "Redis" if cached else "off", "endpoint": name,
                         "req/s": result["rps"], "p50 ms": result["p50_ms"], "p99 ms": result["p99_ms"],
                         "vs /healthz": f"{result['rps'] / health['rps']:.0%}", "non-2xx": result["errors"]})
    print_table(f"{label}: {bookings:,} bookings", rows)
    return rows


def run(args):
    rooms = 50 if args.quick else 500
    seconds = 3 if args.quick else args.seconds
    ensure_postgres_database()
    with psycopg.connect(_plain_url(BENCH_DB_URL), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(BENCH_DB_URL)
    with psycopg.connect(_plain_url(BENCH_DB_URL), autocommit=True) as conn:
        build_world(conn, rooms)
        token = credentials(conn)
        first_rooms = 2 if args.quick else 20
        small = add_bookings(conn, f"d >= 0 AND w <= {first_rooms * 12}")
    results = measure("Phase 1", small, token, seconds, cached=True)
    results += measure("Phase 1", small, token, seconds, cached=False)
    with psycopg.connect(_plain_url(BENCH_DB_URL), autocommit=True) as conn:
        large = add_bookings(conn, f"NOT (d >= 0 AND w <= {first_rooms * 12})")
    results += measure("Phase 2", large, token, seconds, cached=True)
    results += measure("Phase 2", large, token, seconds, cached=False)

    def p50(bookings, cache, endpoint):
        return next(r["p50 ms"] for r in results if (r["bookings"], r["cache"], r["endpoint"]) == (
            bookings, cache, endpoint))

    summary = []
    for cache in ("Redis", "off"):
        for endpoint in ("availability, 1 day", "availability, 7 days"):
            summary.append({"endpoint": endpoint, "cache": cache, f"p50 at {small:,}": p50(small, cache, endpoint),
                            f"p50 at {large:,}": p50(large, cache, endpoint),
                            "ratio (target ≤ 1.3)": p50(large, cache, endpoint) / p50(small, cache, endpoint)})
    print_table("Growth of p50 latency with the booking table", summary)
