"""The periodic booking jobs: run by `portal worker`, or one at a time from cron (safe on several machines)."""

import click

from portal.booking import jobs
from portal.core.cli import portal_cli
from portal.core.db import utcnow


def release_no_shows(now):
    return f"Released {len(jobs.release_no_shows(now=now))} booking(s) as no-shows."


def send_reminders(now, minutes=60):
    return f"Sent {len(jobs.send_reminders(now=now, lead_minutes=minutes))} reminder(s)."


@portal_cli.command("release-no-shows")
def release_no_shows_command():
    """Mark bookings not checked in by the end of the grace period as no-shows and free their time."""
    click.echo(release_no_shows(utcnow()))


@portal_cli.command("send-reminders")
@click.option(
    "--minutes",
    default=60,
    show_default=True,
    type=click.IntRange(1, 24 * 60),
    help="Remind of bookings starting within this many minutes.",
)
def send_reminders_command(minutes):
    """Remind doctors of their bookings that start soon (each booking once)."""
    click.echo(send_reminders(utcnow(), minutes))
