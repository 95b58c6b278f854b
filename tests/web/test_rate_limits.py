"""Rate limits: a company behind one address can still register; failed attempts, guessed
links, lost-link requests and logins are held back; the answer is a clear 429 page or JSON
error with Retry-After. Limits are counted in Redis when configured, shared by processes."""

import os
import subprocess
import sys
import uuid

import pytest
from flask import g

from eventapp.extensions import db
from eventapp.ratelimits import DEFAULTS
from eventapp.services.links import manage_token
from tests.conftest import ORGANISER_PASSWORD
from tests.registering import register
from tests.security_support import end_transaction, other_app

OFFICE = {"REMOTE_ADDR": "198.51.100.10"}  # everyone behind the company's NAT
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.99"}


def per_minute(key: str) -> int:
    """The per-minute number of a limit string such as "20 per minute;200 per hour"."""
    first = DEFAULTS[key].split(";")[0]
    assert first.endswith("per minute")
    return int(first.split()[0])


@pytest.fixture
def limited(app, tmp_path):
    """An app with rate limits on, as in production, on the test database."""
    with other_app(app, tmp_path, RATELIMIT_ENABLED=True) as limited_app:
        yield limited_app


def register_form(client, slug, session_id, number, *, valid=True):
    data = {
        "name": f"Person {number}",
        "email": f"person{number}@example.org" if valid else "not-an-email",
        "organisation": "Big Company",
        "plenary": [],
        "consent": "y",
    }
    data[f"round_{session_id}"] = str(session_id)  # whichever round key; ignored if unknown
    return client.post(f"/events/{slug}/register", data=data, environ_base=OFFICE)


def test_an_office_behind_one_address_registers_more_people_than_the_failure_limit(
    app, limited, make_event, make_session
):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=500)
    slug, plenary_id = event.slug, plenary.id
    end_transaction()
    failure_limit = per_minute("RATELIMIT_REGISTRATION_FAILED")
    client = limited.test_client()
    people = failure_limit + 10
    for number in range(people):
        response = client.post(
            f"/events/{slug}/register",
            data={
                "name": f"Person {number}",
                "email": f"person{number}@example.org",
                "organisation": "Big Company",
                "plenary": [str(plenary_id)],
                "consent": "y",
            },
            environ_base=OFFICE,
        )
        assert response.status_code == 302, (number, response.status_code)
        if number % 5 == 0:  # and a few typos along the way
            typo = client.post(
                f"/events/{slug}/register",
                data={
                    "name": "Typo",
                    "email": "typo@",
                    "plenary": [str(plenary_id)],
                    "consent": "y",
                },
                environ_base=OFFICE,
            )
            assert typo.status_code == 422
    db.session.expire_all()
    assert db.session.get(type(plenary), plenary_id).seats_taken == people


def test_repeated_failed_registrations_get_a_clear_429_page(app, limited, make_event, make_session):
    event = make_event()
    plenary = make_session(event, kind="plenary")
    slug, plenary_id = event.slug, plenary.id
    end_transaction()
    client = limited.test_client()
    bad = {"name": "X", "email": "broken", "plenary": [str(plenary_id)], "consent": "y"}
    client.get("/lang/en")
    for _ in range(per_minute("RATELIMIT_REGISTRATION_FAILED")):
        assert (
            client.post(f"/events/{slug}/register", data=bad, environ_base=OFFICE).status_code
            == 422
        )
    blocked = client.post(f"/events/{slug}/register", data=bad, environ_base=OFFICE)
    assert blocked.status_code == 429
    assert blocked.mimetype == "text/html"
    assert "Too many requests" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    # Someone at another address is not affected.
    other = client.post(f"/events/{slug}/register", data=bad, environ_base=ELSEWHERE)
    assert other.status_code == 422


def test_the_api_answers_429_in_json_with_retry_after(app, tmp_path, make_event):
    slug = make_event().slug
    with other_app(
        app, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_REGISTRATION_FAILED="3 per minute"
    ) as limited_app:
        client = limited_app.test_client()
        for _ in range(3):
            response = client.post(f"/api/v1/events/{slug}/registrations", json={"name": ""})
            assert response.status_code == 422
        blocked = client.post(f"/api/v1/events/{slug}/registrations", json={"name": ""})
    assert blocked.status_code == 429
    assert blocked.is_json and blocked.json["error"] == "rate_limited"
    assert blocked.json["message"]
    assert int(blocked.headers["Retry-After"]) > 0


