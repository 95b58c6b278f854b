"""The waiting list: order, conflicts keeping their place, and promotion by offer."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage, Registration
from eventapp.services.errors import NotFound, OfferExpired, ScheduleConflict
from eventapp.services.registration import register as service
from eventapp.services.registration import waitlist
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)


def sign_up(event, session_ids, email, now, *, waitlist=True):
    data = RegistrationInput(
        name=email.split("@")[0],
        email=email,
        session_ids=session_ids,
        waitlist=waitlist,
        consent=True,
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee


def status_of(attendee, session) -> str:
    db.session.expire_all()
    return db.session.scalar(
        select(Registration.status).where(
            Registration.attendee_id == attendee.id, Registration.session_id == session.id
        )
    )


def place_of(registration) -> int | None:
    """Its place in line, None when it is not waiting (waitlist_positions of one)."""
    return waitlist.waitlist_positions([registration]).get(registration.id)


def kinds(attendee) -> list[str]:
    return [
        m.kind
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.attendee_id == attendee.id)
            .order_by(OutboxMessage.id)
        )
    ]


def test_positions_follow_the_order_of_joining(make_event, make_session, now):
    event = make_event()
    full = make_session(event, capacity=1)
    sign_up(event, [full.id], "holder@example.org", now)
    first = sign_up(event, [full.id], "w1@example.org", now + timedelta(minutes=1))
    second = sign_up(event, [full.id], "w2@example.org", now + timedelta(minutes=2))

    assert place_of(first.registrations[0]) == 1
    assert place_of(second.registrations[0]) == 2
    assert (
        place_of(
            db.session.scalars(select(Registration).where(Registration.status == "confirmed")).one()
        )
        is None
    )


def test_all_places_in_one_statement_follow_the_order_of_joining(make_event, make_session, now):
    """waitlist_positions (one statement, for a page or email listing someone's places):
    per session, by the time of joining, ties by id; nothing for a confirmed seat."""
    event = make_event()
    sessions = [make_session(event, start=1 + 1.5 * r, capacity=1) for r in range(3)]
    ids = [s.id for s in sessions]
    sign_up(event, ids, "holder@example.org", now)
    people = [
        sign_up(event, ids[: 1 + n % 3], f"w{n}@example.org", now + timedelta(minutes=n // 2))
        for n in range(7)  # two at a time join at the same minute: the id decides
    ]
    rows = [r for person in people for r in person.registrations]
    in_line: dict[int, list] = {}
    for row in sorted(rows, key=lambda r: (r.waitlisted_at, r.id)):
        in_line.setdefault(row.session_id, []).append(row.id)
    expected = {row_id: place + 1 for line in in_line.values() for place, row_id in enumerate(line)}

    assert waitlist.waitlist_positions(rows) == expected
    assert sorted(expected.values()) == [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7]
    holder_rows = db.session.scalars(select(Registration).where(Registration.status == "confirmed"))
    assert waitlist.waitlist_positions([*holder_rows, rows[-1]]) == {
        rows[-1].id: expected[rows[-1].id]
    }
    assert waitlist.waitlist_positions([]) == {}


def test_one_who_would_clash_keeps_their_place_and_the_next_is_promoted(
    make_event, make_session, now
):
    event = make_event()
    full = make_session(event, start=0, capacity=1, title="Full")
    other = make_session(event, start=0.5, capacity=5, title="Overlapping")
    holder = sign_up(event, [full.id], "holder@example.org", now)
    clashing = sign_up(event, [full.id], "clash@example.org", now + timedelta(minutes=1))
    # The clashing attendee later takes a seat in an overlapping session (a programme move
    # can cause the same): the freed seat must skip them without losing their place.
    service.change_sessions(clashing, [other.id], waitlist=False, now=now)
    db.session.commit()
    registration = db.session.scalars(
        select(Registration).where(
            Registration.attendee_id == clashing.id, Registration.session_id == full.id
        )
    ).one()
    registration.status = "waitlisted"
    registration.waitlisted_at = now + timedelta(minutes=1)
    db.session.commit()
    next_in_line = sign_up(event, [full.id], "next@example.org", now + timedelta(minutes=2))

    service.cancel_registration(holder, now)
    db.session.commit()

    assert status_of(clashing, full) == "waitlisted"
    assert place_of(db.session.get(Registration, registration.id)) == 1
    assert status_of(next_in_line, full) == "confirmed"
    assert "promoted" in kinds(next_in_line)
    assert confirmed_count_matches_counter(full.id)


@pytest.fixture
def offer_event(make_event, make_session):
    event = make_event(promotion_mode="offer", offer_hours=24)
    session = make_session(event, capacity=1, title="Cobots")
    return event, session


def test_offer_mode_holds_the_seat_and_emails_an_offer(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now + timedelta(minutes=1))

    service.cancel_registration(holder, now)
    db.session.commit()

    assert status_of(first, session) == "offered"
    offer = db.session.scalars(
        select(Registration).where(Registration.attendee_id == first.id)
    ).one()
    assert offer.offer_expires_at == now + timedelta(hours=24)
    db.session.refresh(session)
    assert session.seats_taken == 1  # held for the offer: a newcomer cannot take it
    newcomer = sign_up(event, [session.id], "new@example.org", now)
    assert status_of(newcomer, session) == "waitlisted"
    assert kinds(first)[-1] == "offer"
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "offer")).one()
    assert message.payload["session_ids"] == [session.id]
    assert confirmed_count_matches_counter(session.id)


def test_accepting_an_offer_confirms_the_seat(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now)
    service.cancel_registration(holder, now)
    db.session.commit()

    waitlist.accept_offer(first, session.id, now + timedelta(hours=23))
    db.session.commit()

    assert status_of(first, session) == "confirmed"
    assert kinds(first)[-1] == "promoted"
    assert confirmed_count_matches_counter(session.id)
    with pytest.raises(NotFound):
        waitlist.accept_offer(first, session.id, now)  # no second acceptance


def test_an_offer_cannot_be_accepted_after_it_expired(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now)
    service.cancel_registration(holder, now)
    db.session.commit()

    with pytest.raises(OfferExpired):
        waitlist.accept_offer(first, session.id, now + timedelta(hours=24))
    db.session.rollback()
    assert status_of(first, session) == "offered"


def test_expired_offer_passes_to_the_next_in_line(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now + timedelta(minutes=1))
    second = sign_up(event, [session.id], "w2@example.org", now + timedelta(minutes=2))
    service.cancel_registration(holder, now)
    db.session.commit()

    assert waitlist.expire_offers(now + timedelta(hours=23)) == 0
    later = now + timedelta(hours=24)
    assert waitlist.expire_offers(later) == 1
    db.session.commit()

    assert status_of(first, session) == "cancelled"
    assert kinds(first)[-1] == "offer_expired"
    assert status_of(second, session) == "offered"
    offer = db.session.scalars(
        select(Registration).where(Registration.attendee_id == second.id)
    ).one()
    assert offer.offer_expires_at == later + timedelta(hours=24)
    assert confirmed_count_matches_counter(session.id)
    assert waitlist.expire_offers(later) == 0  # nothing twice


def test_declining_passes_the_offer_on_at_once(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now + timedelta(minutes=1))
    second = sign_up(event, [session.id], "w2@example.org", now + timedelta(minutes=2))
    service.cancel_registration(holder, now)
    db.session.commit()

    waitlist.decline_offer(first, session.id, now)
    db.session.commit()

    assert status_of(first, session) == "cancelled"
    assert status_of(second, session) == "offered"
    assert confirmed_count_matches_counter(session.id)


def test_cancelling_while_holding_an_offer_gives_the_seat_back(offer_event, now):
    event, session = offer_event
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now + timedelta(minutes=1))
    second = sign_up(event, [session.id], "w2@example.org", now + timedelta(minutes=2))
    service.cancel_registration(holder, now)
    db.session.commit()

    service.cancel_registration(first, now)
    db.session.commit()

    assert status_of(second, session) == "offered"
    db.session.refresh(session)
    assert session.seats_taken == 1
    assert confirmed_count_matches_counter(session.id)


def test_offer_is_refused_if_it_now_clashes(offer_event, make_session, now):
    event, session = offer_event
    other = make_session(event, start=0.5, capacity=5, title="Overlapping")
    holder = sign_up(event, [session.id], "holder@example.org", now)
    first = sign_up(event, [session.id], "w1@example.org", now)
    service.cancel_registration(holder, now)
    db.session.commit()
    # An organiser books the attendee into an overlapping session meanwhile.
    db.session.add(Registration(attendee=first, session=other, status="confirmed"))
    other.seats_taken = 1
    db.session.commit()

    with pytest.raises(ScheduleConflict, match="Overlapping"):
        waitlist.accept_offer(first, session.id, now)
    db.session.rollback()
    assert status_of(first, session) == "offered"


def test_offer_never_outlasts_the_session_start(make_event, make_session, now):
    event = make_event(promotion_mode="offer", offer_hours=24)
    soon = make_session(event, capacity=1)
    holder = sign_up(event, [soon.id], "holder@example.org", now)
    first = sign_up(event, [soon.id], "w1@example.org", now)
    late = soon.starts_at - timedelta(hours=2)

    service.cancel_registration(holder, late)
    db.session.commit()

    offer = db.session.scalars(
        select(Registration).where(Registration.attendee_id == first.id)
    ).one()
    assert offer.offer_expires_at == soon.starts_at
