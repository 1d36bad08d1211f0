"""The schema only changes through migrations: upgrading an empty database yields exactly the
models' schema, and downgrading to base removes everything again."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db
from tests.conftest import make_config


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A brand-new database of the same kind as the test database."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "empty.sqlite3")
        return
    name = f"portal_migrations_{uuid.uuid4().hex[:8]}"
    server_url = database_url.rsplit("/", 1)[0]
    admin = create_engine(server_url + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


EXPECTED_GUARDS = {
    "postgresql": {"ex_bookings_workstation_overlap", "ex_bookings_user_overlap", "ex_training_sessions_room_overlap"},
    "sqlite": {
        f"{name}_{event}"
        for name in ("bookings_workstation_overlap", "bookings_user_overlap", "training_sessions_room_overlap")
        for event in ("insert", "update")
    },
}


def overlap_guards():
    """The database objects that make overlaps impossible; a migration that rebuilds a table on
    SQLite (batch mode) would silently drop its triggers, so their presence is checked here."""
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            rows = connection.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'"))
        else:
            rows = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%overlap%'")
            )
        return {row[0] for row in rows}


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            # The app's own comparison options: they leave out the dialect-specific full-text objects.
            context = MigrationContext.configure(connection, opts=app.extensions["migrate"].configure_args)
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        assert overlap_guards() == EXPECTED_GUARDS[db.engine.dialect.name]
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()
