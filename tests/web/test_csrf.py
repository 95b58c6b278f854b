"""CSRF: every HTML route that changes something refuses a POST without a valid token.

The routes are read from the app's URL map, so a new form is covered the day it is added.
The JSON API is exempt (it authenticates with bearer tokens or private links, not cookies).
"""

import re

import pytest

from tests.security_support import end_transaction, other_app

DUMMY = {"int": "1", "default": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}


def post_routes(app) -> list[str]:
    """A concrete path for every non-API route that accepts POST."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<int:[^>]+>", DUMMY["int"], rule.rule)
        path = re.sub(r"<[^>]+>", DUMMY["default"], path)
        paths.append(path)
    return sorted(paths)


@pytest.fixture
def csrf_app(app, tmp_path):
    with other_app(app, tmp_path, WTF_CSRF_ENABLED=True) as protected:
        yield protected


def test_every_form_post_without_a_token_is_refused(app, csrf_app, make_organiser):
    from tests.conftest import ORGANISER_PASSWORD

    email = make_organiser("admin").email
    end_transaction()
    paths = post_routes(csrf_app)
    assert len(paths) >= 10 and "/organiser/login" in paths
    client = csrf_app.test_client()
    client.get("/lang/en")
    # Signed in (with a token, through the real form), so nothing is refused for lack of it.
    login_page = client.get("/organiser/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    signed_in = client.post(
        "/organiser/login",
        data={"email": email, "password": ORGANISER_PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 302  # control: with its token the form works
    for path in paths:
        response = client.post(path, data={"email": "x@example.org", "name": "x"})
        assert response.status_code == 400, (
            f"POST {path} without CSRF token: {response.status_code}"
        )
        assert "expired" in response.get_data(as_text=True), path
        wrong = client.post(path, data={"csrf_token": "forged"})
        assert wrong.status_code == 400, f"POST {path} with a forged token: {wrong.status_code}"


def test_a_token_from_another_session_is_refused(app, csrf_app, make_event):
    slug = make_event().slug
    end_transaction()
    mallory = csrf_app.test_client()
    page = mallory.get(f"/events/{slug}/register").get_data(as_text=True)
    stolen = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    victim = csrf_app.test_client()
    victim.get(f"/events/{slug}/register")
    response = victim.post(
        f"/events/{slug}/register",
        data={"csrf_token": stolen, "name": "V", "email": "v@example.org", "consent": "y"},
    )
    assert response.status_code == 400


def test_the_json_api_needs_no_csrf_token(app, csrf_app, make_event):
    slug = make_event().slug
    end_transaction()
    response = csrf_app.test_client().post(f"/api/v1/events/{slug}/registrations", json={})
    assert response.status_code == 422  # judged on its content, not refused for CSRF
