import click

from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.privacy.services import anonymise_history


def anonymise(now, older_than_days=None):
    """The privacy job; by default for history older than PORTAL_BOOKING_RETENTION_DAYS."""
    from flask import current_app

    days = older_than_days if older_than_days is not None else current_app.config["BOOKING_HISTORY_RETENTION_DAYS"]
    if days < 1:
        fail("--older-than-days must be at least 1.")
    count = anonymise_history(older_than_days=days, now=now)
    return f"Anonymised {count} booking(s) older than {days} days."


@portal_cli.command("anonymise-history")
@click.option("--older-than-days", type=int, default=None, help="Age in days (default: PORTAL_BOOKING_RETENTION_DAYS).")
def anonymise_history_command(older_than_days):
    """Anonymise booking history older than N days (the privacy job; safe to run from cron)."""
    click.echo(anonymise(utcnow(), older_than_days))
