"""Races made to happen: many writers at once, separate connections, against the real DB.

tests/race_windows.py pauses between reading the counters and the seat write. With the
guard replaced by a naive read-check-write (the control, built in tests/race_windows.py),
the session overbooks (PostgreSQL; SQLite's BEGIN IMMEDIATE already queues whole
transactions); with the guard, exactly `capacity` attendees are confirmed on both databases.
"""

from collections import Counter
from functools import partial

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Event, Registration
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests import race_windows
from tests.concurrency import run_at_once

WRITERS = 50
SEATS = 10


def register_concurrently(app, event_id: int, session_id, *, waitlist: bool, now):
    """Start WRITERS registrations at the same instant, each on its own connection.

    `session_id` is one id for all, or a function of the writer's index giving its ids.
    An unexpected error (a deadlock, say) is an outcome too, named after its class.
    """

    def set_up(index: int):
        event = db.session.get(Event, event_id)
        data = RegistrationInput(
            name=f"Attendee {index}",
            email=f"a{index}@example.org",
            session_ids=session_id(index) if callable(session_id) else [session_id],
            waitlist=waitlist,
            consent=True,
        )
        # run_at_once then commits, before the barrier, to end this read: on SQLite it
        # holds the write lock (IMMEDIATE)
        return lambda: service.register(event, data, now).status

    return run_at_once(app, [partial(set_up, i) for i in range(WRITERS)])


def confirmed_rows(session_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session_id, Registration.status == "confirmed"
        )
    )


@pytest.mark.parametrize("waitlist", [False, True], ids=["refuse", "waitlist"])
@pytest.mark.parametrize("one_statement", [True, False], ids=["one-statement", "step-by-step"])
def test_fifty_writers_ten_seats_exactly_ten_confirmed(
    app, make_event, make_session, now, waitlist, one_statement, monkeypatch
):
    """On PostgreSQL a new registration writes in one statement (registration_writes); the
    step-by-step path, SQLite's, is raced on PostgreSQL too. The pause widens the gap
    between the step-by-step path's reads and its seat UPDATE; one statement has none."""
    if one_statement and app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("SQLite has only the step-by-step path")
    if not one_statement:
        race_windows.write_step_by_step(monkeypatch)
    event = make_event()
    session = make_session(event, capacity=SEATS)
    race_windows.pause_before_taking_seats(monkeypatch, 0.01)

    outcomes = register_concurrently(app, event.id, session.id, waitlist=waitlist, now=now)

    assert sum(outcomes.values()) == WRITERS
    assert outcomes["confirmed"] == SEATS
    other = "waitlisted" if waitlist else "full"
    assert outcomes[other] == WRITERS - SEATS
    assert confirmed_rows(session.id) == SEATS
    db.session.refresh(session)
    assert session.seats_taken == SEATS


def test_control_without_the_guard_the_race_overbooks(
    app, make_event, make_session, now, monkeypatch
):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("SQLite queues whole writing transactions at BEGIN IMMEDIATE: no race")
    event = make_event()
    session = make_session(event, capacity=SEATS)
    race_windows.take_seats_naively(monkeypatch, pause_seconds=0.05)

    register_concurrently(app, event.id, session.id, waitlist=False, now=now)

    assert confirmed_rows(session.id) > SEATS  # the lost update the guard exists to stop


def test_writers_choosing_overlapping_sessions_in_any_order_never_deadlock(
    app, make_event, make_session, now
):
    """All seats are taken in one statement that locks the sessions in id order, after the
    registration rows are inserted (whose foreign keys take KEY SHARE locks on the same
    sessions). Writers list their sessions in different orders; none may fail."""
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=1000, start=0)
    workshops = [make_session(event, start=1 + i, capacity=1000) for i in range(3)]
    ids = [plenary.id, *(w.id for w in workshops)]

    def sessions_of(index: int) -> list[int]:
        return ids[index % 4 :] + ids[: index % 4]  # every rotation of the same four

    outcomes = register_concurrently(app, event.id, sessions_of, waitlist=False, now=now)

    assert outcomes == Counter({"confirmed": WRITERS})
    for session_id in ids:
        assert confirmed_rows(session_id) == WRITERS
