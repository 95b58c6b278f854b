"""The organiser API over HTTP: the same rules and 409 `conflict` errors as the forms."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, OutboxMessage
from eventapp.services.registration import register as registration_service
from eventapp.services.registration.register import RegistrationInput


@pytest.fixture
def api(client, make_organiser, api_token):
    """call(method, path, json=None) with an organiser's bearer token."""
    organiser = make_organiser()
    headers = {"Authorization": f"Bearer {api_token(organiser)}"}

    def call(method, path, json=None, **kwargs):
        return client.open(path, method=method, json=json, headers=headers, **kwargs)

    call.organiser = organiser
    return call


EVENT = {
    "slug": "expo-2027",
    "name": "Expo 2027",
    "timezone": "Europe/Amsterdam",
    "starts_at": "2027-03-18T09:00",
    "ends_at": "2027-03-18T18:00",
    "status": "published",
}


def build(api, with_session=True):
    assert api("POST", "/api/v1/events", EVENT).status_code == 201
    room = api("POST", "/api/v1/events/expo-2027/rooms", {"name": "Studio 1", "capacity": 30})
    assert room.status_code == 201
    room_id = room.get_json()["id"]
    if not with_session:
        return room_id, None
    session = api(
        "POST",
        "/api/v1/events/expo-2027/sessions",
        {
            "title": "Digital twins",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "room_id": room_id,
            "speakers": ["Ada"],
        },
    )
    assert session.status_code == 201, session.get_json()
    return room_id, session.get_json()


def test_create_event_room_and_session(api):
    room_id, session = build(api)
    assert session["starts_at"] == "2027-03-18T10:00:00+01:00"
    assert session["capacity"] == 30 and session["room_id"] == room_id
    assert session["speakers"] == ["Ada"] and session["warnings"] == []
    event = api("PATCH", "/api/v1/events/expo-2027", {"venue": "Jaarbeurs"}).get_json()
    assert event["venue"] == "Jaarbeurs" and event["starts_at"] == "2027-03-18T09:00:00+01:00"
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["event.created", "room.created", "session.created", "event.updated"]
    assert db.session.scalars(select(AuditEntry.organiser_id)).all() == [api.organiser.id] * 4


def test_room_double_booking_is_a_409_conflict_naming_the_sessions(api):
    room_id, session = build(api)
    response = api(
        "POST",
        "/api/v1/events/expo-2027/sessions",
        {
            "title": "Clash",
            "starts_at": "2027-03-18T10:30",
            "ends_at": "2027-03-18T11:30",
            "room_id": room_id,
            "confirm": True,
        },
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "conflict" and body["confirm_required"] is False
    assert [c["kind"] for c in body["conflicts"]] == ["room_double_booked"]
    assert [s["id"] for s in body["conflicts"][0]["sessions"]] == [None, session["id"]]


def test_warnings_need_confirm_true(api):
    build(api)
    data = {
        "title": "Panel",
        "starts_at": "2027-03-18T10:30",
        "ends_at": "2027-03-18T11:30",
        "capacity": 50,
        "speakers": ["Ada"],
    }
    response = api("POST", "/api/v1/events/expo-2027/sessions", data)
    assert response.status_code == 409
    assert response.get_json()["confirm_required"] is True
    assert (
        api("POST", "/api/v1/events/expo-2027/sessions", {**data, "confirm": "yes"}).status_code
        == 422
    )
    saved = api("POST", "/api/v1/events/expo-2027/sessions", {**data, "confirm": True})
    assert saved.status_code == 201
    assert [w["kind"] for w in saved.get_json()["warnings"]] == ["speaker_double_booked"]
    listing = api("GET", "/api/v1/events/expo-2027/conflicts").get_json()
    assert (listing["hard"], listing["soft"]) == (0, 1)
    assert listing["conflicts"][0]["speaker"] == "Ada"


def test_move_cancel_and_their_emails(api, now):
    from eventapp.services.programme import schedule

    _, session = build(api)
    event = schedule.get_event_for_organiser("expo-2027")
    registration_service.register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", session_ids=[session["id"]], consent=True
        ),
        now,
    )
    db.session.commit()

    moved = api(
        "PATCH",
        f"/api/v1/sessions/{session['id']}",
        {"starts_at": "2027-03-18T14:00:00+01:00", "ends_at": "2027-03-18T15:00:00+01:00"},
    )
    assert moved.status_code == 200 and moved.get_json()["starts_at"].startswith("2027-03-18T14")
    cancelled = api("DELETE", f"/api/v1/sessions/{session['id']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    kinds = db.session.scalars(
        select(OutboxMessage.kind)
        .where(OutboxMessage.kind.like("session_%"))
        .order_by(OutboxMessage.id)
    ).all()
    assert kinds == ["session_moved", "session_cancelled"]


def test_cancelling_the_event_emails_each_attendee_once(api, now):
    from eventapp.services.programme import schedule

    room_id, first = build(api)
    second = api(
        "POST",
        "/api/v1/events/expo-2027/sessions",
        {
            "title": "Cobots",
            "starts_at": "2027-03-18T12:00",
            "ends_at": "2027-03-18T13:00",
            "room_id": room_id,
        },
    ).get_json()
    event = schedule.get_event_for_organiser("expo-2027")
    registration_service.register(
        event,
        RegistrationInput(
            name="Ada",
            email="ada@example.org",
            session_ids=[first["id"], second["id"]],
            consent=True,
        ),
        now,
    )
    db.session.commit()

    cancelled = api("POST", "/api/v1/events/expo-2027/cancel")
    again = api("POST", "/api/v1/events/expo-2027/cancel")

    assert cancelled.status_code == 200 and cancelled.get_json()["sessions_cancelled"] == 2
    assert again.status_code == 200 and again.get_json()["sessions_cancelled"] == 0
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind != "confirmation")
    ).all()
    assert [(m.kind, m.recipient) for m in messages] == [("event_cancelled", "ada@example.org")]
    assert sorted(messages[0].payload["calendar_session_ids"]) == [first["id"], second["id"]]


