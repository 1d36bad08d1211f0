"""The `flask --app wsgi portal …` command group; each feature adds its commands here."""
import click
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="Growth Room Portal administration commands.")


def fail(message):
    """Stop a command with a clear message and a non-zero exit status."""
    raise click.ClickException(str(message))
