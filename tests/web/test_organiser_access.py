"""Signing in and out, cookies, and each role against each programme page and API endpoint."""

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g
from sqlalchemy import select

from eventapp import create_app
from eventapp.extensions import db
from eventapp.models import Organiser
from tests.conftest import ORGANISER_PASSWORD

ROLES = ("anonymous", "checkin", "organiser", "admin")


@pytest.fixture
def programme(make_event, make_room, make_session):
    """An event with a room, a speaker's session and its ids, for building URLs."""
    from eventapp.services.programme import schedule

    event = make_event(slug="expo")
    room = make_room(event, "Studio 1", 40)
    session = make_session(event, room=room)
    speaker = schedule.create_speaker(None, event, {"name": "Ada"}, event.starts_at)
    db.session.commit()
    return {
        "slug": event.slug,
        "room_id": room.id,
        "session_id": session.id,
        "speaker_id": speaker.id,
    }


PAGES = [
    "/organiser/events/new",
    "/organiser/events/{slug}/programme",
    "/organiser/events/{slug}/conflicts",
    "/organiser/events/{slug}/edit",
    "/organiser/events/{slug}/move",
    "/organiser/events/{slug}/cancel",
    "/organiser/events/{slug}/rooms/new",
    "/organiser/events/{slug}/rooms/{room_id}/edit",
    "/organiser/events/{slug}/speakers/new",
    "/organiser/events/{slug}/speakers/{speaker_id}/edit",
    "/organiser/events/{slug}/sessions/new",
    "/organiser/events/{slug}/sessions/{session_id}/edit",
    "/organiser/events/{slug}/sessions/{session_id}/move",
    "/organiser/events/{slug}/sessions/{session_id}/cancel",
    "/organiser/events/{slug}/import",
    "/organiser/events/{slug}/audit",
]

# (method, path, body): the organiser API; bodies are invalid on purpose where that is
# enough to show the request got past the role check (422 instead of 401/403).
API = [
    ("POST", "/api/v1/events", {}),
    ("PATCH", "/api/v1/events/{slug}", {"name": "Renamed"}),
    ("POST", "/api/v1/events/{slug}/move", {}),
    ("POST", "/api/v1/events/{slug}/rooms", {}),
    ("POST", "/api/v1/events/{slug}/sessions", {}),
    ("PATCH", "/api/v1/sessions/{session_id}", {"title": "Renamed"}),
    ("DELETE", "/api/v1/sessions/{session_id}", None),
    ("GET", "/api/v1/events/{slug}/conflicts", None),
    ("GET", "/api/v1/events/{slug}/registrations", None),
    ("GET", "/api/v1/sessions/{session_id}/waitlist", None),
    ("POST", "/api/v1/events/{slug}/cancel", None),
]


def sign_in_as(role, make_organiser, login):
    if role == "anonymous":
        return None
    return login(make_organiser(role))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_programme_page(client, programme, make_organiser, login, role):
    """One sign-in per role, then every page (password hashing makes sign-ins slow)."""
    sign_in_as(role, make_organiser, login)
    for page in PAGES:
        url = page.format(**programme)
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302, url
            target = urlsplit(response.headers["Location"])
            assert target.path == "/organiser/login"
            assert parse_qs(target.query)["next"] == [url]
        elif role == "checkin":
            assert response.status_code == 403, url
        else:
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:500])


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_lets_every_role_in_and_sends_anonymous_to_login(
    client, make_organiser, login, role
):
    sign_in_as(role, make_organiser, login)
    response = client.get("/organiser/")
    if role == "anonymous":
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/organiser/login"
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_api_endpoint(client, programme, make_organiser, api_token, role):
    headers = {}
    if role != "anonymous":
        headers["Authorization"] = f"Bearer {api_token(make_organiser(role))}"
    expected = {"anonymous": {401}, "checkin": {403}}.get(role, {200, 201, 422})
    for method, path, body in API:
        url = path.format(**programme)
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code in expected, (method, url, response.get_json())
        assert response.is_json


