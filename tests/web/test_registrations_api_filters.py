"""GET /api/v1/events/<slug>/registrations filters with the attendee page's own service
(services/attendees.py attendee_query): the same filter finds the same attendees in both."""

import re

import pytest

from eventapp.extensions import db
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput


@pytest.fixture
def people(make_event, make_session, make_room, now):
    """Five attendees in every state a filter tells apart; their emails by first name."""
    event = make_event(promotion_mode="offer")
    plenary = make_session(event, kind="plenary", capacity=100, title="Opening")
    full = make_session(event, start=1, capacity=1, title="Small", room=make_room(event))
    other = make_session(event, start=1, capacity=10, title="Big")

    def sign_up(name, organisation, sessions):
        return registration.register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                organisation=organisation,
                session_ids=[plenary.id, *(s.id for s in sessions)],
                waitlist=True,
                consent=True,
            ),
            now,
        ).attendee

    ada = sign_up("Ada", "Engines BV", [full])
    sign_up("Bob", "Engines BV", [full])  # waitlisted, then offered Ada's seat
    sign_up("Gus", "Gears Ltd", [full])  # stays on the waiting list
    cy = sign_up("Cy", "Gears Ltd", [other])
    eve = sign_up("Eve", "Engines BV", [other])
    registration.cancel_session(ada, full.id, now)
    registration.cancel_registration(cy, now)
    eve.checked_in_at = now
    db.session.commit()
    return {"slug": event.slug, "full": full.id, "other": other.id}


def api_emails(client, headers, slug, args: dict) -> set[str]:
    response = client.get(
        f"/api/v1/events/{slug}/registrations", query_string=args, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return {row["email"] for row in response.get_json()["registrations"]}


def page_emails(client, slug, args: dict) -> set[str]:
    args = {("session" if key == "session_id" else key): value for key, value in args.items()}
    response = client.get(f"/organiser/events/{slug}/attendees", query_string=args)
    assert response.status_code == 200
    cells = re.findall(r"<td[^>]*>([a-z]+@example\.org)</td>", response.get_data(as_text=True))
    return set(cells)


# (filter in the API's names, who it finds); the attendee page is asked the same.
FILTERS = [
    ({}, {"ada", "bob", "gus", "cy", "eve"}),
    ({"q": "engines"}, {"ada", "bob", "eve"}),
    ({"q": "engines", "status": "offered"}, {"bob"}),
    ({"status": "active"}, {"ada", "bob", "gus", "eve"}),
    ({"status": "cancelled"}, {"cy"}),  # the attendee's own status, not any registration's
    ({"status": "confirmed"}, {"ada", "bob", "gus", "eve"}),
    ({"status": "waitlisted"}, {"gus"}),
    ({"session_id": "full"}, {"bob", "gus"}),  # Ada gave her seat up
    ({"session_id": "full", "status": "cancelled"}, {"ada"}),
    ({"session_id": "other", "q": "engines"}, {"eve"}),
    ({"checked_in": "yes"}, {"eve"}),
    ({"checked_in": "no", "q": "gears"}, {"gus", "cy"}),
]


@pytest.mark.parametrize(("wanted", "expected"), FILTERS, ids=lambda v: repr(v))
def test_the_api_and_the_attendee_page_find_the_same_attendees(
    client, make_organiser, api_token, login, people, wanted, expected
):
    organiser = login(make_organiser())
    headers = {"Authorization": f"Bearer {api_token(organiser)}"}
    args = {key: people.get(value, value) for key, value in wanted.items()}
    from_api = api_emails(client, headers, people["slug"], args)
    assert from_api == page_emails(client, people["slug"], args)
    assert from_api == {f"{name}@example.org" for name in expected}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": ""}, "status"),
        ({"checked_in": "maybe"}, "checked_in"),
        ({"q": "x" * 201}, "q"),
        ({"session_id": "0"}, "session_id"),
        ({"session_id": "²"}, "session_id"),
        ({"page": "١"}, "page"),
    ],
)
def test_a_filter_value_the_api_does_not_know_is_a_422(
    client, make_organiser, api_token, people, args, field
):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    url = f"/api/v1/events/{people['slug']}/registrations"
    response = client.get(url, query_string=args, headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == [field]


@pytest.mark.parametrize("value", ["²", "9" * 30])
def test_the_attendee_page_ignores_a_session_no_database_could_hold(
    client, make_organiser, login, people, value
):
    """Found while comparing the two: these were a 500 (ValueError, SQLite OverflowError)."""
    login(make_organiser())
    url = f"/organiser/events/{people['slug']}/attendees"
    everyone = page_emails(client, people["slug"], {})
    response = client.get(url, query_string={"session": value})
    assert response.status_code == 200
    assert page_emails(client, people["slug"], {"session": value}) == everyone
