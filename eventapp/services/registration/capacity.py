"""The seat counter: the one place where a seat is taken or given back.

The guard is a conditional UPDATE whose row count says whether a seat was free. On
PostgreSQL a concurrent writer waits for the row lock and re-checks the condition on the
committed value; on SQLite every writing transaction starts with BEGIN IMMEDIATE (see
eventapp/database.py), so writers queue. A CHECK constraint on the table backs both.
"""

from collections.abc import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ...database import loaded
from ...extensions import db
from ...models import Attendee, EventSession
from .. import audit


def guarded_seat_update(*which):
    """The seat guard as one statement: lock the sessions `which` selects (clauses on
    event_session's columns) in id order, then take a seat in each that has one free,
    RETURNING (id, seats_taken) of those that got one.

    FOR NO KEY UPDATE is the lock an UPDATE of non-key columns takes anyway: plain FOR
    UPDATE would also wait for the KEY SHARE locks that concurrent INSERTs of registration
    rows take on the session through the foreign key, and deadlock. Used here and, inside
    a larger statement, by registration_writes. Built once by its callers: constructing it
    costs more Python than running it.
    """
    table = EventSession.__table__
    locked = (
        select(table.c.id)
        .where(*which)
        .order_by(table.c.id)
        .with_for_update(key_share=True)
        .cte("locked")
    )
    return (
        update(table)
        .where(
            table.c.id == locked.c.id,
            table.c.status == "scheduled",
            table.c.seats_taken < table.c.capacity,
        )
        .values(seats_taken=table.c.seats_taken + 1)
        .returning(table.c.id, table.c.seats_taken)
    )


_TAKE_SEAT_EACH = guarded_seat_update(
    EventSession.__table__.c.id.in_(bindparam("ids", expanding=True))
)


def take_seat(session_id: int) -> bool:
    """Take one seat if one is free; False when the session is full or not scheduled."""
    return session_id in take_seat_each([session_id])


def take_seat_each(session_ids: Iterable[int]) -> set[int]:
    """Take one seat in each listed session that has one free; return the ids that got one.

    One statement for all of a registration's sessions: on PostgreSQL each seat UPDATE holds
    that session's row lock until the commit, and every other registration for the session
    (the opening plenary: all of them) waits for it, so the fewer round trips after the
    first lock, the more registrations per second. The CTE locks the rows in id order
    (`ORDER BY id FOR NO KEY UPDATE`), so two registrations for overlapping sessions never wait
    for each other in a cycle; SQLite ignores FOR UPDATE and already runs writers one at a
    time (BEGIN IMMEDIATE). take_seat and the step-by-step registration write pass through
    here, so the race tests widen the window before the guard by wrapping this function
    (tests/race_windows.py), and replace it with a naive read-check-write to show the
    guard is what keeps the counter honest.
    """
    ids = sorted(set(session_ids))
    if not ids:
        return set()
    seated = db.session.execute(_TAKE_SEAT_EACH, {"ids": ids}).all()
    for session_id, taken in seated:
        keep_counter(session_id, taken)
    return {session_id for session_id, _taken in seated}


def take_seats(session_id: int, count: int) -> bool:
    """Take `count` seats at once, all or none (a published allocation fills a workshop in
    one UPDATE): the same conditional guard as take_seat, for a batch."""
    if count <= 0:
        return True
    taken = db.session.execute(
        update(EventSession)
        .where(
            EventSession.id == session_id,
            EventSession.status == "scheduled",
            EventSession.seats_taken + count <= EventSession.capacity,
        )
        .values(seats_taken=EventSession.seats_taken + count)
        .returning(EventSession.seats_taken)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if taken is None:
        return False
    keep_counter(session_id, taken)
    return True


def release_seat(session_id: int) -> None:
    left = db.session.execute(
        update(EventSession)
        .where(EventSession.id == session_id, EventSession.seats_taken > 0)
        .values(seats_taken=EventSession.seats_taken - 1)
        .returning(EventSession.seats_taken)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if left is not None:
        keep_counter(session_id, left)


def keep_counter(session_id: int, seats_taken: int) -> None:
    """Put the counter our UPDATE returned on the loaded session, saving a read-back.

    The UPDATE holds the row's lock (PostgreSQL) or the database's write lock (SQLite)
    until this transaction ends, so nobody else can change the value meanwhile.
    """
    session = loaded(EventSession, session_id)
    if session is not None:
        set_committed_value(session, "seats_taken", seats_taken)


def refresh_counters(*sessions: EventSession) -> None:
    """Reload counters changed behind the ORM's back (take_seat and release_seat keep theirs),
    in one statement: a registration that waits for several full workshops reads them all."""
    by_id = {session.id: session for session in sessions}
    if not by_id:
        return
    counters = db.session.execute(
        select(EventSession.id, EventSession.seats_taken).where(EventSession.id.in_(by_id))
    )
    for session_id, seats_taken in counters:
        set_committed_value(by_id[session_id], "seats_taken", seats_taken)


def take_seat_over_capacity(session: EventSession, actor, *, attendee=None) -> bool:
    """An admin's override: add a seat to a full session and take it, in one UPDATE.

    The capacity grows with the seat, so the counter never exceeds it (the database's CHECK
    still holds) and the fill rate shows the truth. The audit trail records who, for whom,
    and the capacity before and after.
    """

    result = db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id, EventSession.status == "scheduled")
        .values(capacity=EventSession.capacity + 1, seats_taken=EventSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(session, ["capacity", "seats_taken"])
    audit.record(
        actor,
        "session.capacity_override",
        session,
        before={"capacity": session.capacity - 1},
        after={
            "capacity": session.capacity,
            "attendee_id": attendee.id if attendee is not None else None,
            "attendee": attendee.reference if attendee is not None else None,
        },
        event=session.event,
    )
    return True


def lock_attendee(attendee: Attendee) -> None:
    """Serialise changes to one attendee (two tabs, two requests) on PostgreSQL.

    FOR NO KEY UPDATE, not FOR UPDATE: a promotion in another transaction queues an email
    for this attendee, and the outbox row's foreign key takes a KEY SHARE lock on the
    attendee, which FOR UPDATE would block (a deadlock when this attendee then waits for a
    session that promotion holds). Two lock_attendee calls still exclude each other."""
    db.session.execute(
        select(Attendee.id).where(Attendee.id == attendee.id).with_for_update(key_share=True)
    )


def lock_sessions(session_ids: Iterable[int]) -> None:
    """Lock these sessions' rows, in id order, before any registration row is locked.

    The one lock order of every path that frees or takes seats of existing registrations
    (cancel, switch, decline, expire, promote): attendee, then sessions by id, then
    registration rows. Promotion holds the session and then flips waiting rows; a cancel
    that locked its registration row first and the session second, while a promotion
    waited on that row, deadlocked (PostgreSQL answers one of them with an error). On
    SQLite the writing transaction already holds the one database lock; this is a no-op.
    """
    ids = sorted(set(session_ids))
    if not ids:
        return
    db.session.execute(
        select(EventSession.id)
        .where(EventSession.id.in_(ids))
        .order_by(EventSession.id)
        .with_for_update(key_share=True)
    )
