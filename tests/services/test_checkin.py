"""Check-in at the door: by code, for the event or a session; twice is harmless; the counts
of who is expected and who has not come."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry
from eventapp.services.backoffice import checkin
from eventapp.services.backoffice.accounts import create_organiser
from eventapp.services.backoffice.checkin import CheckinRefused
from eventapp.services.errors import NotFound
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, sessions, email, now, *, waitlist_ok=False):
    result = registration.register(
        event,
        RegistrationInput(
            name=email.split("@")[0].title(),
            email=email,
            session_ids=[s.id for s in sessions],
            waitlist=waitlist_ok,
            consent=True,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


@pytest.fixture
def door(app):
    person = create_organiser("door@example.org", "a long enough password", role="checkin")
    db.session.commit()
    return person


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ab12-cd34ef", "AB12CD34EF"),
        ("  AB12 CD34 EF ", "AB12CD34EF"),
        ("oil0", "0110"),  # Crockford: O is 0, I and L are 1
        ("https://example.org/checkin/AB12CD34EF", "AB12CD34EF"),
        ("https://example.org/c/AB12CD34EF/?x=1", "AB12CD34EF"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_code(typed, code):
    assert checkin.normalise_code(typed) == code


def test_check_in_by_code_for_the_event_then_a_session(make_event, make_session, now, door):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=50)
    workshop = make_session(event, start=1, capacity=1)
    ada = sign_up(event, [plenary, workshop], "ada@example.org", now)
    bob = sign_up(event, [plenary, workshop], "bob@example.org", now, waitlist_ok=True)

    typed = "-".join([ada.checkin_code[:5].lower(), ada.checkin_code[5:]])
    found = checkin.find_by_code(event, typed)
    assert found.id == ada.id
    first = checkin.check_in(found, now=now, actor=door)
    db.session.commit()
    assert not first.already and ada.checked_in_at == now

    # Twice: nothing changes, and the door learns when the first time was.
    again = checkin.check_in(ada, now=now + timedelta(minutes=5), actor=door)
    assert again.already and again.checked_in_at == now

    # A session: needs a seat in it. Checking in there also counts for the event.
    with pytest.raises(CheckinRefused, match="waiting list|wachtlijst"):
        checkin.check_in(bob, now=now, actor=door, session=workshop)
    db.session.rollback()
    result = checkin.check_in(bob, now=now, actor=door, session=plenary)
    db.session.commit()
    assert not result.already and bob.checked_in_at == now
    reg = next(r for r in bob.registrations if r.session_id == plenary.id)
    assert reg.checked_in_at == now
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("attendee.check_in") == 2  # the repeat is not logged again


def test_unknown_code_and_other_events_are_not_found(make_event, make_session, now, door):
    event, other = make_event(), make_event()
    ada = sign_up(other, [make_session(other)], "ada@example.org", now)
    with pytest.raises(NotFound):
        checkin.find_by_code(event, ada.checkin_code)
    with pytest.raises(NotFound):
        checkin.find_by_code(event, "")


def test_cancelled_attendees_are_refused(make_event, make_session, now, door):
    event = make_event()
    ada = sign_up(event, [make_session(event)], "ada@example.org", now)
    registration.cancel_registration(ada, now)
    db.session.commit()
    with pytest.raises(CheckinRefused):
        checkin.check_in(ada, now=now, actor=door)
    assert ada.checked_in_at is None


def test_expected_arrived_and_missing(make_event, make_session, now, door):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=50)
    workshop = make_session(event, start=1, capacity=2)
    people = [
        sign_up(event, [plenary, workshop], f"p{n}@example.org", now, waitlist_ok=True)
        for n in range(4)
    ]  # p0 and p1 have a workshop seat, p2 and p3 wait for one
    only_waiting = sign_up(event, [workshop], "w@example.org", now, waitlist_ok=True)
    cancelled = sign_up(event, [plenary], "c@example.org", now)
    registration.cancel_registration(cancelled, now)
    db.session.commit()

    assert checkin.attendance(event) == checkin.Attendance(expected=4, arrived=0)
    assert checkin.attendance(event, workshop) == checkin.Attendance(expected=2, arrived=0)

    checkin.check_in(people[0], now=now, actor=door, session=workshop)
    checkin.check_in(people[2], now=now + timedelta(minutes=1), actor=door)
    db.session.commit()

    assert checkin.attendance(event) == checkin.Attendance(expected=4, arrived=2)
    assert checkin.attendance(event, workshop).missing == 1
    missing = [a.email for a in checkin.not_arrived(event).items]
    assert missing == ["p1@example.org", "p3@example.org"]
    assert only_waiting.email not in missing and cancelled.email not in missing
    assert [a.email for a in checkin.not_arrived(event, workshop).items] == ["p1@example.org"]
    assert [a.email for a in checkin.recently_arrived(event)] == [
        "p2@example.org",
        "p0@example.org",
    ]

    checkin.undo_check_in(people[0], actor=door)
    db.session.commit()
    assert people[0].checked_in_at is None
    assert checkin.attendance(event, workshop).arrived == 0


def test_search_by_name_email_or_code(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    ada = sign_up(event, [session], "ada.lovelace@example.org", now)
    sign_up(event, [session], "bob@example.org", now)
    assert [a.id for a in checkin.search(event, "lovelace")] == [ada.id]
    assert [a.id for a in checkin.search(event, ada.checkin_code.lower())] == [ada.id]
    assert checkin.search(event, "  ") == []
