"""Engine settings that make the capacity guard hold on SQLite as it does on PostgreSQL."""

import functools

from flask import Flask, current_app, g, has_app_context, request
from sqlalchemy import Integer, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.sql.functions import FunctionElement

from .extensions import db


def configure_engines(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _make_sqlite_transactional(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
            # First of all before_request hooks, so no query runs before the flag is set.
            app.before_request_funcs.setdefault(None, []).insert(0, _mark_reading_request)


def _make_sqlite_transactional(engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for every transaction.

    pysqlite's own implicit BEGIN is deferred: two writers that both read first then fail
    to upgrade their lock with "database is locked" at once, ignoring the busy timeout.
    Taking the write lock at BEGIN makes writers queue instead (SQLAlchemy's documented
    recipe for SQLite transactions). Readers are not blocked in WAL mode.

    Except GET and HEAD requests (SQLITE_DEFERRED_READS): they change nothing, so they begin
    a plain deferred transaction, which reads a snapshot and takes no lock. Taking the write
    lock for them would make every page view, across all gunicorn workers, wait for every
    registration and every other page view while the page renders.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # switch off pysqlite's implicit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN" if _reading_request() else "BEGIN IMMEDIATE")


def _mark_reading_request() -> None:
    """Set only while the app dispatches a real request: code that merely borrows a request
    context (the mail worker renders inside test_request_context) still writes safely."""
    g.sqlite_reading_request = request.method in ("GET", "HEAD") and current_app.config.get(
        "SQLITE_DEFERRED_READS", True
    )


def _reading_request() -> bool:
    return has_app_context() and g.get("sqlite_reading_request", False)


def reads_before_writing(view):
    """For a POST view that reads and checks a good deal before it writes (registration).

    On SQLite a writing request begins with BEGIN IMMEDIATE and so holds the database's
    single write lock from its first query to its commit: every other writer, in every
    gunicorn worker, waits all that time. Such a view instead begins like a page view, with
    a deferred transaction that reads a snapshot and locks nothing, until the service calls
    start_writing(). No effect on PostgreSQL.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.sqlite_reading_request = current_app.config.get("SQLITE_DEFERRED_READS", True)
        return view(*args, **kwargs)

    return wrapper


def start_writing() -> None:
    """From here on this request writes: on SQLite, end its read snapshot and take the
    write lock (see reads_before_writing).

    The connection stays the same and what was read stays loaded: a COMMIT ends the read
    transaction, which wrote nothing, and BEGIN IMMEDIATE starts the writing one, whose
    commit is the request's. (A session commit would hand the connection back to the pool
    and take it out again, with its ping, for the writes.) What was read may be a few
    milliseconds old when the writes begin, as it may on PostgreSQL, where each statement
    sees what was committed before it: the seat guard and the unique indexes decide in the
    writes themselves, not on what was read.
    """
    if not (_reading_request() and db.engine.dialect.name == "sqlite"):
        return
    g.sqlite_reading_request = False  # a connection taken from here on begins IMMEDIATE
    sqlite_connection = db.session.connection().connection.driver_connection
    sqlite_connection.execute("COMMIT")  # transaction control, as on_begin's BEGIN
    sqlite_connection.execute("BEGIN IMMEDIATE")


def session_holds_sqlite_write_lock() -> bool:
    """Whether db.session's transactions here begin with BEGIN IMMEDIATE on SQLite.

    SQLite has one write lock for the whole file; while this request's transaction holds
    it, a write on another connection would wait for this very request to finish.
    """
    return db.engine.dialect.name == "sqlite" and not _reading_request()


def commit_without_expiring() -> None:
    """Commit, keeping the loaded objects' values instead of expiring them.

    A plain commit expires every object, so building the response afterwards reads back
    the attendee, each registration and each session. What this transaction just wrote
    is what was committed, so the values in hand are current.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def loaded(model, pk: int):
    """The object for `model`'s row `pk` if this session already holds it, else None,
    without a query. The identity key is built directly: identity_key() costs more Python
    than the lookup, and this runs once per session on the registration path."""
    return db.session.identity_map.get((model, (pk,), None))


def adopt(model, written: dict):
    """The ORM object for a row this transaction just wrote with a Core INSERT.

    `written` is the whole row as written, every column and the new id
    (registration_writes.complete_row: the values given, the Python-side defaults, None for
    the rest; these tables have no server-side defaults). The object joins the session as if
    a query had loaded it: no INSERT from the unit of work and no read-back, whose
    bookkeeping costs several times the INSERT itself on the registration path
    (docs/PERFORMANCE.md).
    """
    instance = manager_of_class(model).new_instance()  # no __init__: no change events
    instance.__dict__.update(written)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


class EpochBucket(FunctionElement):
    """`EpochBucket(column, seconds)`: which period of `seconds` since 1970 (UTC) a stored
    instant falls in, as a whole number, so a query can count per period on both databases
    (the dashboard's timeline)."""

    type = Integer()
    inherit_cache = True


@compiles(EpochBucket, "postgresql")
def _epoch_bucket_postgresql(element, compiler, **kw):
    column, seconds = element.clauses
    return (
        f"floor(extract(epoch FROM {compiler.process(column, **kw)}) / "
        f"{compiler.process(seconds, **kw)})"
    )


@compiles(EpochBucket, "sqlite")
def _epoch_bucket_sqlite(element, compiler, **kw):
    column, seconds = element.clauses  # SQLite keeps naive UTC text (models/types.py)
    return (
        f"(CAST(strftime('%s', {compiler.process(column, **kw)}) AS INTEGER) / "
        f"{compiler.process(seconds, **kw)})"
    )
