"""Two organisers booking one room at the same moment: only one of them gets it."""

from collections import Counter
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Event, EventSession
from eventapp.services.programme import schedule
from tests import race_windows
from tests.concurrency import run_at_once

WRITERS = 6


def book_concurrently(app, event_id: int, room_id: int) -> Counter:
    def set_up(index: int):
        event = db.session.get(Event, event_id)  # run_at_once commits this read, then waits

        def book() -> str:
            schedule.create_session(
                None,
                event,
                {
                    "title": f"Booking {index}",
                    "starts_at": "2027-03-18T10:00",
                    "ends_at": "2027-03-18T11:00",
                    "room_id": room_id,
                },
                datetime(2027, 2, 1, tzinfo=UTC),
            )
            return "booked"

        return book

    return run_at_once(app, [partial(set_up, i) for i in range(WRITERS)])


def sessions_in_room(room_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(EventSession).where(EventSession.room_id == room_id)
    )


def test_one_room_one_booking_under_concurrency(app, make_event, make_room, monkeypatch):
    event = make_event()
    room = make_room(event)
    race_windows.pause_after_the_conflict_check(monkeypatch, 0.05)
    outcomes = book_concurrently(app, event.id, room.id)
    assert outcomes == Counter({"booked": 1, "conflict": WRITERS - 1})
    assert sessions_in_room(room.id) == 1


def test_control_without_the_lock_the_room_is_double_booked(
    app, make_event, make_room, monkeypatch
):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("SQLite queues whole writing transactions at BEGIN IMMEDIATE: no race")
    event = make_event()
    room = make_room(event)
    race_windows.drop_the_event_lock(monkeypatch)
    race_windows.pause_after_the_conflict_check(monkeypatch, 0.2)
    book_concurrently(app, event.id, room.id)
    assert sessions_in_room(room.id) > 1
