"""The writes of a new registration: the attendee, the confirmation email's outbox row, one
registration row per chosen session, and a seat in each.

On PostgreSQL they are one statement: data-modifying CTEs, one round trip where the
step-by-step path takes four. At the minute registration opens the round trips, and the
server's work per statement, are what a registration costs beyond the baseline's single
INSERT (docs/PERFORMANCE.md). On SQLite, which has no data-modifying CTEs and no round trips
to save, the same values go in one statement each.

Both paths write the same values, computed once in Python (`complete_row`), and report the
same `Written`; what to make of a session that had no seat free stays with the caller
(services/registration.py), for both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    Integer,
    any_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import Attendee, EventSession, OutboxMessage, Registration
from . import capacity


@dataclass(frozen=True)
class Written:
    """What the writes did. `attendee_id` is None when the email was already registered for
    the event: then nothing at all was written."""

    attendee_id: int | None
    row_ids: dict[int, int]  # session id -> the new registration row's id
    seated: set[int]  # the sessions in which a seat was taken


def complete_row(table, values: dict) -> dict:
    """`values` plus the columns' Python-side defaults, every other column None: the whole
    row as written, which the ORM objects are then built from (database.adopt)."""
    fixed, computed = _column_defaults(table)
    row = fixed | values
    for key, make in computed:
        if key not in values:
            row[key] = make(None)  # SQLAlchemy wraps a default callable to take a context
    return row


@functools.cache
def _column_defaults(table) -> tuple[dict, tuple]:
    """The table's fixed defaults (None where there is none) and its computed ones."""
    fixed, computed = {}, []
    for column in table.c:
        if column.primary_key:
            continue
        if column.default is not None and column.default.is_callable:
            computed.append((column.key, column.default.arg))
        else:
            fixed[column.key] = column.default.arg if column.default is not None else None
    return fixed, tuple(computed)


def write_new_registration(attendee: dict, message: dict, row: dict, session_ids) -> Written:
    """Write the attendee, its outbox message and one registration row per session, then
    take a seat in each session that has one free.

    The three dicts are whole rows (complete_row); the ids this write decides are filled in
    here: the message's and the rows' attendee_id, each row's session_id. One `row` serves
    every session, as the rows differ only in that. The seats are taken in id order, so
    two registrations' locks never cross.
    """
    ids = sorted(session_ids)
    dialect = db.session.get_bind().dialect.name
    if writes_in_one_statement(dialect):
        return _write_in_one_statement(attendee, message, row, ids)
    return _write_step_by_step(attendee, message, row, ids, dialect)


def writes_in_one_statement(dialect: str) -> bool:
    """Whether the database can take a registration's writes as one statement: data-modifying
    CTEs are PostgreSQL's; SQLite has none (and no round trips to save), so it goes step by
    step. The tests replace this to run the step-by-step path on PostgreSQL as well, where
    it can race."""
    return dialect == "postgresql"


def _write_step_by_step(attendee, message, row, ids, dialect) -> Written:
    new_id = db.session.execute(_insert_attendee_statement(dialect), attendee).scalar_one_or_none()
    if new_id is None:
        return Written(None, {}, set())
    db.session.execute(_INSERT_MESSAGE, message | {"attendee_id": new_id})
    row_ids = insert_rows(
        [row | {"attendee_id": new_id, "session_id": session_id} for session_id in ids]
    )
    return Written(new_id, row_ids, capacity.take_seat_each(ids))


def insert_rows(rows: list[dict]) -> dict[int, int]:
    """One INSERT for all of one attendee's new registration rows; their ids by session."""
    if not rows:
        return {}
    result = db.session.execute(_INSERT_REGISTRATIONS, rows)
    return {session_id: id_ for id_, session_id in result.all()}


def _insert_attendee_statement(dialect: str):
    """INSERT ... ON CONFLICT (event, normalised email) DO NOTHING RETURNING id: the unique
    index decides whether the email is new, also between two concurrent requests."""
    if dialect not in _INSERT_ATTENDEE:
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = Attendee.__table__
        _INSERT_ATTENDEE[dialect] = (
            insert_(table)
            .on_conflict_do_nothing(index_elements=[table.c.event_id, table.c.email_normalized])
            .returning(table.c.id)
        )
    return _INSERT_ATTENDEE[dialect]


_INSERT_ATTENDEE: dict = {}
_INSERT_MESSAGE = insert(OutboxMessage.__table__)

