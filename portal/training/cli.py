"""The periodic training jobs: run by `portal worker`, or one at a time from cron (safe on several machines)."""

from datetime import timedelta

import click

from portal.core.cli import portal_cli
from portal.core.db import utcnow
from portal.training import jobs


def send_reminders(now, hours=24):
    return f"Reminders sent: {jobs.send_reminders(now=now, ahead=timedelta(hours=hours))}"


def complete_past_sessions(now):
    return f"Completed {jobs.complete_past_sessions(now=now)} session(s)."


@portal_cli.command("send-training-reminders")
@click.option(
    "--hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, None),
    help="Remind of sessions starting within this many hours.",
)
def send_training_reminders(hours):
    """Remind enrolled doctors of their upcoming sessions (each enrolment once)."""
    click.echo(send_reminders(utcnow(), hours))


@portal_cli.command("complete-past-sessions")
def complete_past_sessions_command():
    """Mark scheduled sessions that have ended as completed."""
    click.echo(complete_past_sessions(utcnow()))
