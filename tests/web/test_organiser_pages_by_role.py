"""Every page of the dashboard, attendee, check-in and message areas, for every role.

Anonymous visitors go to the login page; the check-in role reaches only the check-in pages;
organisers and admins reach everything here."""

import pytest

from eventapp.extensions import db
from eventapp.models import Registration
from tests.web.attendee_factory import add_attendees

CHECKIN_PAGES = {"checkin", "checkin_missing"}


def _pages(event, session, attendee, registration):
    slug = event.slug
    return {
        "dashboard": "/organiser/",
        "event_dashboard": f"/organiser/events/{slug}/",
        "attendees": f"/organiser/events/{slug}/attendees",
        "attendee": f"/organiser/events/{slug}/attendees/{attendee.id}",
        "waitlists": f"/organiser/events/{slug}/waitlists",
        "export_attendees": f"/organiser/events/{slug}/attendees.csv",
        "export_session": f"/organiser/events/{slug}/sessions/{session.id}/attendees.csv",
        "checkin": f"/organiser/events/{slug}/checkin",
        "checkin_missing": f"/organiser/events/{slug}/checkin/missing",
        "messages": f"/organiser/events/{slug}/messages",
    }


def _posts(event, session, attendee, registration):
    slug = event.slug
    return {
        "edit_attendee": (
            f"/organiser/events/{slug}/attendees/{attendee.id}/edit",
            {"name": "New Name", "email": attendee.email, "organisation": ""},
        ),
        "move_attendee": (
            f"/organiser/events/{slug}/attendees/{attendee.id}/sessions",
            {"sessions": [str(session.id)]},
        ),
        "cancel_attendee": (f"/organiser/events/{slug}/attendees/{attendee.id}/cancel", {}),
        "resend_confirmation": (f"/organiser/events/{slug}/attendees/{attendee.id}/resend", {}),
        "bulk_action": (
            f"/organiser/events/{slug}/attendees/bulk",
            {"action": "resend", "attendee": [str(attendee.id)]},
        ),
        "bulk_cancel": (
            f"/organiser/events/{slug}/attendees/bulk/cancel",
            {"attendee": [str(attendee.id)], "expected_count": "1"},
        ),
        "promote": (f"/organiser/events/{slug}/registrations/{registration.id}/promote", {}),
        "messages": (
            f"/organiser/events/{slug}/messages",
            {"audience": "all", "subject": "Hi", "body": "Hello", "action": "preview"},
        ),
        "checkin_attendee": (f"/organiser/events/{slug}/checkin/{attendee.id}", {}),
        "checkin_code": (
            f"/organiser/events/{slug}/checkin/code",
            {"code": attendee.checkin_code},
        ),
        "checkin_undo": (f"/organiser/events/{slug}/checkin/{attendee.id}/undo", {}),
    }


@pytest.fixture
def setting(make_event, make_session):
    event = make_event()
    session = make_session(event, capacity=5)
    other = make_session(event, start=2, capacity=1)
    (attendee,) = add_attendees(event, [session, other], 1)
    (waiting,) = add_attendees(event, [], 1, start=1)
    registration = Registration(
        attendee=waiting, session=other, status="waitlisted", waitlisted_at=event.starts_at
    )
    db.session.add(registration)
    db.session.commit()
    return event, session, attendee, registration


PAGE_NAMES = [
    "dashboard",
    "event_dashboard",
    "attendees",
    "attendee",
    "waitlists",
    "export_attendees",
    "export_session",
    "checkin",
    "checkin_missing",
    "messages",
]
POST_NAMES = [
    "edit_attendee",
    "move_attendee",
    "cancel_attendee",
    "resend_confirmation",
    "bulk_action",
    "bulk_cancel",
    "promote",
    "messages",
    "checkin_attendee",
    "checkin_code",
    "checkin_undo",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_anonymous_visitors_are_sent_to_login(client, setting, page):
    response = client.get(_pages(*setting)[page])
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "organiser", "checkin"])
@pytest.mark.parametrize("page", PAGE_NAMES)
def test_each_role_on_each_page(client, setting, make_organiser, login, role, page):
    login(make_organiser(role))
    response = client.get(_pages(*setting)[page])
    body = response.get_data(as_text=True)
    if role == "checkin" and page == "dashboard":
        # The check-in role's home page lists the events' check-in pages, nothing else.
        assert response.status_code == 200
        assert "/checkin" in body and "/attendees" not in body
    elif role == "checkin" and page not in CHECKIN_PAGES:
        assert response.status_code == 403
    else:
        assert response.status_code == 200, body[:2000]
    if role == "checkin" and response.status_code == 200:
        # The navigation offers the check-in role no page it may not open.
        assert "/attendees" not in body and "/messages" not in body and "/waitlists" not in body


@pytest.mark.parametrize("page", POST_NAMES)
def test_anonymous_posts_change_nothing(client, setting, page):
    url, data = _posts(*setting)[page]
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]


@pytest.mark.parametrize("page", [p for p in POST_NAMES if not p.startswith("checkin")])
def test_checkin_role_cannot_change_attendees_or_send(client, setting, make_organiser, login, page):
    login(make_organiser("checkin"))
    url, data = _posts(*setting)[page]
    assert client.post(url, data=data).status_code == 403


@pytest.mark.parametrize("role", ["admin", "organiser", "checkin"])
@pytest.mark.parametrize("page", ["checkin_attendee", "checkin_code", "checkin_undo"])
def test_every_role_may_check_in(client, setting, make_organiser, login, role, page):
    login(make_organiser(role))
    url, data = _posts(*setting)[page]
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert "/checkin" in response.headers["Location"]
