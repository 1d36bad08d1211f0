"""The city's view (/admin/city) at 65 clinics and a year of data: 1,000,000 bookings.

Builds on PostgreSQL (BENCH_DATABASE_URL, recreated): 65 clinics with two rooms of
twelve workstations each (1,560), one doctor per workstation, rooms open 08:00–20:00
every day, and for the 365 days before today, with INSERT … SELECT generate_series:
about 1,000,000 bookings (two a day per workstation on seven days of eight; mostly
completed, some no-shows and cancellations) each with its `booking_created` audit row,
refusals for lack of a free workstation (five a day per clinic, two of them followed
by a booking), two trainings a week per room with waitlists, and fifty searches a day
per clinic. Then it serves the portal with gunicorn (2 workers) and measures the page
for the last full month and its CSV with a signed-in superadmin, two connections (one
per worker: the latency of one request, not a queue), next to /healthz.

Target: p50 of the page ≤ 500 ms.
"""

import psycopg

from bench.booking_availability import PASSWORD, _plain_url, browser, build_world
from bench.harness import BENCH_DB_URL, ensure_postgres_database, gunicorn_server, migrate, print_table, wrk

TARGET_P50_MS = 500
CLINICS, ROOMS_PER_CLINIC, PER_ROOM = 65, 2, 12
DAYS = 365
MOSCOW_DAY = "(date_trunc('day', now() AT TIME ZONE 'Europe/Moscow') + d * interval '1 day')"


def build_city(conn, days):
    from werkzeug.security import generate_password_hash

    rooms = CLINICS * ROOMS_PER_CLINIC
    per_clinic = PER_ROOM * ROOMS_PER_CLINIC
    # Clinics, rooms open 08:00–20:00, workstations and a doctor each, as the availability benchmark builds them.
    workstations = build_world(conn, rooms, per_room=PER_ROOM, rooms_per_clinic=ROOMS_PER_CLINIC)
    conn.execute("UPDATE clinics SET code = lpad(id::text, 4, '0')")

    conn.execute(
        """INSERT INTO users (id, email, full_name, password_hash, active, created_at, email_opt_out)
        VALUES (%s, 'city@bench.portal', 'Городской администратор', %s, true, now(), '')""",
        (workstations + 1, generate_password_hash(PASSWORD)),
    )
    conn.execute("INSERT INTO user_roles (user_id, role) VALUES (%s, 'superadmin')", (workstations + 1,))
    conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")

    # Bookings: 10:00–11:30 and 15:00–16:00 local, on seven days of eight per workstation.
    conn.execute(f"""INSERT INTO bookings (user_id, workstation_id, room_id, start_at, end_at, status, created_at)
        SELECT w, w, (w - 1) / {PER_ROOM} + 1,
               ({MOSCOW_DAY} + s.opens) AT TIME ZONE 'Europe/Moscow',
               ({MOSCOW_DAY} + s.closes) AT TIME ZONE 'Europe/Moscow',
               CASE WHEN (w + d) % 17 = 0 THEN 'no_show' WHEN (w + d) % 29 = 0 THEN 'cancelled' ELSE 'completed' END,
               ({MOSCOW_DAY} + s.opens - interval '1 day') AT TIME ZONE 'Europe/Moscow'
        FROM generate_series(1, {workstations}) w, generate_series(-{days}, -1) d,
             (VALUES (interval '10 hours', interval '11 hours 30 minutes'),
                     (interval '15 hours', interval '16 hours')) AS s(opens, closes)
        WHERE (w + d) % 8 <> 0""")
    conn.execute(f"""INSERT INTO audit_log (at, actor_id, clinic_id, action, object_type, object_id, details)
        SELECT b.created_at, b.user_id, (b.user_id - 1) / {per_clinic} + 1, 'booking_created', 'bookings', b.id,
               '{{}}'::json FROM bookings b""")
    # Refusals for lack of a free workstation; the first two of each day are followed by a booking.
    conn.execute(f"""INSERT INTO audit_log (at, actor_id, clinic_id, action, details)
        SELECT ({MOSCOW_DAY} + interval '9 hours' + k * interval '7 minutes') AT TIME ZONE 'Europe/Moscow',
               (c - 1) * {per_clinic} + k + 1, c, 'booking_refused', '{{"code": "slot_taken"}}'::json
        FROM generate_series(1, {CLINICS}) c, generate_series(-{days}, -1) d, generate_series(0, 4) k""")
    conn.execute(f"""INSERT INTO audit_log (at, actor_id, clinic_id, action, details)
        SELECT ({MOSCOW_DAY} + interval '9 hours 5 minutes' + k * interval '7 minutes') AT TIME ZONE 'Europe/Moscow',
               (c - 1) * {per_clinic} + k + 1, c, 'booking_created', '{{}}'::json
        FROM generate_series(1, {CLINICS}) c, generate_series(-{days}, -1) d, generate_series(0, 1) k""")
    # Trainings: one course per clinic, sessions on Tuesdays and Thursdays 17:00–18:30, full in odd clinics.
    conn.execute(
        """INSERT INTO courses (id, clinic_id, title, description, academic_hours, created_at)
        SELECT c, c, 'Поиск в PubMed', '', 2, now() FROM generate_series(1, %s) c""",
        (CLINICS,),
    )
    conn.execute(f"""INSERT INTO training_sessions (course_id, room_id, start_at, end_at, capacity, seats_taken,
            whole_room, status, created_at)
        SELECT (r - 1) / {ROOMS_PER_CLINIC} + 1, r,
               ({MOSCOW_DAY} + interval '17 hours') AT TIME ZONE 'Europe/Moscow',
               ({MOSCOW_DAY} + interval '18 hours 30 minutes') AT TIME ZONE 'Europe/Moscow',
               10, CASE WHEN r % 4 IN (1, 2) THEN 10 ELSE 6 END, false, 'completed', now()
        FROM generate_series(1, {rooms}) r, generate_series(-{days}, -1) d
        WHERE extract(isodow FROM {MOSCOW_DAY}) IN (2, 4)""")
    conn.execute(f"""INSERT INTO enrolments (session_id, user_id, status, waitlist_seq, created_at, updated_at)
        SELECT s.id, (((s.room_id - 1) / {ROOMS_PER_CLINIC}) * {per_clinic}) + k, 'waitlisted', k, now(), now()
        FROM training_sessions s, generate_series(1, 3) k WHERE s.seats_taken = s.capacity""")
    conn.execute(f"""INSERT INTO search_events (clinic_id, source, at, ok, latency_ms, cached)
        SELECT c, (ARRAY['pubmed', 'europepmc', 'crossref', 'openalex'])[k % 4 + 1],
               ({MOSCOW_DAY} + interval '8 hours' + k * interval '11 minutes') AT TIME ZONE 'Europe/Moscow',
               k % 20 <> 0, 300 + k, k % 3 = 0
        FROM generate_series(1, {CLINICS}) c, generate_series(-{days}, -1) d, generate_series(1, 50) k""")
    conn.execute("ANALYZE")
    return conn.execute("SELECT count(*) FROM bookings").fetchone()[0]


