"""A fallback while waiting (issue 19.4): the attendee waits for a full workshop and keeps a
seat in another of the same round; the seat goes back, and on to its own waiting list, in
the transaction that turns the waiting-list place into a seat."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import EventSession, OutboxMessage, Registration
from eventapp.services.errors import InvalidInput, SessionFull
from eventapp.services.registration import fallback, self_service, waitlist
from eventapp.services.registration import register as service
from tests.registering import register


@pytest.fixture
def round_one(make_event, make_session):
    """Round 1: Lab (1 seat), Cobots (1 seat), Studio (10); round 2: Later."""
    event = make_event()
    lab = make_session(event, start=1, capacity=1, title="Lab")
    cobots = make_session(event, start=1, capacity=1, title="Cobots")
    studio = make_session(event, start=1, capacity=10, title="Studio")
    later = make_session(event, start=3, capacity=10, title="Later")
    return event, lab, cobots, studio, later


def statuses(attendee) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.attendee_id == attendee.id))
    return {r.session.title: r.status for r in rows}


def seats(session) -> int:
    db.session.expire_all()
    return db.session.get(EventSession, session.id).seats_taken


def waiting_with_fallback(event, lab, kept, now, email="bob@example.org"):
    """Someone waiting for Lab while keeping a seat in `kept`, committed."""
    attendee = register(event, [lab], now, email)
    fallback.hold_fallback(attendee, lab.id, kept.id, now)
    db.session.commit()
    return attendee


def test_the_fallback_seat_is_held_while_waiting(round_one, now):
    event, lab, cobots, studio, later = round_one
    register(event, [lab], now, "ada@example.org")
    bob = waiting_with_fallback(event, lab, studio, now)
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed"}
    waiting = db.session.scalar(
        select(Registration).where(
            Registration.attendee_id == bob.id, Registration.session_id == lab.id
        )
    )
    assert waiting.fallback_session_id == studio.id and seats(studio) == 1
    [confirmation] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.attendee_id == bob.id)
    ).all()
    assert studio.id in confirmation.payload["session_ids"]  # one email, with its invitation


def test_the_waiting_place_turning_into_a_seat_gives_the_fallback_back(round_one, now):
    event, lab, cobots, studio, later = round_one
    ada = register(event, [lab], now, "ada@example.org")
    bob = waiting_with_fallback(event, lab, studio, now)
    service.cancel_registration(ada, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "confirmed", "Studio": "cancelled"}
    assert seats(lab) == 1 and seats(studio) == 0
    kinds = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.attendee_id == bob.id)
    ).all()
    assert "promoted" in kinds


def test_control_a_seat_kept_without_naming_it_a_fallback_keeps_them_waiting(round_one, now):
    """Without the fallback link the old rule holds: one who would clash keeps their place
    in line and is passed over, so it is the link that lets the promotion happen."""
    event, lab, cobots, studio, later = round_one
    ada = register(event, [lab], now, "ada@example.org")
    bob = register(event, [lab], now, "bob@example.org")
    service.take_seats(bob, [studio], waitlist=False, now=now)  # a seat, not a fallback
    db.session.commit()
    service.cancel_registration(ada, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed"}


def test_the_given_back_seat_goes_to_the_next_on_its_own_waiting_list(round_one, now):
    event, lab, cobots, studio, later = round_one
    ada = register(event, [lab], now, "ada@example.org")
    bob = waiting_with_fallback(event, lab, cobots, now)  # Cobots' one seat
    carol = register(event, [cobots], now, "carol@example.org")  # waits for Cobots
    assert statuses(carol) == {"Cobots": "waitlisted"}
    service.cancel_registration(ada, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "confirmed", "Cobots": "cancelled"}
    assert statuses(carol) == {"Cobots": "confirmed"}
    assert seats(lab) == seats(cobots) == 1


def test_an_offer_keeps_the_fallback_until_it_is_accepted(round_one, now):
    event, lab, cobots, studio, later = round_one
    event.promotion_mode = "offer"
    db.session.commit()
    ada = register(event, [lab], now, "ada@example.org")
    bob = waiting_with_fallback(event, lab, studio, now)
    service.cancel_registration(ada, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "offered", "Studio": "confirmed"}
    waitlist.accept_offer(bob, lab.id, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "confirmed", "Studio": "cancelled"}
    assert seats(studio) == 0


def test_changing_sessions_keeps_the_fallback_while_the_wait_goes_on(round_one, now):
    event, lab, cobots, studio, later = round_one
    register(event, [lab], now, "ada@example.org")
    bob = waiting_with_fallback(event, lab, studio, now)
    self_service.change_choices(bob, [lab.id, later.id], waitlist=True, now=now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed", "Later": "confirmed"}
    self_service.change_choices(bob, [later.id], waitlist=True, now=now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "cancelled", "Studio": "cancelled", "Later": "confirmed"}
    assert seats(studio) == 0


def test_no_fallback_is_taken_when_the_workshop_had_a_seat(round_one, now):
    event, lab, cobots, studio, later = round_one
    ada = register(event, [lab], now, "ada@example.org")
    assert fallback.hold_fallback(ada, lab.id, studio.id, now) is None
    assert statuses(ada) == {"Lab": "confirmed"} and seats(studio) == 0


@pytest.mark.parametrize("which", ["same", "other round"])
def test_a_fallback_must_be_another_workshop_of_the_round(round_one, now, which):
    event, lab, cobots, studio, later = round_one
    register(event, [lab], now, "ada@example.org")
    bob = register(event, [lab], now, "bob@example.org")
    kept = lab if which == "same" else later
    with pytest.raises(InvalidInput):
        fallback.hold_fallback(bob, lab.id, kept.id, now)


def test_a_full_fallback_is_refused(round_one, now):
    event, lab, cobots, studio, later = round_one
    register(event, [lab, later], now, "ada@example.org")
    register(event, [cobots], now, "dan@example.org")
    bob = register(event, [lab], now, "bob@example.org")
    with pytest.raises(SessionFull):
        fallback.hold_fallback(bob, lab.id, cobots.id, now)