# Rows come back in any order (asking for parameter order costs SQLite one INSERT per row);
# each is one (attendee, session) pair, which is all the caller goes by.
_INSERT_REGISTRATIONS = insert(Registration.__table__).returning(
    Registration.__table__.c.id, Registration.__table__.c.session_id
)


def one_statement_params(attendee: dict, message: dict, row: dict, ids: list[int]) -> dict:
    """The one statement's parameters (_one_statement): each row's values under its CTE's
    prefix, but the ids the statement decides itself."""
    params = {f"attendee_{key}": value for key, value in attendee.items()}
    params |= {f"message_{key}": value for key, value in message.items() if key != "attendee_id"}
    params |= {
        f"row_{key}": value
        for key, value in row.items()
        if key not in ("attendee_id", "session_id")
    }
    params["session_ids"] = ids
    return params


def _write_in_one_statement(attendee, message, row, ids) -> Written:
    params = one_statement_params(attendee, message, row, ids)
    attendee_id, row_ids, seated = None, {}, set()
    for kind, first, second in db.session.execute(_ONE_STATEMENT, params):
        if kind == "attendee":
            attendee_id = first
        elif kind == "row":
            row_ids[first] = second
        else:
            seated.add(first)
            capacity.keep_counter(first, second)
    return Written(attendee_id, row_ids, seated)


def _one_statement():
    """WITH new_attendee AS (INSERT ... ON CONFLICT DO NOTHING RETURNING id),
         new_message AS (INSERT INTO outbox_message SELECT ... FROM new_attendee),
         new_rows AS (INSERT INTO registration SELECT ... FROM new_attendee, unnest(ids)),
         locked AS (SELECT id FROM event_session WHERE id = ANY(ids) AND a new attendee
                    ORDER BY id FOR NO KEY UPDATE),
         seated AS (UPDATE event_session ... FROM locked WHERE a seat is free RETURNING ...)
    SELECT what each of them returned.

    Every CTE hangs off new_attendee, so a known email writes nothing at all. The seat
    guard is capacity's own (guarded_seat_update, as take_seat_each runs it): the locks in
    id order, FOR NO KEY UPDATE, the condition re-checked on the newest row version after
    a wait. The registration rows' foreign keys are checked at the end of
    the statement, when the attendee row exists. One array parameter instead of an
    expanding IN keeps the SQL text the same for any number of sessions, so psycopg can
    prepare it once per connection.
    """
    attendees = Attendee.__table__
    messages = OutboxMessage.__table__
    rows = Registration.__table__
    sessions = EventSession.__table__
    session_ids = bindparam("session_ids", type_=ARRAY(Integer))

    def params(table, prefix, skip=()):
        return {
            column.key: bindparam(f"{prefix}_{column.key}", type_=column.type)
            for column in table.c
            if not column.primary_key and column.key not in skip
        }

    new_attendee = (
        postgresql.insert(attendees)
        .values(params(attendees, "attendee"))
        .on_conflict_do_nothing(index_elements=[attendees.c.event_id, attendees.c.email_normalized])
        .returning(attendees.c.id)
        .cte("new_attendee")
    )
    message_columns = params(messages, "message", skip=("attendee_id",))
    new_message = (
        insert(messages)
        .from_select(
            ["attendee_id", *message_columns],
            select(new_attendee.c.id, *message_columns.values()),
        )
        .returning(messages.c.id)
        .cte("new_message")
    )
    row_columns = params(rows, "row", skip=("attendee_id", "session_id"))
    chosen = func.unnest(session_ids).table_valued("id").render_derived(name="chosen")
    new_rows = (
        insert(rows)
        .from_select(
            ["attendee_id", "session_id", *row_columns],
            select(new_attendee.c.id, chosen.c.id, *row_columns.values()).select_from(
                new_attendee.join(chosen, true())  # each chosen session, for the new attendee
            ),
        )
        .returning(rows.c.id, rows.c.session_id)
        .cte("new_rows")
    )
    seated = capacity.guarded_seat_update(
        sessions.c.id == any_(session_ids), exists(select(new_attendee.c.id))
    ).cte("seated")
    return union_all(
        select(literal("attendee"), new_attendee.c.id, cast(null(), Integer)),
        select(literal("row"), new_rows.c.session_id, new_rows.c.id),
        select(literal("seat"), seated.c.id, seated.c.seats_taken),
    ).add_cte(new_message)


_ONE_STATEMENT = _one_statement()
