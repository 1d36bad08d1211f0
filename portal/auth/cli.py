"""User and token commands."""

from pathlib import Path

import click

from portal.auth import services
from portal.auth.models import ROLES
from portal.clinics.services import clinic_by_short_name
from portal.core.cli import fail, portal_cli
from portal.core.db import utcnow
from portal.extensions import db


@portal_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--clinic", "clinic_short_name", help="Clinic short name (every role but superadmin).")
@click.option("--name", "full_name", help="Full name (defaults to the e-mail).")
def create_user_command(email, password, role, clinic_short_name, full_name):
    """Create a user."""
    clinic = None
    if clinic_short_name:
        clinic = clinic_by_short_name(clinic_short_name)
        if clinic is None:
            fail(f"No clinic with short name {clinic_short_name!r}.")
    user = services.create_user(
        None, email=email, full_name=full_name or email, role=role, clinic=clinic, password=password
    )
    click.echo(f"Created {role} {user.email} (id {user.id}).")


@portal_cli.command("create-token")
@click.option("--email", required=True)
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token_command(email, name):
    """Print a new API token for a user (shown once; only its hash is stored)."""
    from sqlalchemy import select

    from portal.auth.models import User

    user = db.session.scalar(select(User).where(User.email == services.normalise_email(email)))
    if user is None or not user.active:
        fail(f"No active user with e-mail {email!r}.")
    _token, raw = services.issue_token(user, name)
    click.echo(raw)


@portal_cli.command("import-users")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_users_command(path):
    """Import staff from a UTF-8 CSV (email,full_name,role,clinic[,password]); all or nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail("The file is not UTF-8 text.")
    created, problems = services.import_users(text)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        fail(f"Nothing imported: {len(problems)} bad row(s).")
    click.echo(f"Created {len(created)} user(s).")


def purge_expired_sessions(now):
    return f"Purged {services.purge_expired_sessions(now)} expired browser session(s)."


@portal_cli.command("purge-sessions")
def purge_sessions_command():
    """Delete the rows of browser sessions past their absolute lifetime (the worker does it hourly)."""
    click.echo(purge_expired_sessions(utcnow()))
