"""`portal seed-demo`: idempotent demo data, built through the same services as the UI."""

import importlib

import click

from portal.core.cli import portal_cli
from portal.demo.seed import DEMO_PASSWORD, seed_base


@portal_cli.command("seed-demo")
def seed_demo_command():
    """Create demo clinics, rooms, users and data (safe to run again)."""
    from portal import FEATURES

    context = seed_base()
    # Each feature may add its own demo data in portal/<feature>/demo.py: seed_demo(context).
    for name in FEATURES:
        try:
            module = importlib.import_module(f"portal.{name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"portal.{name}.demo":
                raise
            continue
        module.seed_demo(context)
    click.echo(f"Demo data is ready. Sign in with any of these (password for all: {DEMO_PASSWORD}):")
    for email, description in context["logins"]:
        click.echo(f"  {email:32} {description}")
