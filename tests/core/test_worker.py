"""The worker: each due job runs once across workers, a failed run is retried, and one command
delivers the mail and runs the jobs until SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core import notifications, worker
from portal.core.db import utcnow
from portal.core.models import WorkerJob
from portal.extensions import db
from tests.conftest import at_once

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def guidelines_catalogue_just_loaded(app):
    """The clinical-guidelines catalogue was loaded a moment ago, so its sync job finds nothing due
    (a due sync would page through the rubricator, which these tests do not stand in for)."""
    from portal.search.guidelines import catalogue

    catalogue.load_listing_file(
        None, (ROOT / "tests/search/samples/minzdrav/list_page1.json").read_bytes(), now=utcnow()
    )
    db.session.commit()


@pytest.fixture
def counted_runs(app):
    """A job registered as a feature would, every hour; the list holds the `now` of each of its runs."""
    runs = []

    def count(now):
        runs.append(now)
        return f"run {len(runs)}"

    worker.register_job(app, "count-runs", every=timedelta(hours=1), run=count)
    return runs


def test_every_feature_registers_its_periodic_jobs(app):
    assert {job.name: job.every for job in worker.registered_jobs(app)} == {
        "forget-finished-mail": timedelta(days=1),
        "release-no-shows": timedelta(minutes=1),
        "send-reminders": timedelta(minutes=5),
        "send-training-reminders": timedelta(minutes=10),
        "complete-past-sessions": timedelta(minutes=5),
        "anonymise-history": timedelta(days=1),
        "sync-guidelines": timedelta(minutes=10),
        "purge-expired-sessions": timedelta(hours=1),
    }


@pytest.mark.slow
def test_two_workers_run_each_due_job_once(app, counted_runs):
    now = utcnow()
    first, second = at_once(app, lambda: worker.run_due_jobs(app, now=now))
    assert set(first).isdisjoint(second)
    assert set(first) | set(second) == {job.name for job in worker.registered_jobs(app)}
    assert all(first.values()) and all(second.values())
    assert counted_runs == [now]


def test_a_job_runs_again_only_when_its_interval_has_passed(app, counted_runs, caplog):
    now = utcnow()
    with caplog.at_level("INFO", logger="portal.worker"):
        worker.run_due_jobs(app, now=now)
        worker.run_due_jobs(app, now=now + timedelta(minutes=59))
        worker.run_due_jobs(app, now=now + timedelta(hours=1))
    assert counted_runs == [now, now + timedelta(hours=1)]
    lines = [record.getMessage() for record in caplog.records if "count-runs" in record.getMessage()]
    assert len(lines) == 2 and lines[0].startswith("job count-runs: run 1 (")
    row = db.session.get(WorkerJob, "count-runs")
    assert (row.last_started_at, row.next_run_at) == (now + timedelta(hours=1), now + timedelta(hours=2))


def test_a_failed_run_is_logged_rolled_back_and_retried_soon(app, make_user, caplog):
    attempts = []

    def fails_first(now):
        attempts.append(now)
        notifications.notify(user, "booking_cancelled", "Written by the job", "")
        if len(attempts) == 1:
            raise RuntimeError("upstream away")
        return "done"

    user = make_user()
    worker.register_job(app, "flaky", every=timedelta(days=1), run=fails_first)
    now = utcnow()
    with caplog.at_level("INFO", logger="portal.worker"):
        outcomes = worker.run_due_jobs(app, now=now)
    assert outcomes["flaky"] is False and outcomes["release-no-shows"] is True
    assert "job flaky failed" in caplog.text and "upstream away" in caplog.text
    assert notifications.unread_count(user) == 0  # the failed run wrote nothing
    assert "flaky" not in worker.run_due_jobs(app, now=now + worker.RETRY_FAILED - timedelta(seconds=1))
    assert worker.run_due_jobs(app, now=now + worker.RETRY_FAILED)["flaky"] is True
    assert notifications.unread_count(user) == 1


def test_worker_once_delivers_the_mail_and_runs_the_due_jobs(app, smtp_server, make_user, counted_runs, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    doctor = make_user()
    notifications.notify(doctor, "booking_cancelled", "Бронь отменена", "")
    address = doctor.email
    db.session.commit()
    with caplog.at_level("INFO", logger="portal.worker"):
        result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [message["To"] for message in smtp_server.messages] == [address]
    assert len(counted_runs) == 1
    assert "mail: sent 1, to retry 0, given up 0" in caplog.text and "job count-runs: run 1" in caplog.text
    again = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert again.exit_code == 0 and len(smtp_server.messages) == 1 and len(counted_runs) == 1


def test_worker_once_fails_for_cron_when_a_job_failed(app):
    def broken(now):
        raise RuntimeError("broken")

    worker.register_job(app, "broken", every=timedelta(hours=1), run=broken)
    result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 1 and "a job or the mail round failed" in result.output


def _job_started(name):
    """Whether the worker process started the job (read in a transaction of its own, so no lock is held)."""
    started = db.session.scalar(select(WorkerJob.last_started_at).where(WorkerJob.name == name))
    db.session.rollback()
    return started is not None


@pytest.mark.slow
def test_the_worker_process_delivers_mail_and_stops_cleanly_on_sigterm(database_url, smtp_server, make_user):
    doctor = make_user()
    notifications.notify(doctor, "booking_cancelled", "Бронь отменена", "")
    address = doctor.email
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "worker-test",
        "PORTAL_ENV": "development",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "portal", "worker", "--poll-seconds", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            not (smtp_server.messages and _job_started("release-no-shows"))
            and time.monotonic() < deadline
            and process.poll() is None
        ):
            time.sleep(0.1)
        assert [message["To"] for message in smtp_server.messages] == [address]
        process.send_signal(signal.SIGTERM)
        _output, log = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, log
    assert "job release-no-shows: Released 0 booking(s) as no-shows." in log
    assert "SIGTERM: stopping after the current step" in log and log.rstrip().endswith("worker stopped")
    assert _job_started("release-no-shows")
