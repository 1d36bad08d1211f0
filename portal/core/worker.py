"""`flask --app wsgi portal worker`: the mail outbox and the periodic jobs, on one machine or several.

Feature packages register their jobs in their `init_app` (core imports no feature):

    register_job(app, "release-no-shows", every=timedelta(minutes=1), run=release_no_shows)

`run(now)` does the job's writes (flushing only) and returns a short summary for the
log; each run is one unit of work of its own, committed when it succeeds.

Every tick the worker delivers the due mail (portal.core.mail) and then runs the
jobs that are due. Each job has a row in `worker_jobs`; the worker whose guarded
UPDATE moves the row's `next_run_at` past `now` runs it, the others see it is not
due any more, so across machines each job runs about once per interval. The jobs
are guarded updates themselves, so even overlapping runs would not repeat an
effect. A failed run is logged and tried again after at most RETRY_FAILED.
SIGTERM or SIGINT stops the worker once the current message or job is done.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.core import mail, transaction
from portal.core.cli import portal_cli
from portal.core.db import utcnow
from portal.core.models import WorkerJob
from portal.extensions import db

log = logging.getLogger("portal.worker")

JOBS = "portal_worker_jobs"
RETRY_FAILED = timedelta(minutes=5)
POLL_SECONDS = 5.0
# Mail messages per tick; a fuller outbox is worked through without pausing, jobs in between.
MAIL_BATCH = 100
INSERT_IGNORING_DUPLICATES = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[datetime], object]


def register_job(app, name, *, every, run):
    """Run `run(now)` about every `every` on whichever worker gets to it first."""
    app.extensions.setdefault(JOBS, {})[name] = Job(name, every, run)


def registered_jobs(app):
    return list(app.extensions.get(JOBS, {}).values())


def run_due_jobs(app, *, now, should_stop=lambda: False):
    """Run every registered job due at `now` that no other worker has taken; returns {name: succeeded}."""
    jobs = registered_jobs(app)
    with transaction.unit_of_work():
        next_runs = dict(db.session.execute(select(WorkerJob.name, WorkerJob.next_run_at)).all())
        missing = [job.name for job in jobs if job.name not in next_runs]
        if missing:
            insert = INSERT_IGNORING_DUPLICATES[db.engine.dialect.name]
            db.session.execute(
                insert(WorkerJob)
                .values([{"name": name, "next_run_at": now} for name in missing])
                .on_conflict_do_nothing()
            )
    outcomes = {}
    for job in jobs:
        if should_stop():
            break
        if next_runs.get(job.name, now) <= now and _claim(job, now):
            outcomes[job.name] = _run(job, now)
    return outcomes


def _claim(job, now):
    with transaction.unit_of_work():
        return (
            db.session.execute(
                update(WorkerJob)
                .where(WorkerJob.name == job.name, WorkerJob.next_run_at <= now)
                .values(next_run_at=now + job.every, last_started_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def _run(job, now):
    started = time.perf_counter()
    try:
        with transaction.unit_of_work():
            summary = job.run(now)
    except Exception:
        log.exception("job %s failed after %.2f s", job.name, time.perf_counter() - started)
        with transaction.unit_of_work():
            db.session.execute(
                update(WorkerJob)
                .where(WorkerJob.name == job.name, WorkerJob.last_started_at == now)
                .values(next_run_at=now + min(job.every, RETRY_FAILED))
                .execution_options(synchronize_session=False)
            )
        return False
    log.info("job %s: %s (%.2f s)", job.name, summary, time.perf_counter() - started)
    return True


def tick(app, *, now, should_stop=lambda: False):
    """One round: a batch of due mail, then the due jobs. Returns (more mail waiting, names of failed jobs)."""
    delivery = mail.deliver_due(app.config, now=now, limit=MAIL_BATCH, should_stop=should_stop)
    if delivery.attempted:
        log.info("mail: %s", delivery)
    outcomes = run_due_jobs(app, now=now, should_stop=should_stop)
    return delivery.attempted >= MAIL_BATCH, [name for name, succeeded in outcomes.items() if not succeeded]


def run_worker(app, *, stop, once=False, poll_seconds=POLL_SECONDS):
    """Tick until `stop` is set (with `once`: until nothing is due); returns whether every round went well."""
    healthy = True
    while not stop.is_set():
        try:
            more_mail, failed_jobs = tick(app, now=utcnow(), should_stop=stop.is_set)
        except Exception:
            # The database or the network is away: say so, and try again on the next round.
            log.exception("worker round failed")
            more_mail, failed_jobs = False, ["round"]
        healthy = healthy and not failed_jobs
        if once and not more_mail:
            break
        if not more_mail:
            stop.wait(poll_seconds)
    return healthy


@portal_cli.command("worker", unit_of_work=False)
@click.option("--once", is_flag=True, help="Deliver the due mail and run the due jobs once, then exit (cron).")
@click.option(
    "--poll-seconds",
    default=POLL_SECONDS,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Pause between rounds when nothing is waiting.",
)
def worker_command(once, poll_seconds):
    """Deliver the mail outbox and run every periodic job on its schedule (safe on several machines)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def request_stop(signum, frame):
        log.info("%s: stopping after the current step", signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    app = current_app._get_current_object()
    log.info("worker started: jobs %s", ", ".join(f"{job.name} every {job.every}" for job in registered_jobs(app)))
    try:
        healthy = run_worker(app, stop=stop, once=once, poll_seconds=poll_seconds)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("worker stopped")
    if not healthy and once:
        raise click.ClickException("a job or the mail round failed; see the log")
