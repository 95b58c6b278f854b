"""The door over HTTP, as the check-in role: code typed or scanned, search by name, a
session's door, the not-yet-come list, undo."""

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.services.registration import register as registration
from tests.web.conftest import fresh, sign_up


def test_the_page_is_made_for_a_phone(door, crowd):
    event = crowd[0]
    page = door.get(f"/organiser/events/{event.slug}/checkin").get_data(as_text=True)
    assert 'name="viewport"' in page
    assert 'id="code"' in page and "autofocus" in page
    assert "checkin.js" in page and "<script>" not in page  # no inline script (CSP)
    assert 'id="attendance"' in page


def test_check_in_by_typed_code_then_twice(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    code = ada.checkin_code.lower()
    response = door.post(
        f"/organiser/events/{event.slug}/checkin/code",
        data={"code": f" {code[:4]}-{code[4:]} "},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Checked in: Ada Lovelace" in page
    assert fresh(Attendee, ada.id).checked_in_at is not None
    response = door.post(
        f"/organiser/events/{event.slug}/checkin/code",
        data={"code": ada.checkin_code},
        follow_redirects=True,
    )
    assert "Already checked in at" in response.get_data(as_text=True)

    response = door.post(
        f"/organiser/events/{event.slug}/checkin/code",
        data={"code": "NOSUCHCODE"},
        follow_redirects=True,
    )
    assert "No attendee of this event has the code N0SUCHC0DE" in response.get_data(as_text=True)


def test_find_by_name_and_check_in_at_a_session_door(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    base = f"/organiser/events/{event.slug}/checkin"
    page = door.get(f"{base}?session={workshop.id}&q=bakker").get_data(as_text=True)
    assert "Bob Bakker" in page and "Not in this session" in page  # waiting list only

    response = door.post(f"{base}/{bob.id}", data={"session": workshop.id}, follow_redirects=True)
    assert "waiting list" in response.get_data(as_text=True)
    assert fresh(Attendee, bob.id).checked_in_at is None

    response = door.post(f"{base}/{ada.id}", data={"session": workshop.id})
    assert response.status_code == 302 and f"session={workshop.id}" in response.headers["Location"]
    registrations = fresh(Attendee, ada.id).registrations
    assert [r.checked_in_at is not None for r in registrations if r.session_id == workshop.id] == [
        True
    ]
    assert fresh(Attendee, ada.id).checked_in_at is not None  # arriving at a session counts

    page = door.get(f"{base}?session={workshop.id}").get_data(as_text=True)
    assert "<strong>1</strong> <span>arrived</span>" in page

    door.post(f"{base}/{ada.id}/undo", data={"session": workshop.id})
    assert all(r.checked_in_at is None for r in fresh(Attendee, ada.id).registrations)
    assert fresh(Attendee, ada.id).checked_in_at is not None  # still in the building


def test_not_yet_come_lists_the_expected_who_are_missing(door, crowd, now):
    event, plenary, workshop, ada, bob = crowd
    gone = sign_up(event, [plenary], "gone@example.org", now, name="Gone Away")
    registration.cancel_registration(gone, now)
    db.session.commit()
    door.post(f"/organiser/events/{event.slug}/checkin/{ada.id}", follow_redirects=True)
    page = door.get(f"/organiser/events/{event.slug}/checkin/missing").get_data(as_text=True)
    assert "Bob Bakker" in page and "Ada Lovelace" not in page and "Gone Away" not in page
    assert "1 of 2 expected" in page

    page = door.get(
        f"/organiser/events/{event.slug}/checkin/missing?session={workshop.id}"
    ).get_data(as_text=True)
    assert "Ada Lovelace" in page and "Bob Bakker" not in page


def test_cancelled_people_are_refused_at_the_door(door, crowd, now):
    event, plenary, workshop, ada, bob = crowd
    registration.cancel_registration(ada, now)
    db.session.commit()
    response = door.post(
        f"/organiser/events/{event.slug}/checkin/code",
        data={"code": ada.checkin_code},
        follow_redirects=True,
    )
    assert "cancelled their registration" in response.get_data(as_text=True)
    assert fresh(Attendee, ada.id).checked_in_at is None
    assert fresh(Registration, ada.registrations[0].id).checked_in_at is None


def test_a_session_of_another_event_is_not_found(door, crowd, make_event, make_session):
    event = crowd[0]
    foreign = make_session(make_event())
    response = door.get(f"/organiser/events/{event.slug}/checkin?session={foreign.id}")
    assert response.status_code == 404
