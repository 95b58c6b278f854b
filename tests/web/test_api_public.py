"""The public JSON API: the same rules as the form, as JSON with fitting status codes."""

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee


@pytest.fixture
def event_with_sessions(make_event, make_session):
    event = make_event(slug="si")
    plenary = make_session(event, start=0, kind="plenary", capacity=100, title="Opening")
    small = make_session(event, start=1, capacity=1, title="Lab 4")
    clash = make_session(event, start=1.5, capacity=10, title="Cobots")
    return event, plenary, small, clash


def body(session_ids, **overrides):
    data = {
        "name": "Ada",
        "email": "ada@example.org",
        "organisation": "AE",
        "session_ids": session_ids,
        "consent": True,
    }
    data.update(overrides)
    return data


def attendee_count():
    return db.session.scalar(select(func.count()).select_from(Attendee))


def test_events_and_sessions_with_seats(client, event_with_sessions):
    event, plenary, small, _ = event_with_sessions
    events = client.get("/api/v1/events").get_json()["events"]
    assert [e["slug"] for e in events] == ["si"]
    detail = client.get("/api/v1/events/si").get_json()
    assert detail["timezone"] == "Europe/Amsterdam"
    sessions = client.get("/api/v1/events/si/sessions").get_json()["sessions"]
    first = sessions[0]
    assert set(first) >= {
        "id",
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "room",
        "capacity",
        "seats_taken",
        "seats_left",
        "waitlist_length",
        "status",
    }
    assert first["starts_at"] == "2027-03-18T10:00:00+01:00"


def test_create_registration_then_read_change_cancel_by_token(client, event_with_sessions):
    _, plenary, small, clash = event_with_sessions
    created = client.post("/api/v1/events/si/registrations", json=body([plenary.id, small.id]))
    assert created.status_code == 201
    data = created.get_json()
    assert data["status"] == "confirmed" and data["reference"]
    assert {(s["id"], s["status"]) for s in data["sessions"]} == {
        (plenary.id, "confirmed"),
        (small.id, "confirmed"),
    }
    token = data["manage_url"].rsplit("/", 1)[1]
    assert data["calendar_url"].endswith(".ics")

    assert client.get(f"/api/v1/registrations/{token}").get_json()["email"] == "ada@example.org"
    changed = client.patch(f"/api/v1/registrations/{token}", json={"session_ids": [clash.id]})
    assert changed.status_code == 200
    assert [s["id"] for s in changed.get_json()["sessions"]] == [clash.id]
    cancelled = client.delete(f"/api/v1/registrations/{token}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "payload_for, status, code",
    [
        (lambda p, s, c: body([s.id, c.id]), 409, "schedule_conflict"),
        (lambda p, s, c: body([p.id], email="bad"), 422, "invalid"),
        (lambda p, s, c: body([p.id], consent=False), 422, "invalid"),
        (lambda p, s, c: body([424242]), 422, "invalid"),
        (lambda p, s, c: body(["1"]), 422, "invalid"),
        (lambda p, s, c: body(p.id), 422, "invalid"),
        (lambda p, s, c: body([p.id], name="x" * 100_000), 422, "invalid"),
        (lambda p, s, c: body([p.id], name=["list"]), 422, "invalid"),
        (lambda p, s, c: body([p.id], waitlist="yes"), 422, "invalid"),
    ],
)
def test_rule_violations_are_json_errors_and_write_nothing(
    client, event_with_sessions, payload_for, status, code
):
    _, plenary, small, clash = event_with_sessions
    response = client.post(
        "/api/v1/events/si/registrations", json=payload_for(plenary, small, clash)
    )
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert response.get_json()["message"]
    assert attendee_count() == 0


def test_invalid_errors_name_the_fields(client, event_with_sessions):
    response = client.post("/api/v1/events/si/registrations", json={"session_ids": []})
    assert set(response.get_json()["fields"]) >= {"name", "email", "consent", "session_ids"}


