"""`flask --app wsgi portal send-training-reminders`: run it from cron, e.g. every hour."""
from datetime import timedelta

import click

from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.training import jobs


@portal_cli.command("send-training-reminders")
@click.option("--hours", default=24, show_default=True, help="Remind of sessions starting within this many hours.")
def send_training_reminders(hours):
    """Remind enrolled doctors of their upcoming sessions (each enrolment once; safe on several machines)."""
    if hours < 1:
        fail("--hours must be at least 1")
    sent = jobs.send_reminders(now=utcnow(), ahead=timedelta(hours=hours))
    click.echo(f"Reminders sent: {sent}")
