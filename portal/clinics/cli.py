"""`portal add-holidays` (Russian public holidays as closures) and `portal import-clinics` (onboarding)."""

from pathlib import Path

import click

from portal.clinics import onboarding, services, timetable
from portal.core import transaction
from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.core.errors import Conflict


@portal_cli.command("add-holidays")
@click.option("--clinic", "clinic_short_name", required=True, help="Clinic short name.")
@click.option("--year", type=int, required=True)
@click.option(
    "--cancel-affected",
    is_flag=True,
    help="Cancel the bookings and training sessions on those days (their people are told).",
)
def add_holidays_command(clinic_short_name, year, cancel_affected):
    """Close every room of a clinic on the federal non-working days of YEAR (safe to repeat).

    Bookings or sessions on those days stop it, listed, unless --cancel-affected is given.
    """
    clinic = services.clinic_by_short_name(clinic_short_name)
    if clinic is None:
        fail(f"No clinic with short name {clinic_short_name!r}.")
    try:
        created, cancelled = timetable.add_public_holidays(
            None, clinic.rooms, year=year, now=utcnow(), cancel_affected=cancel_affected
        )
    except Conflict as error:
        if error.code != "bookings_affected":
            raise
        fail(
            "\n".join(
                [
                    "Bookings or training sessions fall on these holidays; nothing was added. Run again with "
                    "--cancel-affected to cancel them.",
                    *(
                        f"  {item['kind']} {item['id']}: {item['start']} – {item['end']}"
                        for item in error.details["affected"]
                    ),
                ]
            )
        )
    click.echo(
        f"Added {len(created)} closure(s) to {len(clinic.rooms)} room(s); cancelled {len(cancelled)} "
        "booking(s) and session(s)."
    )


@portal_cli.command("import-clinics")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change and change nothing.")
def import_clinics_command(path, dry_run):
    """Import clinics, their rooms and workstations from a UTF-8 CSV (see the README); all rows or none."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail("The file is not UTF-8 text.")
    changes, problems = onboarding.import_clinics(None, text)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        fail(f"Nothing imported: {len(problems)} bad row(s).")
    if dry_run:
        click.echo(f"Dry run, nothing written. The import would make {len(changes)} change(s):")
    for change in changes:
        click.echo(f"  {change.describe()}")
    if dry_run:
        transaction.roll_back()  # the command's unit of work then commits nothing
    else:
        click.echo(f"Imported: {len(changes)} change(s).")
