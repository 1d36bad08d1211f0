"""Database helpers shared by every feature: UTC timestamps and engine set-up."""

from datetime import UTC, datetime

from flask import g, has_app_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from portal.core import transaction
from portal.extensions import db

# Ids and the whole numbers the portal stores are 32-bit integer columns on PostgreSQL;
# a bigger number from a request is refused before it reaches a query.
DATABASE_INT_MAX = 2**31 - 1


def utcnow():
    return datetime.now(UTC)


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
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column, values):
    """SQL for a CHECK that `column` holds one of `values` (the model's tuple of statuses is the one list)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


# Objects that migrations create beside the models (dialect-specific full-text search), named by
# the features that own them: autogenerate and the migration test compare everything else.
_unmodelled_names = set()


def register_unmodelled(*names):
    _unmodelled_names.update(names)


def include_name(name, type_, parent_names):
    """Alembic's filter: leave out registered tables and indexes, and the tables named after them
    (SQLite keeps an FTS5 table's data in shadow tables ``<name>_data``, ``<name>_idx``, …)."""
    if type_ not in ("table", "index"):
        return True
    return not any(name == unmodelled or name.startswith(unmodelled + "_") for unmodelled in _unmodelled_names)


def is_sqlite(engine_or_connection=None):
    bind = engine_or_connection if engine_or_connection is not None else db.engine
    return bind.dialect.name == "sqlite"


def engine_options(config):
    """How long the portal waits for its database, from configuration.

    PostgreSQL: connecting (libpq's connect_timeout), each statement (a
    server-side statement_timeout), a free pooled connection (pool_timeout),
    and TCP keepalives so that a peer that vanished is noticed. A transaction
    left idle is ended by the server after a minute. SQLite: the busy timeout
    a writer waits for the write lock.
    """
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": config["DB_STATEMENT_TIMEOUT_SECONDS"]}}
    statement_ms = config["DB_STATEMENT_TIMEOUT_SECONDS"] * 1000
    return {
        "pool_timeout": config["DB_POOL_TIMEOUT_SECONDS"],
        "connect_args": {
            "connect_timeout": config["DB_CONNECT_TIMEOUT_SECONDS"],
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms} "
            "-c idle_in_transaction_session_timeout=60000",
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 2,
            "tcp_user_timeout": statement_ms,
        },
    }


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL; a writer waits for the write lock (the `timeout` connect argument).

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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READS_ONLY = "portal_reads_only"


def reads_only(view):
    """Mark a view that never writes (the schedule, availability).

    On SQLite its request's transaction starts DEFERRED and takes no write
    lock, so with WAL such requests run side by side with each other and with
    one writer instead of queueing behind the lock. On PostgreSQL its
    statements run in autocommit, without the BEGIN and COMMIT round trips.
    """
    view.reads_only = True
    return view


def mark_read_only_request(app):
    """before_request, registered after every feature's hooks: a marked view's request reads only,
    unless a hook already left work to write (the end of an idle session)."""
    view = app.view_functions.get(request.endpoint)
    if getattr(view, "reads_only", False) and not transaction.has_standing_work():
        setattr(g, READS_ONLY, True)
        if not is_sqlite():
            # Each statement sees what is committed, as in READ COMMITTED; no BEGIN and COMMIT round trips.
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection):
    if connection.dialect.name == "sqlite":
        deferred = has_app_context() and g.get(READS_ONLY, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
