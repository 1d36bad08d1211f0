"""The periodic booking jobs, for cron on one machine or several at once."""
import click

from portal.booking import jobs
from portal.core.cli import portal_cli
from portal.core.db import utcnow


@portal_cli.command("release-no-shows")
def release_no_shows_command():
    """Mark bookings not checked in by the end of the grace period as no-shows and free their time."""
    released = jobs.release_no_shows(now=utcnow())
    click.echo(f"Released {len(released)} booking(s) as no-shows.")


@portal_cli.command("send-reminders")
@click.option("--minutes", default=60, show_default=True, type=click.IntRange(1, 24 * 60),
              help="Remind of bookings starting within this many minutes.")
def send_reminders_command(minutes):
    """Remind doctors of their bookings that start soon (each booking once)."""
    reminded = jobs.send_reminders(now=utcnow(), lead_minutes=minutes)
    click.echo(f"Sent {len(reminded)} reminder(s).")
