"""``flask --app wsgi portal sync-guidelines [--from-file FILE]``."""

from pathlib import Path

import click

from portal.core import transaction
from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.search.guidelines import catalogue, sync
from portal.search.guidelines.upstream import SyncFailed


@portal_cli.command("sync-guidelines", unit_of_work=False)
@click.option(
    "--from-file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved answer of the rubricator's list call, for networks that cannot reach it.",
)
def sync_guidelines_command(path):
    """Refresh the clinical-guidelines catalogue from the rubricator, or from a saved list."""
    try:
        if path is None:
            change = sync.sync_now(utcnow())
        else:
            with transaction.unit_of_work():
                change = catalogue.load_listing_file(None, path.read_bytes(), now=utcnow())
    except (SyncFailed, DomainError) as failure:
        fail(f"The catalogue was not refreshed and is kept as it was: {failure.message}")
    gone = (
        f", {change.removed} no longer listed"
        if change.complete
        else ("; the list is partial, so no guideline was marked as gone")
    )
    click.echo(f"{change.listed} guideline(s) listed: {change.added} new, {change.changed} changed{gone}.")


def scheduled_sync(now):
    """The worker's job (every few minutes on every machine): syncs when due, on one machine at a time."""
    change = sync.run_scheduled_sync(now)
    if change is None:
        return "not due, or another machine is syncing"
    return f"{change.listed} guideline(s) listed: {change.added} new, {change.changed} changed"
