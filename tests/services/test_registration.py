"""The registration service, called directly: every rule of the foundation issue."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage, Registration
from eventapp.services.errors import (
    AlreadyRegistered,
    InvalidInput,
    RegistrationClosed,
    ScheduleConflict,
    SessionFull,
)
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput


@pytest.fixture(autouse=True)
def english(app):
    """Messages are asserted in English; the Dutch catalog is tested elsewhere."""
    with force_locale("en"):
        yield


def person(session_ids, email="ada@example.org", **overrides) -> RegistrationInput:
    values = dict(
        name="Ada Lovelace",
        email=email,
        organisation="Analytical Engines BV",
        session_ids=session_ids,
        consent=True,
    )
    values.update(overrides)
    return RegistrationInput(**values)


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Attendee)),
        db.session.scalar(select(func.count()).select_from(Registration)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


def test_register_confirms_seats_and_queues_one_confirmation(make_event, make_session, now):
    event = make_event()
    plenary = make_session(event, start=0, kind="plenary", capacity=100)
    workshop = make_session(event, start=1, capacity=3)

    result = service.register(event, person([plenary.id, workshop.id]), now)
    db.session.commit()

    assert [r.status for r in result.registrations] == ["confirmed", "confirmed"]
    assert workshop.seats_taken == 1 and workshop.seats_left == 2
    assert result.attendee.reference == result.attendee.checkin_code  # one code, not two
    assert len(result.attendee.checkin_code) == 10
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.recipient) for m in outbox] == [("confirmation", "ada@example.org")]


def test_private_link_is_stored_only_as_hash(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    result = service.register(event, person([session.id]), now)
    db.session.commit()

    assert len(result.manage_token) >= 43  # 256 bits, base64url
    assert result.manage_token not in (result.attendee.token_hash, result.attendee.token_nonce)
    assert service.find_by_token(result.manage_token).id == result.attendee.id
    with pytest.raises(Exception, match="not valid"):
        service.find_by_token(result.manage_token[:-2] + "xx")


def test_overlapping_choices_are_refused_naming_both(make_event, make_session, now):
    event = make_event()
    first = make_session(event, start=0, hours=1, title="Digital twins")
    second = make_session(event, start=0.5, hours=1, title="Cobots")

    with pytest.raises(ScheduleConflict) as raised:
        service.register(event, person([first.id, second.id]), now)
    db.session.rollback()

    assert "Digital twins" in raised.value.message and "Cobots" in raised.value.message
    assert "10:00" in raised.value.message  # 09:00 UTC is 10:00 in Amsterdam in March
    assert {s["id"] for s in raised.value.details["sessions"]} == {first.id, second.id}
    assert counts() == (0, 0, 0)


def test_full_session_is_an_error_naming_it_and_nothing_is_written(make_event, make_session, now):
    event = make_event()
    open_session = make_session(event, start=0, capacity=5)
    full = make_session(event, start=2, capacity=1, title="Lab 4 demo")
    service.register(event, person([full.id], email="first@example.org"), now)
    db.session.commit()
    before = counts()

    with pytest.raises(SessionFull) as raised:
        service.register(event, person([open_session.id, full.id]), now)
    db.session.rollback()

    assert "Lab 4 demo" in raised.value.message
    assert raised.value.details["sessions"][0]["id"] == full.id
    assert counts() == before
    db.session.refresh(open_session)
    assert open_session.seats_taken == 0  # all or nothing: the first seat was given back


def test_full_session_with_waitlist_joins_it_in_order(make_event, make_session, now):
    event = make_event()
    full = make_session(event, capacity=1)
    service.register(event, person([full.id], email="a@example.org"), now)
    second = service.register(event, person([full.id], email="b@example.org", waitlist=True), now)
    third = service.register(
        event, person([full.id], email="c@example.org", waitlist=True), now + timedelta(seconds=1)
    )
    db.session.commit()

    from eventapp.services.registration.waitlist import waitlist_positions

    assert second.status == "waitlisted"
    assert waitlist_positions(second.registrations)[second.registrations[0].id] == 1
    assert waitlist_positions(third.registrations)[third.registrations[0].id] == 2
    assert full.seats_taken == 1


@pytest.mark.parametrize("email", ["ADA@example.org", "  ada@example.org  ", "Ada@Example.org"])
def test_same_email_twice_is_already_registered(make_event, make_session, now, email):
    event = make_event()
    session = make_session(event)
    service.register(event, person([session.id]), now)
    db.session.commit()

    with pytest.raises(AlreadyRegistered):
        service.register(event, person([session.id], email=email), now)
    db.session.rollback()
    assert counts()[0] == 1


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"status": "draft"}, "closed"),
        ({"status": "closed"}, "closed"),
        ({"registration_opens_at": datetime(2027, 3, 1, tzinfo=UTC)}, "not opened"),
        ({"registration_closes_at": datetime(2027, 1, 1, tzinfo=UTC)}, "closed"),
    ],
)
def test_closed_events_and_windows_refuse(make_event, make_session, now, overrides, reason):
    event = make_event(**overrides)
    session = make_session(event)
    with pytest.raises(RegistrationClosed, match=reason):
        service.register(event, person([session.id]), now)
    db.session.rollback()
    assert counts() == (0, 0, 0)


def test_invalid_fields_are_all_reported(make_event, make_session, now):
    event = make_event()
    make_session(event)
    data = RegistrationInput(
        name="", email="not-an-email", organisation="x" * 201, session_ids=[], consent=False
    )
    with pytest.raises(InvalidInput) as raised:
        service.register(event, data, now)
    assert set(raised.value.fields) == {"name", "email", "organisation", "consent", "session_ids"}


def test_unknown_or_foreign_session_ids_are_invalid(make_event, make_session, now):
    event, other = make_event(), make_event()
    foreign = make_session(other)
    with pytest.raises(InvalidInput, match="Unknown session"):
        service.register(event, person([foreign.id]), now)
    with pytest.raises(InvalidInput, match="Unknown session"):
        service.register(event, person([999999]), now)


def test_breaks_and_cancelled_sessions_take_no_registrations(make_event, make_session, now):
    event = make_event()
    coffee = make_session(event, kind="other", title="Koffie")
    with pytest.raises(InvalidInput, match="Koffie"):
        service.register(event, person([coffee.id]), now)


def test_control_characters_are_refused(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    with pytest.raises(InvalidInput) as raised:
        service.register(event, person([session.id], name="Eve\r\nBcc: x@example.org"), now)
    assert "name" in raised.value.fields


def test_change_is_atomic_when_the_new_seat_is_gone(make_event, make_session, now):
    event = make_event()
    kept = make_session(event, start=0, capacity=5, title="Kept")
    full = make_session(event, start=2, capacity=1, title="Full")
    service.register(event, person([full.id], email="first@example.org"), now)
    mine = service.register(event, person([kept.id]), now)
    db.session.commit()

    with pytest.raises(SessionFull):
        service.change_sessions(mine.attendee, [full.id], waitlist=False, now=now)
    db.session.rollback()

    attendee = db.session.get(Attendee, mine.attendee.id)
    assert [(r.session_id, r.status) for r in attendee.registrations] == [(kept.id, "confirmed")]
    db.session.refresh(kept)
    assert kept.seats_taken == 1


def test_cancel_frees_the_seat_for_the_waiting_list(make_event, make_session, now):
    event = make_event()
    session = make_session(event, capacity=1)
    holder = service.register(event, person([session.id], email="a@example.org"), now)
    waiting = service.register(
        event, person([session.id], email="b@example.org", waitlist=True), now
    )
    db.session.commit()

    service.cancel_registration(holder.attendee, now)
    db.session.commit()

    db.session.refresh(waiting.registrations[0])
    assert waiting.registrations[0].status == "confirmed"
    assert service.confirmed_count_matches_counter(session.id)
    kinds = sorted(m.kind for m in db.session.scalars(select(OutboxMessage)))
    assert kinds == ["cancelled", "confirmation", "confirmation", "promoted"]