def last_full_month(conn):
    return conn.execute(
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Europe/Moscow') - interval '1 month', 'YYYY-MM')"
    ).fetchone()[0]


def run(args):
    days = 60 if args.quick else DAYS
    seconds = 3 if args.quick else args.seconds
    ensure_postgres_database()
    with psycopg.connect(_plain_url(BENCH_DB_URL), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(BENCH_DB_URL)
    with psycopg.connect(_plain_url(BENCH_DB_URL), autocommit=True) as conn:
        bookings = build_city(conn, days)
        month = last_full_month(conn)
    rows = []
    with gunicorn_server(BENCH_DB_URL, workers=2) as base_url:
        cookie = browser(base_url, "city@bench.portal")
        health = wrk(base_url + "/healthz", connections=2, seconds=seconds)
        targets = [
            ("/healthz", health),
            (
                f"/admin/city?month={month}",
                wrk(f"{base_url}/admin/city?month={month}", connections=2, seconds=seconds, headers=cookie),
            ),
            (
                f"/admin/city.csv?month={month}",
                wrk(f"{base_url}/admin/city.csv?month={month}", connections=2, seconds=seconds, headers=cookie),
            ),
        ]
        for name, result in targets:
            rows.append(
                {
                    "bookings": bookings,
                    "endpoint": name,
                    "req/s": result["rps"],
                    "p50 ms": result["p50_ms"],
                    "p99 ms": result["p99_ms"],
                    "non-2xx": result["errors"],
                }
            )
    print_table(f"The city's view: {CLINICS} clinics, {bookings:,} bookings over {days} days, 2 connections", rows)
    page = rows[1]
    verdict = "met" if page["p50 ms"] <= TARGET_P50_MS and not page["non-2xx"] else "NOT met"
    print(f"\nTarget p50 ≤ {TARGET_P50_MS} ms for the page: {page['p50 ms']:.0f} ms — {verdict}")
