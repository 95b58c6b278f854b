"""The attendee's own registration through the JSON API: view, change, cancel, offers,
export and erasure, with the same rules (and the same atomicity) as the private page."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.models.types import utcnow
from eventapp.services.registration import register as service
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)


def sign_up(event, session_ids, email, *, waitlist=True):
    data = RegistrationInput(
        name="Ada Lovelace",
        email=email,
        organisation="Engines BV",
        session_ids=session_ids,
        waitlist=waitlist,
        consent=True,
    )
    result = service.register(event, data, utcnow())
    db.session.commit()
    return result.attendee, result.manage_token


@pytest.fixture
def programme(make_event, make_session):
    event = make_event()
    roomy = make_session(event, start=0, capacity=10, title="Cobots")
    tiny = make_session(event, start=0, capacity=1, title="Lab demo")
    later = make_session(event, start=2, capacity=10, title="Digital twins")
    return event, roomy, tiny, later


def url(token, suffix=""):
    return f"/api/v1/registrations/{token}{suffix}"


def test_view_shows_sessions_with_status_and_position(client, programme):
    event, roomy, tiny, later = programme
    sign_up(event, [tiny.id], "holder@example.org")
    _, token = sign_up(event, [tiny.id, later.id], "ada@example.org")

    body = client.get(url(token)).get_json()

    by_id = {s["id"]: s for s in body["sessions"]}
    assert by_id[tiny.id]["status"] == "waitlisted" and by_id[tiny.id]["waitlist_position"] == 1
    assert by_id[later.id]["status"] == "confirmed" and by_id[later.id]["offer_expires_at"] is None
    assert body["manage_url"].endswith(f"/manage/{token}")
    assert client.get(url("x" * 43)).status_code == 404


def test_patch_changes_details_and_sessions_together(client, programme):
    event, roomy, tiny, later = programme
    attendee, token = sign_up(event, [roomy.id], "ada@example.org")

    response = client.patch(
        url(token),
        json={
            "name": "Ada King",
            "organisation": "",
            "locale": "en",
            "session_ids": [later.id],
        },
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["organisation"], body["locale"]) == ("Ada King", "", "en")
    assert [s["id"] for s in body["sessions"]] == [later.id]
    assert confirmed_count_matches_counter(roomy.id) and confirmed_count_matches_counter(later.id)


def test_patch_that_fails_changes_nothing(client, programme):
    event, roomy, tiny, later = programme
    sign_up(event, [tiny.id], "holder@example.org")
    attendee, token = sign_up(event, [roomy.id], "ada@example.org")

    response = client.patch(url(token), json={"name": "Changed", "session_ids": [tiny.id]})

    assert response.status_code == 409
    assert response.get_json()["error"] == "full"
    assert response.get_json()["sessions"][0]["id"] == tiny.id
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).name == "Ada Lovelace"
    rows = db.session.execute(
        select(Registration.session_id, Registration.status).where(
            Registration.attendee_id == attendee.id
        )
    ).all()
    assert rows == [(roomy.id, "confirmed")]
    assert confirmed_count_matches_counter(roomy.id)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"waitlist": "yes", "session_ids": [1]}, "waitlist"),
        ({"name": ""}, "name"),
        ({"locale": "fr"}, "locale"),
        ({"organisation": 5}, "organisation"),
        ({"session_ids": "1,2"}, "session_ids"),
    ],
)
def test_patch_reports_invalid_fields(client, programme, body, field):
    event, roomy, *_ = programme
    _, token = sign_up(event, [roomy.id], "ada@example.org")
    response = client.patch(url(token), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_delete_cancels_and_a_second_delete_is_a_conflict(client, programme):
    event, roomy, tiny, later = programme
    attendee, token = sign_up(event, [tiny.id], "ada@example.org")
    _, waiting = sign_up(event, [tiny.id], "bob@example.org")

    response = client.delete(url(token))

    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert client.get(url(waiting)).get_json()["sessions"][0]["status"] == "confirmed"
    assert client.delete(url(token)).status_code == 409


def test_export_and_erase(client, programme):
    event, roomy, *_ = programme
    attendee, token = sign_up(event, [roomy.id], "ada@example.org")

    export = client.get(url(token, "/export"))
    assert export.status_code == 200
    assert export.get_json()["attendee"]["email"] == "ada@example.org"

    assert client.delete(url(token, "/data")).status_code == 204
    assert client.get(url(token)).status_code == 404
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).email.endswith("@anonymised.invalid")
    assert confirmed_count_matches_counter(roomy.id)


def test_offers_through_the_api(client, make_event, make_session):
    event = make_event(promotion_mode="offer", offer_hours=12)
    lab = make_session(event, capacity=1)
    _, holder = sign_up(event, [lab.id], "holder@example.org")
    _, first = sign_up(event, [lab.id], "first@example.org")
    _, second = sign_up(event, [lab.id], "second@example.org")
    client.delete(url(holder))

    offered = client.get(url(first)).get_json()["sessions"][0]
    assert offered["status"] == "offered" and offered["offer_expires_at"]

    assert client.post(url(second, f"/offers/{lab.id}/accept")).status_code == 404
    assert client.post(url(first, f"/offers/{lab.id}/decline")).status_code == 200
    accepted = client.post(url(second, f"/offers/{lab.id}/accept"))
    assert accepted.status_code == 200
    assert accepted.get_json()["sessions"][0]["status"] == "confirmed"
    assert confirmed_count_matches_counter(lab.id)