def test_guessing_private_links_is_held_back(app, limited):
    client = limited.test_client()
    attempts = per_minute("RATELIMIT_PRIVATE_LINK_FAILED")
    for number in range(attempts):
        guess = f"guessed-token-{number:04d}-{'x' * 20}"
        assert client.get(f"/manage/{guess}", environ_base=OFFICE).status_code == 404
    assert client.get("/manage/" + "y" * 43, environ_base=OFFICE).status_code == 429
    # The API's private-link endpoints share the same budget.
    assert client.get("/api/v1/registrations/" + "z" * 43, environ_base=OFFICE).status_code == 429
    # Calendar feeds don't: calendar services poll everyone's feed from a few addresses.
    assert client.get("/calendar/" + "z" * 43 + ".ics", environ_base=OFFICE).status_code == 404
    assert client.get("/manage/" + "y" * 43, environ_base=ELSEWHERE).status_code == 404


def test_every_lost_link_endpoint_and_every_api_endpoint_has_a_client_limit(app):
    from eventapp.ratelimits import API, LOST_LINK, limits_for

    arguments = {}
    for rule in app.url_map.iter_rules():
        arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    for endpoint in app.view_functions:
        limits = limits_for(endpoint, arguments.get(endpoint, set()))
        if endpoint.startswith("api."):
            assert API in limits, endpoint
        if "lost" in endpoint:
            assert LOST_LINK in limits, endpoint
        if "token" in arguments.get(endpoint, set()) and endpoint != "calendar.personal_feed":
            assert limits, endpoint
    assert app.extensions["eventapp_rate_limited"] >= {"public.register", "api.create_registration"}


def test_login_is_limited_per_client_and_account(app, limited, make_organiser):
    email = make_organiser().email
    end_transaction()
    client = limited.test_client()
    statuses = []
    for _ in range(12):
        response = client.post(
            "/organiser/login",
            data={"email": email, "password": "wrong password!!"},
            environ_base=OFFICE,
        )
        statuses.append(response.status_code)
    assert 429 in statuses, statuses
    assert statuses[0] == 401


