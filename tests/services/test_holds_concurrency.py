"""Confirmations and the release job at the same instant (services/registration/holds.py):
each held registration ends confirmed or released, once, never both; the seat counter
equals the rows; on PostgreSQL no deadlock, whatever order the writers meet in."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, OutboxMessage
from eventapp.services.registration import holds
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)
from tests.concurrency import run_at_once
from tests.race_windows import decide_holds_unlocked

HELD = 6


def held_registrations(event, session, now) -> list[int]:
    ids = []
    for number in range(HELD):
        result = registration.register(
            event,
            RegistrationInput(
                name=f"Held {number}",
                email=f"held{number}@example.org",
                session_ids=[session.id],
                consent=True,
                public=True,
            ),
            now,
        )
        ids.append(result.attendee.id)
    db.session.commit()
    return ids


def race(app, event, plenary, now) -> tuple[list[int], dict]:
    """Half the held attendees confirm while two release jobs run, all at the instant the
    holds run out; returns the attendee ids and the writers' outcomes."""
    attendee_ids = held_registrations(event, plenary, now)
    due = now + timedelta(minutes=event.hold_minutes)

    def confirm(attendee_id):
        def set_up():
            attendee = db.session.get(Attendee, attendee_id)
            return lambda: "confirmed" if holds.confirm_hold(attendee, due) else "no change"

        return set_up

    def release():
        return lambda: f"released {holds.release_expired_holds(due)}"

    writers = [confirm(i) for i in attendee_ids[: HELD // 2]] + [release, release]
    return attendee_ids, run_at_once(app, writers)


def ends(attendee_ids) -> tuple[set[int], set[int], dict[int, int]]:
    """Who ended confirmed, who released, and the confirmation emails queued per attendee."""
    db.session.expire_all()
    attendees = db.session.scalars(select(Attendee).where(Attendee.id.in_(attendee_ids))).all()
    confirmed = {a.id for a in attendees if a.status == "active" and a.hold_expires_at is None}
    released = {a.id for a in attendees if a.status == "cancelled" and a.hold_expires_at}
    emails = dict(
        db.session.execute(
            select(OutboxMessage.attendee_id, func.count())
            .where(OutboxMessage.kind == "confirmation")
            .group_by(OutboxMessage.attendee_id)
        ).all()
    )
    return confirmed, released, emails


def test_confirmations_and_two_release_jobs_at_once_each_hold_ends_once(
    app, make_event, make_session, now
):
    event = make_event(confirm_email_first=True, hold_minutes=30)
    plenary = make_session(event, kind="plenary", capacity=HELD)
    attendee_ids, outcomes = race(app, event, plenary, now)
    assert not [o for o in outcomes if o.startswith("error")], outcomes

    confirmed, released, emails = ends(attendee_ids)
    assert confirmed | released == set(attendee_ids) and not confirmed & released
    assert set(attendee_ids[HELD // 2 :]) <= released  # nobody confirmed those
    assert outcomes["confirmed"] + outcomes["registration_closed"] == HELD // 2
    assert outcomes["confirmed"] == len(confirmed)
    reported = sum(int(o.split()[1]) for o in outcomes if o.startswith("released"))
    assert reported == len(released)
    assert emails == {attendee_id: 1 for attendee_id in confirmed}
    assert db.session.get(EventSession, plenary.id).seats_taken == len(confirmed)
    assert confirmed_count_matches_counter(plenary.id)


def test_control_deciding_on_the_loaded_attendee_confirms_or_releases_wrongly(
    app, make_event, make_session, now, monkeypatch
):
    """Without the lock and the fresh read, the same race leaves registrations that are
    cancelled yet emailed a confirmation, or confirmed in the answer yet cancelled: what
    the first test would catch. PostgreSQL only: SQLite runs one writing transaction at a
    time, so there the race cannot happen at all."""
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no race to lose")
    decide_holds_unlocked(monkeypatch, 0.3)
    event = make_event(confirm_email_first=True, hold_minutes=30)
    plenary = make_session(event, kind="plenary", capacity=HELD)
    attendee_ids, outcomes = race(app, event, plenary, now)

    confirmed, released, emails = ends(attendee_ids)
    wrong = (confirmed | released) != set(attendee_ids) or outcomes["confirmed"] != len(confirmed)
    assert wrong or set(emails) != confirmed, (outcomes, confirmed, released, emails)
