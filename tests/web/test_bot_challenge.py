"""The self-hosted proof-of-work challenge (ALTCHA) on the registration form and the
anonymous API: fails closed, one solution per registration, organiser clients spared,
switchable per event. Solutions are computed by the altcha package's own solver, the
client side of the protocol, independent of the server code under test."""

from datetime import UTC, datetime, timedelta

import altcha
import pytest

from eventapp import bot_challenge
from eventapp.extensions import db


@pytest.fixture
def challenged(app, make_event, make_session):
    app.config.update(BOT_CHALLENGE_ENABLED=True, BOT_CHALLENGE_COST=200)
    event = make_event(slug="si")
    plenary = make_session(event, kind="plenary", capacity=50)
    return event, plenary.id


def solved(challenge_json: dict) -> str:
    challenge = altcha.v2.Challenge.from_dict(challenge_json)
    solution = altcha.solve_challenge(challenge)
    return altcha.Payload(challenge=challenge, solution=solution).to_base64()


def register(client, plenary_id, email, payload=None, **kwargs):
    body = {"name": "P", "email": email, "session_ids": [plenary_id], "consent": True}
    if payload is not None:
        body["altcha"] = payload
    return client.post("/api/v1/events/si/registrations", json=body, **kwargs)


def test_the_challenge_endpoint_gives_a_fresh_signed_challenge(client, challenged):
    first = client.get("/challenge")
    second = client.get("/challenge")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.json["parameters"]["algorithm"] == "SHA-256"
    assert first.json["signature"] != second.json["signature"]


def test_the_api_fails_closed_and_takes_one_registration_per_solution(client, challenged):
    _, plenary = challenged
    for payload in (None, "", "not base64 at all", "eyJ4Ijog" * 10):
        refused = register(client, plenary, "a@example.org", payload)
        assert refused.status_code == 403 and refused.json["error"] == "challenge_failed"
    payload = solved(client.get("/challenge").json)
    assert register(client, plenary, "a@example.org", payload).status_code == 201
    replayed = register(client, plenary, "b@example.org", payload)
    assert replayed.status_code == 403
    assert (
        register(
            client, plenary, "b@example.org", solved(client.get("/challenge").json)
        ).status_code
        == 201
    )


def test_a_forged_or_expired_challenge_is_refused(app, client, challenged):
    _, plenary = challenged
    forged = dict(client.get("/challenge").json)
    forged["parameters"] = {**forged["parameters"], "cost": 1}
    assert register(client, plenary, "f@example.org", solved(forged)).status_code == 403
    with app.test_request_context():
        old = bot_challenge.new_challenge(datetime.now(UTC) - timedelta(hours=1))
    assert register(client, plenary, "e@example.org", solved(old)).status_code == 403


def test_organiser_clients_are_not_challenged(client, challenged, make_organiser, api_token):
    _, plenary = challenged
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    assert register(client, plenary, "o@example.org", headers=headers).status_code == 201


def test_the_challenge_switches_off_per_event(client, challenged):
    event, plenary = challenged
    event.bot_challenge = False
    db.session.commit()
    assert register(client, plenary, "s@example.org").status_code == 201


def test_the_form_carries_the_widget_and_a_message_without_javascript(client, challenged):
    _, plenary = challenged
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/events/si/register").get_data(as_text=True)
    assert '<altcha-widget challenge="/challenge" name="altcha" language="en"' in page
    assert "data-needs-javascript" in page and "needs JavaScript" in page
    assert 'src="/static/vendor/altcha/altcha.min.js' in page  # our own origin, no CDN
    data = {"name": "Ada", "email": "ada@example.org", "plenary": [str(plenary)], "consent": "y"}
    without = client.post("/events/si/register", data=data)
    assert without.status_code == 422
    assert "not a robot" in without.get_data(as_text=True)
    with_solution = client.post(
        "/events/si/register", data=data | {"altcha": solved(client.get("/challenge").json)}
    )
    assert with_solution.status_code == 302