def test_an_account_locks_after_failures_from_many_addresses(app, client, make_organiser):
    """Per account, across clients: services/accounts.authenticate locks the account."""
    from eventapp.services.backoffice.accounts import MAX_FAILED_LOGINS

    email = make_organiser().email
    client.get("/lang/en")
    for number in range(MAX_FAILED_LOGINS):
        g.pop("_login_user", None)
        response = client.post(
            "/organiser/login",
            data={"email": email, "password": "not the password"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{number + 1}"},
        )
        assert response.status_code == 401
    g.pop("_login_user", None)
    right = client.post(
        "/organiser/login",
        data={"email": email, "password": ORGANISER_PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.200"},
    )
    assert right.status_code == 401  # locked, even with the right password
    assert "or too many failed attempts" in right.get_data(as_text=True)


def test_lockout_ends_after_its_time(app, make_organiser, now):
    from eventapp.services.backoffice import accounts

    email = make_organiser().email
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.authenticate(email, "not the password", now)
    with pytest.raises(accounts.InvalidCredentials):
        accounts.authenticate(email, ORGANISER_PASSWORD, now + accounts.LOCKOUT / 2)
    organiser = accounts.authenticate(email, ORGANISER_PASSWORD, now + accounts.LOCKOUT)
    assert organiser.email == email and organiser.failed_logins == 0


def test_limits_are_off_when_disabled(app, client, make_event):
    """FLASK_RATELIMIT_ENABLED=false (the test config) switches every limit off."""
    slug = make_event().slug
    for _ in range(per_minute("RATELIMIT_REGISTRATION_FAILED") + 5):
        response = client.post(f"/api/v1/events/{slug}/registrations", json={})
        assert response.status_code == 422


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "no Redis here"
        return False


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

SECOND_WORKER = """
import sys
from eventapp import create_app
app = create_app({
    "TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": sys.argv[2],
    "RATELIMIT_KEY_PREFIX": sys.argv[3], "RATELIMIT_PRIVATE_LINK_FAILED": "2 per minute",
}, instance_path=sys.argv[4])
office = {"REMOTE_ADDR": "198.51.100.10"}
print(app.test_client().get("/manage/" + "q" * 43, environ_base=office).status_code)
"""


@pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")
def test_counts_in_redis_are_shared_by_separate_worker_processes(app, tmp_path):
    import redis

    prefix = f"eventapp-test-{uuid.uuid4().hex}"
    settings = dict(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        RATELIMIT_PRIVATE_LINK_FAILED="2 per minute",
    )
    try:
        with other_app(app, tmp_path, **settings) as first_worker:
            # Flask-Limiter keeps the first key prefix it was given for the whole process.
            from eventapp.extensions import limiter

            prefix = limiter._key_prefix or prefix
            client = first_worker.test_client()
            for _ in range(2):
                assert client.get("/manage/" + "q" * 43, environ_base=OFFICE).status_code == 404
            # Another process, as another gunicorn worker would be, sees the same count.
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    SECOND_WORKER,
                    app.config["SQLALCHEMY_DATABASE_URI"],
                    REDIS_URL,
                    prefix,
                    str(tmp_path / "second"),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
        assert result.stdout.strip().splitlines()[-1] == "429", result.stderr
        assert any(server_keys(prefix))
    finally:
        for key in server_keys(prefix):
            redis.Redis.from_url(REDIS_URL).delete(key)


def server_keys(prefix: str) -> list:
    import redis

    return list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{prefix}*"))


def test_with_redis_down_the_app_serves_and_still_limits_in_memory(app, tmp_path):
    from tests.mailserver import free_port

    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings = dict(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=closed,
        RATELIMIT_PRIVATE_LINK_FAILED="2 per minute",
    )
    with other_app(app, tmp_path, **settings) as served:
        client = served.test_client()
        assert client.get("/api/v1/events", environ_base=OFFICE).status_code == 200
        statuses = [
            client.get("/manage/" + "r" * 43, environ_base=OFFICE).status_code for _ in range(3)
        ]
    assert statuses == [404, 404, 429]


def test_lost_link_requests_are_limited_per_client(app, limited, make_event):
    slug = make_event().slug
    end_transaction()
    client = limited.test_client()
    allowed = per_minute("RATELIMIT_LOST_LINK_REQUESTS")
    for number in range(allowed):
        response = client.post(
            f"/events/{slug}/lost-link",
            data={"email": f"someone{number}@example.org"},
            environ_base=OFFICE,
        )
        assert response.status_code == 303, response.status_code
    blocked = client.post(
        f"/events/{slug}/lost-link", data={"email": "another@example.org"}, environ_base=OFFICE
    )
    assert blocked.status_code == 429
    assert (
        client.post(
            f"/events/{slug}/lost-link",
            data={"email": "another@example.org"},
            environ_base=ELSEWHERE,
        ).status_code
        == 303
    )


def test_retry_after_only_on_429_and_503(app, tmp_path, make_event, make_session):
    """Flask-Limiter adds Retry-After to every limited response; only a refusal keeps it."""
    event = make_event()
    slug, session_id = event.slug, make_session(event, kind="plenary", capacity=5).id
    end_transaction()
    with other_app(
        app, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_REGISTRATION_FAILED="2 per minute"
    ) as limited_app:
        client = limited_app.test_client()
        answers = [
            client.get("/api/v1/events"),
            client.get(f"/api/v1/events/{slug}/sessions"),
            client.post(
                f"/api/v1/events/{slug}/registrations",
                json={
                    "name": "Ada",
                    "email": "ada@example.org",
                    "session_ids": [session_id],
                    "consent": True,
                },
            ),
        ]
        answers += [
            client.post(f"/api/v1/events/{slug}/registrations", json={"name": ""}) for _ in range(3)
        ]
    statuses = [r.status_code for r in answers]
    assert statuses == [200, 200, 201, 422, 422, 429]
    assert [("Retry-After" in r.headers) for r in answers] == [False] * 5 + [True]
    assert "X-RateLimit-Limit" in answers[0].headers  # the budget is still told


def test_email_changes_are_limited_per_registration_not_per_office(
    app, tmp_path, make_event, make_session, now
):
    """The email-change form mails a link to an address its user typed, so each private link
    may send only a few; but typos that send nothing do not count, and colleagues behind
    the same office address (or the event's Wi-Fi) are not refused for one person's tries."""
    event = make_event()
    session = make_session(event, capacity=10)
    tokens = [
        manage_token(register(event, [session], now, f"colleague{n}@example.org")) for n in range(2)
    ]
    with other_app(app, tmp_path, RATELIMIT_ENABLED=True) as limited_app:
        client = limited_app.test_client()

        def ask(token, address):
            return client.post(
                f"/manage/{token}/email", data={"new_email": address}, environ_base=OFFICE
            )

        for _ in range(6):  # typos: refused with the reason, never a 429
            assert ask(tokens[0], "colleague0@example").status_code == 422
        for n in range(5):
            assert ask(tokens[0], f"new{n}@example.org").status_code == 303
        assert ask(tokens[0], "one.more@example.org").status_code == 429  # five links sent
        assert ask(tokens[1], "colleague1.new@example.org").status_code == 303  # a colleague
