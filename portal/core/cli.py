"""The `flask --app wsgi portal …` command group; each feature adds its commands here.

Every command is one unit of work (portal.core.transaction): what it wrote
is committed when it succeeds and rolled back when it fails, and a domain
error ends it with its message and a non-zero exit status.
"""

import functools

import click
from flask.cli import AppGroup

from portal.core import transaction
from portal.core.errors import DomainError


class UnitOfWorkGroup(AppGroup):
    def command(self, *args, unit_of_work=True, **kwargs):
        """`unit_of_work=False` for a long-running command that ends its own units (the worker)."""
        register = super().command(*args, **kwargs)
        if not unit_of_work:
            return register

        def decorator(function):
            @functools.wraps(function)
            def run(*call_args, **call_kwargs):
                try:
                    with transaction.unit_of_work():
                        return function(*call_args, **call_kwargs)
                except DomainError as error:
                    raise click.ClickException(error.message) from None

            return register(run)

        return decorator


portal_cli = UnitOfWorkGroup("portal", help="Growth Room Portal administration commands.")


def fail(message):
    """Stop a command with a clear message and a non-zero exit status (nothing it wrote is kept)."""
    raise click.ClickException(str(message))