def test_capacity_below_seats_taken_is_refused(api, now):
    from eventapp.services.programme import schedule

    _, session = build(api)
    event = schedule.get_event_for_organiser("expo-2027")
    for n in range(2):
        registration_service.register(
            event,
            RegistrationInput(
                name=f"P{n}", email=f"p{n}@example.org", session_ids=[session["id"]], consent=True
            ),
            now,
        )
    db.session.commit()
    response = api("PATCH", f"/api/v1/sessions/{session['id']}", {"capacity": 1, "confirm": True})
    assert response.status_code == 409
    assert response.get_json()["conflicts"][0]["kind"] == "capacity_below_taken"


def test_registrations_and_waitlist(api, now):
    from eventapp.services.programme import schedule

    _, session = build(api)
    api("PATCH", f"/api/v1/sessions/{session['id']}", {"capacity": 1})
    event = schedule.get_event_for_organiser("expo-2027")
    for name in ("Ada", "Bob", "Cy"):
        registration_service.register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name}@example.org",
                session_ids=[session["id"]],
                waitlist=True,
                consent=True,
            ),
            now,
        )
        db.session.commit()

    page = api("GET", "/api/v1/events/expo-2027/registrations?per_page=2").get_json()
    assert page["total"] == 3 and [r["name"] for r in page["registrations"]] == ["Ada", "Bob"]
    waiting = api("GET", "/api/v1/events/expo-2027/registrations?status=waitlisted").get_json()
    assert [r["name"] for r in waiting["registrations"]] == ["Bob", "Cy"]
    queue = api("GET", f"/api/v1/sessions/{session['id']}/waitlist").get_json()
    assert [(w["position"], w["name"]) for w in queue["waitlist"]] == [(1, "Bob"), (2, "Cy")]
    assert api("GET", "/api/v1/events/expo-2027/registrations?status=lost").status_code == 422
    assert api("GET", "/api/v1/events/expo-2027/registrations?page=0").status_code == 422

    raised = api("PATCH", f"/api/v1/sessions/{session['id']}", {"capacity": 2}).get_json()
    assert raised["promoted"] == 1 and raised["waitlist_length"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**EVENT, "slug": "Not A Slug"}, "slug"),
        ({**EVENT, "timezone": "Mars/Olympus"}, "timezone"),
        ({**EVENT, "starts_at": "tomorrow"}, "starts_at"),
        ({**EVENT, "ends_at": "2027-03-18T08:00"}, "ends_at"),
        ({**EVENT, "status": "live"}, "status"),
        ({**EVENT, "name": "\x00"}, "name"),
    ],
)
def test_invalid_event_fields_are_422_per_field(api, body, field):
    response = api("POST", "/api/v1/events", body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_a_date_outside_the_years_allowed_says_which_years(api):
    """The trial's 1999 event: the API answered "Not a date and time", where the form says
    which years it takes (tests/web/test_organiser_programme.py); now both say the same."""
    body = {**EVENT, "starts_at": "1999-03-18T09:00", "ends_at": "1999-03-18T18:00"}
    response = api("POST", "/api/v1/events", body)
    assert response.status_code == 422
    years = ["Een datum en tijd in de jaren 2000 tot en met 2999."]
    assert response.get_json()["fields"] == {"starts_at": years, "ends_at": years}

    build(api, with_session=False)
    moved = api("POST", "/api/v1/events/expo-2027/move", {"starts_at": "1999-01-01T09:00"})
    assert moved.get_json()["fields"]["starts_at"] == [
        "Een datum en tijd in de jaren 2000 tot en met 2999."
    ]
    nonsense = api("POST", "/api/v1/events", {**EVENT, "starts_at": "1999-13-01T09:00"})
    assert nonsense.get_json()["fields"]["starts_at"][0].startswith("Geen datum en tijd")


def test_bad_bodies_and_unknown_things(api):
    assert api("POST", "/api/v1/events", data="nope", content_type="text/plain").status_code == 400
    assert api("POST", "/api/v1/events", [1, 2]).status_code == 400
    assert api("PATCH", "/api/v1/events/nothing", {"name": "x"}).status_code == 404
    assert api("DELETE", "/api/v1/sessions/999").status_code == 404
    build(api, with_session=False)
    taken = api("POST", "/api/v1/events", EVENT)
    assert taken.status_code == 409 and taken.get_json()["error"] == "already_exists"
    assert "slug" in taken.get_json()["fields"]
    no_capacity = api(
        "POST",
        "/api/v1/events/expo-2027/sessions",
        {"title": "T", "starts_at": "2027-03-18T10:00", "ends_at": "2027-03-18T11:00"},
    )
    assert no_capacity.status_code == 422 and "capacity" in no_capacity.get_json()["fields"]
    other_room = api(
        "POST",
        "/api/v1/events/expo-2027/sessions",
        {
            "title": "T",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "room_id": 9999,
        },
    )
    assert other_room.status_code == 422 and "room_id" in other_room.get_json()["fields"]


def test_drafts_are_readable_with_an_organiser_token_only(api, client):
    body = {**EVENT, "status": "draft"}
    assert api("POST", "/api/v1/events", body).status_code == 201
    assert api("GET", "/api/v1/events/expo-2027").get_json()["status"] == "draft"
    assert api("GET", "/api/v1/events/expo-2027/sessions").status_code == 200
    assert client.get("/api/v1/events/expo-2027").status_code == 404
    assert client.get("/api/v1/events/expo-2027/sessions").status_code == 404
