"""The benchmark's own endpoints, mounted only by its WSGI entry point (bench/wsgi_bench.py,
which bench/run.py serves): the app never imports this module.

- `POST /_bench/baseline`: one INSERT into the trivial table `bench_baseline`, committed: the
  cheapest useful write this app and server can do, so `make bench` can report registration
  throughput as a ratio to it. The table is created by the bench setup (bench/seed.py), never
  by the app's migrations; without it the endpoint fails, as it should outside a benchmark.
- `GET /_bench/read`: reads 20 rows of `bench_baseline` and answers them as JSON: the cheapest
  useful page this app and server can serve, so `make bench` reports the public pages (the
  programme, the form, a session) and the opening minute as ratios to it.
- `POST /_bench/registration-sql/<slug>`: the SQL a registration runs and nothing else (see
  registration_sql): how fast this app and server could register if its Python cost
  nothing, so `make bench` shows how much of the gap to the baseline is the database's.
- Every response carries `X-SQL-Queries`: the number of SQL statements the request ran, so
  the bench reads queries per request from the real server.

Never serve this in production: the endpoints are unauthenticated and CSRF-exempt.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from dataclasses import dataclass

from flask import Blueprint, Flask, jsonify, request, request_started
from sqlalchemy import ARRAY, Integer, any_, bindparam, event, func, select, text

from eventapp import create_app
from eventapp.extensions import csrf, db
from eventapp.models import Attendee, Event, EventSession, OutboxMessage, Registration
from eventapp.models.types import utcnow
from eventapp.services.registration import capacity, writes
from eventapp.web.consent import consent_record

bp = Blueprint("bench_baseline", __name__)

BASELINE_TABLE_SQL = {
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS bench_baseline ("
        "id BIGSERIAL PRIMARY KEY, note VARCHAR(64) NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
    ),
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS bench_baseline ("
        "id INTEGER PRIMARY KEY, note VARCHAR(64) NOT NULL, created_at VARCHAR(40) NOT NULL)"
    ),
}


@bp.post("/_bench/baseline")
def baseline_insert():
    db.session.execute(
        text("INSERT INTO bench_baseline (note, created_at) VALUES (:note, :created_at)"),
        {"note": "baseline", "created_at": utcnow()},
    )
    db.session.commit()
    return jsonify({"status": "ok"}), 201


READ_ROWS = 20  # bench/seed.py keeps at least this many rows in bench_baseline


@bp.get("/_bench/read")
def baseline_read():
    rows = db.session.execute(
        text("SELECT id, note, created_at FROM bench_baseline ORDER BY id LIMIT :n"),
        {"n": READ_ROWS},
    ).all()
    return jsonify([{"id": i, "note": note, "created_at": str(at)} for i, note, at in rows])


@dataclass(frozen=True)
class RawStatement:
    """A Core statement compiled once for the driver: its SQL text, its parameters' order
    (for positional paramstyles) and each parameter's bind processor, so that running it is
    one DBAPI call with no SQLAlchemy execution machinery in between."""

    sql: str
    order: tuple[str, ...] | None
    processors: dict
    fixed: dict  # the values compiled into the statement (literals)

    @classmethod
    def compile(cls, statement, dialect, columns=None) -> RawStatement:
        """`columns`: for an INSERT without values, the columns it gets (as complete_row)."""
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := dialect.type_descriptor(bind.type).bind_processor(dialect))
        }
        fixed = {
            name: bind.value for name, bind in compiled.binds.items() if bind.value is not None
        }
        order = tuple(compiled.positiontup) if compiled.positional else None
        return cls(compiled.string, order, processors, fixed)

    def run(self, cursor, values: dict) -> list[tuple]:
        values = self.fixed | values
        for name, processor in self.processors.items():
            values[name] = processor(values[name])
        cursor.execute(self.sql, values if self.order is None else [values[n] for n in self.order])
        return cursor.fetchall()


def _ids_from_json():
    """SQLite's stand-in for an array parameter: the ids of the JSON list `ids`, one
    parameter whatever their number, so the SQL text stays fixed."""
    return select(func.json_each(bindparam("ids")).table_valued("value").c.value)


def _event_with_sessions(dialect: str):
    """programme.get_event's query for a registration (the event outer-joined to the chosen
    sessions), with the ids as one parameter: an array on PostgreSQL, JSON on SQLite."""
    events, sessions = Event.__table__, EventSession.__table__
    if dialect == "postgresql":
        chosen = sessions.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        chosen = sessions.c.id.in_(_ids_from_json())
    return (
        select(*events.c, *sessions.c)
        .select_from(events.outerjoin(sessions, (sessions.c.event_id == events.c.id) & chosen))
        .where(events.c.slug == bindparam("slug"))
    )


@functools.cache
def _registration_sql(dialect) -> dict[str, RawStatement]:
    statements = {"read": _event_with_sessions(dialect.name)}
    if dialect.name == "postgresql":
        statements["write"] = writes._ONE_STATEMENT
    else:
        statements["attendee"] = writes._insert_attendee_statement("sqlite")
        statements["message"] = writes._INSERT_MESSAGE
        statements["row"] = writes._INSERT_REGISTRATIONS
        statements["seats"] = capacity.guarded_seat_update(
            EventSession.__table__.c.id.in_(_ids_from_json())
        )
    return {
        name: RawStatement.compile(statement, dialect, _INSERTED_COLUMNS.get(name))
        for name, statement in statements.items()
    }


_INSERTED_COLUMNS = {  # what complete_row gives: every column but the id
    name: [column.key for column in table.c if not column.primary_key]
    for name, table in (
        ("attendee", Attendee.__table__),
        ("message", OutboxMessage.__table__),
        ("row", Registration.__table__),
    )
}


def _rows_as_registered(event_id: int, body: dict, session_ids: list[int]):
    """The attendee, outbox and registration rows a registration of `body` writes: what it
    sent as sent, the values that must be unique made fresh, the consent record as the API
    writes it, and the rest as the rules would have made them."""
    now = utcnow()
    email = body["email"]
    attendee = writes.complete_row(
        Attendee.__table__,
        {
            "event_id": event_id,
            "reference": secrets.token_hex(4).upper(),
            "name": body["name"],
            "email": email,
            "email_normalized": email.lower(),
            "email_domain": email.rpartition("@")[2].lower(),
            "organisation": body.get("organisation", ""),
            "job_role": "",
            "locale": "en",
            "checkin_code": secrets.token_hex(5).upper(),
            "consent_at": now,
            "consent_text": consent_record("api", "en"),
            "created_at": now,
            "token_nonce": secrets.token_hex(32),
            "feed_nonce": secrets.token_hex(32),
            "token_hash": secrets.token_hex(32),
            "feed_token_hash": secrets.token_hex(32),
        },
    )
    message = writes.complete_row(
        OutboxMessage.__table__,
        {
            "kind": "confirmation",
            "event_id": event_id,
            "recipient": email,
            "locale": "en",
            "payload": {"session_ids": session_ids},
            "next_attempt_at": now,
        },
    )
    row = writes.complete_row(
        Registration.__table__, {"status": "confirmed", "waitlisted_at": None, "created_at": now}
    )
    return attendee, message, row, now


@bp.post("/_bench/registration-sql/<slug>")
def registration_sql(slug: str):
    """The statements a registration runs, with the same values, through the raw driver:
    the event-and-sessions read, then the writes as services/registration/writes.py does them (one
    statement on PostgreSQL; on SQLite the attendee, its message, the rows, one INSERT each
    where the app sends one for all, and the seats), then the commit. No input validation, no
    rules, no ORM objects, no private links: what is left is the database's work and the
    least Python that can ask for it. Its throughput is the most any registration code in
    this app and server could reach."""
    body = request.get_json()
    ids = sorted(body["session_ids"])
    connection = db.session.connection()
    sql = _registration_sql(connection.dialect)
    cursor = connection.connection.driver_connection.cursor()
    postgresql = connection.dialect.name == "postgresql"
    chosen = ids if postgresql else json.dumps(ids)
    event_id = sql["read"].run(cursor, {"slug": slug, "ids": chosen})[0][0]
    attendee, message, row, now = _rows_as_registered(event_id, body, ids)
    if postgresql:
        values = writes.one_statement_params(attendee, message, row, ids)
        sql["write"].run(cursor, values | {"updated_at": now})
    else:
        cursor.connection.execute("COMMIT")  # as database.start_writing: now the write lock
        cursor.connection.execute("BEGIN IMMEDIATE")
        attendee_id = sql["attendee"].run(cursor, attendee)[0][0]
        sql["message"].run(cursor, message | {"attendee_id": attendee_id})
        for session_id in ids:
            sql["row"].run(cursor, row | {"attendee_id": attendee_id, "session_id": session_id})
        sql["seats"].run(cursor, {"ids": chosen, "updated_at": now})
    db.session.commit()
    return jsonify({"status": "ok"}), 201


def create_bench_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """The app as create_app builds it (same settings: instance/config.py, FLASK_* variables,
    `config`), with the bench's endpoints and query counter on top."""
    app = create_app(config, instance_path)
    init_app(app)
    return app


def init_app(app: Flask) -> None:
    """Mount the endpoints and count each request's queries; call before the first request."""
    csrf.exempt(bp)
    app.register_blueprint(bp)

    with app.app_context():
        engine = db.engine

    # A thread-local counter, not flask.g: the listener runs for every statement, and each
    # lookup through g's context proxy costs more than the counting; the instrument should
    # not weigh on a registration (several statements) more than on the baseline (one).
    counter = threading.local()

    def start_counting(*_args, **_kwargs):
        counter.queries = 0

    # At the request's start, before any before_request hook could run a query.
    request_started.connect(start_counting, app, weak=False)

    @event.listens_for(engine, "before_cursor_execute")
    def count_query(*_args, **_kwargs):
        counter.queries = getattr(counter, "queries", 0) + 1

    @app.after_request
    def report_query_count(response):
        response.headers["X-SQL-Queries"] = str(getattr(counter, "queries", 0))
        return response
