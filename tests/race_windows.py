"""Race windows opened from outside the production code, for the concurrency tests.

Production code has no test switches: these helpers replace, through pytest's monkeypatch
(undone after each test), a small production function that the race passes through. Some
widen the window with a pause, so the race happens every run; the naive versions are the
control tests' own code, here and not in eventapp, to show that without the guard the race
does the damage the guard exists to stop, so the real tests can fail.
"""

import time

from sqlalchemy import select, update

from eventapp.extensions import db
from eventapp.models import EventSession
from eventapp.services.programme import conflicts
from eventapp.services.programme.schedule import changes as schedule_changes
from eventapp.services.registration import capacity, holds, writes


def write_step_by_step(monkeypatch) -> None:
    """Registrations write step by step on PostgreSQL too (SQLite's path), where the seat
    UPDATE comes after the other writes, so its guard can be raced."""
    monkeypatch.setattr(writes, "writes_in_one_statement", lambda _dialect: False)


def pause_before_taking_seats(monkeypatch, seconds: float) -> None:
    """Read the sessions' counters, wait, then take the seats through the real guard: every
    concurrent writer has read the same counters before any of them writes."""
    guarded = capacity.take_seat_each

    def paused(session_ids):
        ids = sorted(set(session_ids))
        if ids:
            db.session.execute(select(EventSession.seats_taken).where(EventSession.id.in_(ids)))
            time.sleep(seconds)
        return guarded(ids)

    monkeypatch.setattr(capacity, "take_seat_each", paused)


def take_seats_naively(monkeypatch, pause_seconds: float) -> None:
    """The control: seats taken the naive way (read the counter, check it in Python, pause,
    write the new value back), on the step-by-step path. Concurrent writers all see a free
    seat and all write, so the session overbooks."""
    write_step_by_step(monkeypatch)

    def take_seat_each(session_ids):
        ids = sorted(set(session_ids))
        return {session_id for session_id in ids if _take_seat_naively(session_id, pause_seconds)}

    monkeypatch.setattr(capacity, "take_seat_each", take_seat_each)


def _take_seat_naively(session_id: int, pause_seconds: float) -> bool:
    taken, seats = db.session.execute(
        select(EventSession.seats_taken, EventSession.capacity).where(EventSession.id == session_id)
    ).one()
    time.sleep(pause_seconds)
    if taken >= seats:
        return False
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session_id)
        .values(seats_taken=taken + 1)
        .execution_options(synchronize_session=False)
    )
    capacity.keep_counter(session_id, taken + 1)
    return True


def pause_after_the_conflict_check(monkeypatch, seconds: float) -> None:
    """Wait between an organiser's conflict check and the write of the new session, so
    concurrent bookings of one room have all checked before any of them writes."""
    check = conflicts.check_session

    def check_then_pause(plan):
        found = check(plan)
        time.sleep(seconds)
        return found

    monkeypatch.setattr(conflicts, "check_session", check_then_pause)


def drop_the_event_lock(monkeypatch) -> None:
    """The control: programme changes no longer take the event's row lock."""
    monkeypatch.setattr(schedule_changes, "lock_event", lambda _event: None)


def decide_holds_unlocked(monkeypatch, pause_seconds: float) -> None:
    """The control of the hold races: a confirmation and the release job decide on the
    attendee as they loaded it, without locking it or reading it again, after a pause. A
    confirmation then lands on a registration the job has just cancelled, or the job
    cancels one that was just confirmed."""

    def as_loaded(attendee):
        for name in ("status", "hold_expires_at"):
            getattr(attendee, name)  # loaded now, decided on after the pause
        time.sleep(pause_seconds)
        return attendee

    monkeypatch.setattr(holds, "_locked", as_loaded)
