"""Freed seats are never lost and never given twice, under concurrent cancellations.

Threads with their own app context (so their own connection) cancel at the same instant
while people leave the waiting list and, with promotion by offer, while offers are
accepted and the expiry job runs in two workers. tests/race_windows.py widens the window
between reading and writing a seat. Afterwards the counter equals the rows holding a
seat, no session is over capacity, and the seats went to the first in line.
"""

from datetime import timedelta

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, Registration
from eventapp.services.periodic import run_periodic
from eventapp.services.registration import register as service
from eventapp.services.registration import waitlist
from eventapp.services.registration.register import RegistrationInput
from tests import race_windows
from tests.concurrency import run_at_once

SEATS = 10
WAITING = 20


def fill(event, session, now):
    """SEATS holders, then WAITING people on the waiting list, one minute apart."""
    holders, waiting = [], []
    for index in range(SEATS + WAITING):
        data = RegistrationInput(
            name=f"P{index}",
            email=f"p{index}@example.org",
            session_ids=[session.id],
            waitlist=True,
            consent=True,
        )
        result = service.register(event, data, now + timedelta(minutes=index))
        (holders if index < SEATS else waiting).append(result.attendee.id)
    db.session.commit()
    return holders, waiting


def at_once(app, jobs) -> list[str]:
    """Run each job in its own thread and app context, all released together; the errors.

    These jobs have nothing to set up before the barrier and return nothing: one that ends
    without an error counts as "done", left out here. What remains is a DomainError's code
    for each job that lost its race, or an unexpected error (a deadlock, a lock timeout)
    that the test must fail on.
    """

    def writer(job):
        def act() -> str:
            job()
            return "done"

        return lambda: act

    outcomes = run_at_once(app, [writer(job) for job in jobs], timeout=180)
    del outcomes["done"]
    return list(outcomes.elements())


def cancel(attendee_id, now):
    def job():
        service.cancel_registration(db.session.get(Attendee, attendee_id), now)

    return job


def seat_rows(session_id) -> dict[str, int]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.session_id == session_id)
            .group_by(Registration.status)
        ).all()
    )


def holding(session_id) -> set[int]:
    return set(
        db.session.scalars(
            select(Registration.attendee_id).where(
                Registration.session_id == session_id,
                Registration.status.in_(waitlist.SEAT_HOLDING),
            )
        )
    )


def counter(session_id) -> int:
    db.session.expire_all()
    return db.session.get(EventSession, session_id).seats_taken


def test_concurrent_cancellations_pass_every_seat_on_once(
    app, make_event, make_session, now, monkeypatch
):
    event = make_event()
    session = make_session(event, capacity=SEATS)
    session_id = session.id
    holders, waiting = fill(event, session, now)
    leaving = waiting[0:12:2]  # positions 1, 3, 5, ... leave while seats are freed
    staying = [a for a in waiting if a not in leaving]
    race_windows.pause_before_taking_seats(monkeypatch, 0.01)

    errors = at_once(app, [cancel(a, now) for a in holders[:8] + leaving])

    assert errors == []
    rows = seat_rows(session_id)
    assert counter(session_id) == rows["confirmed"] == SEATS  # no seat lost or given twice
    assert holding(session_id) == set(holders[8:]) | set(staying[:8])  # first in line first
    assert rows["waitlisted"] == len(staying) - 8


def test_concurrent_cancellations_with_offers_accepts_and_expiry(
    app, make_event, make_session, now, monkeypatch
):
    event = make_event(promotion_mode="offer", offer_hours=24)
    session = make_session(event, capacity=SEATS)
    session_id = session.id
    holders, waiting = fill(event, session, now)
    race_windows.pause_before_taking_seats(monkeypatch, 0.01)

    assert at_once(app, [cancel(a, now) for a in holders[:6]]) == []

    rows = seat_rows(session_id)
    assert rows["offered"] == 6 and counter(session_id) == SEATS
    offered = sorted(holding(session_id) - set(holders))
    assert offered == waiting[:6]

    # Three accept just in time while two workers expire offers just after: each offer is
    # either taken or passed on, never both, and every passed-on seat is offered again.
    starts = db.session.get(EventSession, session_id).starts_at  # offers end then at the latest
    deadline = min(now + timedelta(hours=24), starts)

    def accept(attendee_id):
        def job():
            attendee = db.session.get(Attendee, attendee_id)
            waitlist.accept_offer(attendee, session_id, deadline - timedelta(seconds=1))

        return job

    def expire():
        result = run_periodic(deadline)
        assert result["offers_expired"] is not None

    jobs = [accept(a) for a in offered[:3]] + [expire, expire]
    errors = at_once(app, jobs)

    # An accept that lost the race finds the offer expired, or already passed on.
    assert set(errors) <= {"offer_expired", "not_found"}
    rows = seat_rows(session_id)
    assert counter(session_id) == rows["confirmed"] + rows.get("offered", 0) == SEATS
    confirmed = set(
        db.session.scalars(
            select(Registration.attendee_id).where(
                Registration.session_id == session_id, Registration.status == "confirmed"
            )
        )
    )
    accepted = confirmed & set(offered[:3])
    assert len(accepted) == 3 - len(errors)
    expired = set(offered) - accepted
    cancelled = set(
        db.session.scalars(
            select(Registration.attendee_id).where(
                Registration.session_id == session_id, Registration.status == "cancelled"
            )
        )
    )
    assert expired <= cancelled  # passed on once: nobody both holds and lost a seat
    assert rows["offered"] == len(expired)  # each passed-on seat is offered to the next
