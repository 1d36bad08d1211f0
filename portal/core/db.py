"""Database helpers shared by every feature: UTC timestamps and engine set-up."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from portal.extensions import db

# Ids and the whole numbers the portal stores are 32-bit integer columns on PostgreSQL;
# a bigger number from a request is refused before it reaches a query.
DATABASE_INT_MAX = 2**31 - 1


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python on every database.

    PostgreSQL stores timestamptz. SQLite has no time zone type, so values are
    kept as naive UTC text, which also sorts and compares correctly in SQL
    (the overlap triggers rely on that).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the portal stores aware UTC times only")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def one_of(column, values):
    """SQL for a CHECK that `column` holds one of `values` (the model's tuple of statuses is the one list)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def is_sqlite(engine_or_connection=None):
    bind = engine_or_connection if engine_or_connection is not None else db.engine
    return bind.dialect.name == "sqlite"


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL, wait for the writer instead of failing at once.

    Python's sqlite3 module opens transactions lazily and starts them as
    DEFERRED, so two writers can both read and then fail to upgrade their
    locks ("database is locked"). Taking the write lock at BEGIN (IMMEDIATE)
    serialises writers cleanly; the booking triggers then see every committed
    row, which is what makes them exact.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