def test_api_ignores_the_session_cookie(client, programme, make_organiser, login):
    login(make_organiser("admin"))
    response = client.get(f"/api/v1/events/{programme['slug']}/conflicts")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_a_revoked_token_stops_working(client, programme, make_organiser, api_token, now):
    from eventapp.services.backoffice import accounts

    organiser = make_organiser()
    headers = {"Authorization": f"Bearer {api_token(organiser)}"}
    url = f"/api/v1/events/{programme['slug']}/conflicts"
    assert client.get(url, headers=headers).status_code == 200
    assert accounts.revoke_api_tokens(organiser.email, now) == 1
    db.session.commit()
    assert client.get(url, headers=headers).status_code == 401


def test_login_goes_to_a_same_site_next_page_only(client, make_organiser):
    organiser = make_organiser()
    credentials = {"email": organiser.email.upper(), "password": ORGANISER_PASSWORD}
    response = client.post("/organiser/login?next=/organiser/events/new", data=credentials)
    assert response.status_code == 302
    assert response.headers["Location"] == "/organiser/events/new"

    client.post("/organiser/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:1"):
        response = client.post(f"/organiser/login?next={evil}", data=credentials)
        assert response.headers["Location"] == "/organiser/", evil
        client.post("/organiser/logout")


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_wrong_password_is_refused_and_repeated_failures_lock_the_account(
    english, client, make_organiser
):
    organiser = make_organiser()
    wrong = {"email": organiser.email, "password": "not the password at all"}
    for _ in range(5):
        response = client.post("/organiser/login", data=wrong)
        assert response.status_code == 401
        assert "Wrong email address or password" in response.get_data(as_text=True)
    right = {"email": organiser.email, "password": ORGANISER_PASSWORD}
    response = client.post("/organiser/login", data=right)
    assert response.status_code == 401
    assert "or too many failed attempts" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Organiser.locked_until)) is not None


def test_unknown_email_gets_the_same_answer(english, client):
    response = client.post(
        "/organiser/login", data={"email": "nobody@example.org", "password": "whatever-12345"}
    )
    assert response.status_code == 401
    assert "Wrong email address or password" in response.get_data(as_text=True)


def test_password_is_stored_hashed(make_organiser):
    organiser = make_organiser()
    assert ORGANISER_PASSWORD not in organiser.password_hash
    assert organiser.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_session_cookie_is_httponly_and_samesite(client, make_organiser):
    organiser = make_organiser()
    response = client.post(
        "/organiser/login", data={"email": organiser.email, "password": ORGANISER_PASSWORD}
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests


def test_cookies_are_secure_behind_tls(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PREFERRED_URL_SCHEME": "https",
            "SECRET_KEY": "x",
            "SERVER_NAME_FOR_LINKS": "https://events.example.org",
        },
        instance_path=str(tmp_path),
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    plain = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"},
        instance_path=str(tmp_path),
    )
    assert plain.config["SESSION_COOKIE_SECURE"] is False


def test_logout_needs_post_with_csrf_token(app, client, make_organiser, login):
    login(make_organiser())
    assert client.get("/organiser/logout").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True
    client.post("/organiser/logout")  # no token: still signed in
    assert client.get("/organiser/events/new").status_code == 200
    page = client.get("/organiser/events/new").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/organiser/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/organiser/events/new").status_code == 302


def test_a_password_change_ends_open_sessions(client, make_organiser, login):
    from eventapp.services.backoffice import accounts

    organiser = login(make_organiser())
    assert client.get("/organiser/events/new").status_code == 200
    accounts.set_password(organiser.email, "another long password")
    db.session.commit()
    # The test's app context outlives requests; forget the user Flask-Login cached in g.
    g.pop("_login_user", None)
    assert client.get("/organiser/events/new").status_code == 302
