"""One lock order for everything that frees or takes seats of existing registrations:
attendee, then sessions by id, then registration rows. Before, a cancel locked its row
then the session while a promotion held the session and waited for a waiting row, and
on PostgreSQL 24 holders cancelling while 20 waiting people switched workshops ended in
deadlocks (answered 503). Leaving a waiting list frees no seat and runs no promotion."""

from datetime import timedelta

from sqlalchemy import select, update

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, Registration
from eventapp.services.registration import register as service
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)
from tests.concurrency import run_at_once

HOLDERS = 24
WAITING = 20


def sign_up(event, sessions, now, index, *, waitlist=True):
    data = RegistrationInput(
        name=f"P{index}",
        email=f"p{index}@example.org",
        session_ids=[s.id for s in sessions],
        waitlist=waitlist,
        consent=True,
    )
    return service.register(event, data, now + timedelta(seconds=index)).attendee.id


def test_cancelling_holders_and_switching_waiters_do_not_deadlock(
    app, make_event, make_session, now
):
    event = make_event()
    lab = make_session(event, start=1, capacity=HOLDERS, title="Lab")
    hall = make_session(event, start=3, capacity=HOLDERS + WAITING, title="Hall")
    holders = [sign_up(event, [lab, hall], now, i) for i in range(HOLDERS)]
    waiting = [sign_up(event, [lab], now, HOLDERS + i) for i in range(WAITING)]
    db.session.commit()
    lab_id, hall_id = lab.id, hall.id

    def cancel(attendee_id):
        def act():
            service.cancel_registration(db.session.get(Attendee, attendee_id), now)
            return "done"

        return lambda: act

    def switch(attendee_id):
        def act():
            attendee = db.session.get(Attendee, attendee_id)
            service.change_sessions(attendee, [hall_id], waitlist=False, now=now)
            return "done"

        return lambda: act

    writers = [cancel(a) for a in holders] + [switch(a) for a in waiting]
    outcomes = run_at_once(app, writers, timeout=180)
    assert outcomes == {"done": HOLDERS + WAITING}, outcomes
    db.session.expire_all()
    for session_id in (lab_id, hall_id):
        assert confirmed_count_matches_counter(session_id)
    assert db.session.get(EventSession, hall_id).seats_taken == WAITING


def test_leaving_a_waiting_list_runs_no_promotion(app, make_event, make_session, now):
    """A seat that is free while people wait (capacity raised by hand, an organiser who
    promotes by hand) is not handed out because someone else left the list."""
    event = make_event()
    lab = make_session(event, start=1, capacity=1, title="Lab")
    hall = make_session(event, start=3, capacity=10, title="Hall")
    sign_up(event, [lab], now, 0)
    leaver = sign_up(event, [lab], now, 1)
    stayer = sign_up(event, [lab], now, 2)
    db.session.execute(update(EventSession).where(EventSession.id == lab.id).values(capacity=2))
    db.session.commit()
    service.change_sessions(db.session.get(Attendee, leaver), [hall.id], waitlist=False, now=now)
    db.session.commit()
    status = db.session.scalar(
        select(Registration.status).where(
            Registration.attendee_id == stayer, Registration.session_id == lab.id
        )
    )
    assert status == "waitlisted"
