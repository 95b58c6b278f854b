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


def test_only_a_token_of_this_events_team_skips_the_challenge(
    client, challenged, make_event, make_organiser, api_token
):
    """Roles are per event: an organiser of another event, or a check-in account, is not
    this event's organiser client. Their token used to skip the challenge (and with it the
    per-address limits and the email hold) at every event."""
    _, plenary = challenged
    elsewhere = make_organiser("organiser", events=[make_event(slug="other", team=[])])
    checker = make_organiser("checkin")  # a check-in role at "si"
    for account in (elsewhere, checker):
        headers = {"Authorization": f"Bearer {api_token(account)}"}
        refused = register(client, plenary, f"{account.role}@example.org", headers=headers)
        assert refused.status_code == 403 and refused.json["error"] == "challenge_failed"


class StoreDown:
    """The shared store (Redis) unreachable: every call fails, as redis-py's do."""

    def incr(self, *args, **kwargs):
        raise ConnectionError("Redis is down")


def test_a_solution_is_still_used_up_while_the_shared_store_is_down(
    app, client, challenged, monkeypatch
):
    """With Redis down, used solutions were not remembered at all: one solution registered
    again and again until its challenge expired. Now each process remembers them in its own
    memory meanwhile."""
    _, plenary = challenged
    monkeypatch.setitem(app.extensions, "bot_challenge_used", StoreDown())
    payload = solved(client.get("/challenge").json)
    assert register(client, plenary, "first@example.org", payload).status_code == 201
    replayed = register(client, plenary, "again@example.org", payload)
    assert replayed.status_code == 403 and replayed.json["error"] == "challenge_failed"
