"""`portal add-holidays`: close every room of a clinic on the Russian public holidays of a year."""
import click

from portal.auth.services import clinic_by_short_name
from portal.clinics import services
from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.extensions import db


@portal_cli.command("add-holidays")
@click.option("--clinic", "clinic_short_name", required=True, help="Clinic short name.")
@click.option("--year", type=int, required=True)
def add_holidays_command(clinic_short_name, year):
    """Close every room of a clinic on the federal non-working days of YEAR (safe to repeat)."""
    clinic = clinic_by_short_name(clinic_short_name)
    if clinic is None:
        fail(f"No clinic with short name {clinic_short_name!r}.")
    try:
        created = [closure for room in clinic.rooms
                   for closure in services.add_public_holidays(None, room, year=year, now=utcnow())]
    except DomainError as error:
        db.session.rollback()
        fail(error.message)
    db.session.commit()
    click.echo(f"Added {len(created)} closure(s) to {len(clinic.rooms)} room(s).")
