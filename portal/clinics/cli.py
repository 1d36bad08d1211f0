"""`portal add-holidays`: close every room of a clinic on the Russian public holidays of a year."""
import click

from portal.clinics import services
from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow


@portal_cli.command("add-holidays")
@click.option("--clinic", "clinic_short_name", required=True, help="Clinic short name.")
@click.option("--year", type=int, required=True)
def add_holidays_command(clinic_short_name, year):
    """Close every room of a clinic on the federal non-working days of YEAR (safe to repeat)."""
    clinic = services.clinic_by_short_name(clinic_short_name)
    if clinic is None:
        fail(f"No clinic with short name {clinic_short_name!r}.")
    created = [closure for room in clinic.rooms
               for closure in services.add_public_holidays(None, room, year=year, now=utcnow())]
    click.echo(f"Added {len(created)} closure(s) to {len(clinic.rooms)} room(s).")