def test_full_session_is_409_full_unless_waitlisted(client, event_with_sessions):
    _, _, small, _ = event_with_sessions
    client.post("/api/v1/events/si/registrations", json=body([small.id], email="a@example.org"))
    full = client.post("/api/v1/events/si/registrations", json=body([small.id]))
    assert full.status_code == 409 and full.get_json()["error"] == "full"
    assert full.get_json()["sessions"][0]["id"] == small.id
    waiting = client.post("/api/v1/events/si/registrations", json=body([small.id], waitlist=True))
    assert waiting.status_code == 201 and waiting.get_json()["status"] == "waitlisted"


def test_already_registered(client, event_with_sessions):
    _, plenary, _, _ = event_with_sessions
    client.post("/api/v1/events/si/registrations", json=body([plenary.id]))
    again = client.post(
        "/api/v1/events/si/registrations", json=body([plenary.id], email=" ADA@example.org")
    )
    assert again.status_code == 409 and again.get_json()["error"] == "already_registered"
    assert attendee_count() == 1


@pytest.mark.parametrize(
    "data, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("name=Ada", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ],
)
def test_malformed_bodies_are_400(client, event_with_sessions, data, content_type):
    response = client.post("/api/v1/events/si/registrations", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_unknown_event_and_token_are_json_404(client, event_with_sessions):
    assert client.get("/api/v1/events/nope").get_json()["error"] == "not_found"
    assert client.get("/api/v1/registrations/" + "x" * 43).status_code == 404
    assert client.get("/api/v1/registrations/short").status_code == 404


def test_draft_event_is_invisible_and_closed_event_refuses(client, make_event, make_session):
    draft = make_event(slug="draft", status="draft")
    closed = make_event(slug="closed", status="closed")
    session = make_session(closed)
    make_session(draft)
    assert client.get("/api/v1/events/draft").status_code == 404
    response = client.post("/api/v1/events/closed/registrations", json=body([session.id]))
    assert response.status_code == 409
    assert response.get_json()["error"] == "registration_closed"


@pytest.mark.parametrize(
    ("locale", "request_language", "words"),
    [("en", "nl", "We store your name"), ("nl", "en", "We bewaren je naam")],
)
def test_consent_is_recorded_in_the_attendees_language_not_the_requests(
    client, event_with_sessions, locale, request_language, words
):
    """The API says which language the attendee read the notice in; the record holds the
    words in that language (it used to say [en] and hold the request's language)."""
    _, plenary, _, _ = event_with_sessions
    response = client.post(
        "/api/v1/events/si/registrations",
        json=body([plenary.id], locale=locale),
        headers={"Accept-Language": request_language},
    )
    assert response.status_code == 201
    consent = db.session.scalar(select(Attendee.consent_text))
    assert f"api [{locale}]" in consent
    assert words in consent


@pytest.mark.parametrize("asked", ["de", "", ["nl"], None], ids=["de", "empty", "list", "null"])
def test_a_language_the_app_does_not_speak_gives_the_events(client, event_with_sessions, asked):
    event, plenary, _, _ = event_with_sessions
    response = client.post("/api/v1/events/si/registrations", json=body([plenary.id], locale=asked))
    assert response.status_code == 201
    attendee = db.session.scalar(select(Attendee))
    assert attendee.locale == event.default_locale
    assert f"api [{event.default_locale}]" in attendee.consent_text


@pytest.mark.parametrize(
    "session_ids",
    [[2**31], [2**63], [-1], ["1"], [True], [1.5], "1", [None]],
    ids=[
        "int32-overflow",
        "int64-overflow",
        "negative",
        "string",
        "bool",
        "float",
        "not-a-list",
        "null",
    ],
)
def test_session_ids_out_of_range_are_422_and_write_nothing(
    client, event_with_sessions, session_ids
):
    """The event is read together with the chosen sessions (programme.get_event's
    with_sessions) before the body is validated: ids a column can't hold must not reach
    that query (a 500 from the database), but the validation's 422."""
    _, plenary, _, _ = event_with_sessions
    ids = [plenary.id, *session_ids] if isinstance(session_ids, list) else session_ids
    response = client.post("/api/v1/events/si/registrations", json=body(ids))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["fields"]["session_ids"]
    assert attendee_count() == 0
